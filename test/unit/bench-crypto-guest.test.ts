/**
 * armkit bench crypto --guest, the pure parts: the guest's /init runs openssl speed in software and through the
 * engine between markers (and reports the openssl-speed check), armkit reads each output back from the serial
 * log, and the report labels every figure as emulated software drivers, never offload or hardware.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findArch } from '../../src/arch.js';
import { emulatedVerdict, mergeRuns, speedOutputsFromSerial } from '../../src/commands/bench-crypto-guest.js';
import type { GuestAssets } from '../../src/guest/assets.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { type GuestTestInput, planGuestTest } from '../../src/plan/guest-test.js';
import { renderChart } from '../../src/speed/chart.js';
import { parseSpeedOutput } from '../../src/speed/parse.js';
import { buildReport } from '../../src/speed/report.js';
import type { Step } from '../../src/step.js';
import { wellFormedXml } from './helpers.js';

const RELEASE = '6.1.0-57-arm64';
const assets: GuestAssets = { kernelImage: '/k/vmlinuz', modulesRoot: '/m', busybox: '/bb/busybox', prepare: [], source: 'Debian linux-image' };
const OPENSSL = { packages: ['/o/openssl.rpm', '/o/openssl-libs.rpm'], engine: 'devcrypto', configPath: '/etc/pki/tls/devcrypto.cnf', runtime: [] };

function input(overrides: Partial<GuestTestInput> = {}): GuestTestInput {
  return {
    arch: findArch('aarch64'),
    release: RELEASE,
    module: 'cryptodev',
    packages: ['/out/kmod.rpm'],
    inputs: { devel: '/out/devel.rpm', srpm: '/out/src.rpm' },
    assets,
    kat: { run: { store: '/c/kat' } },
    upstream: { skip: 'none' },
    initramfs: { store: '/c/initramfs.cpio.gz' },
    toolPrefix: 'aarch64-linux-gnu-',
    openssl: { run: OPENSSL },
    work: '/w',
    timeoutSeconds: 300,
    ...overrides,
  };
}

const initOf = (steps: Step[]) => (steps.find((s) => s.kind === 'write' && s.path === '/w/guest/root/init') as Extract<Step, { kind: 'write' }>).content;

describe("openssl speed in armkit test's guest", () => {
  it('runs each algorithm in software (no engine configuration) and through the engine, between markers, with times', () => {
    const plan = planGuestTest(input({ speed: { algos: ['aes-128-cbc', 'sha256'], seconds: 2, sizes: [16, 8192] } }));
    const init = initOf(plan.steps);
    for (const algo of ['aes-128-cbc', 'sha256']) {
      expect(init).toContain(
        `echo "ARMKIT:SPEED-BEGIN ${algo}-software-16"\nOPENSSL_CONF=/dev/null sh -c 'exec 2>&1; "$@"; s=$?; echo ARMKIT:TIMES; times; exit $s' sh openssl speed -elapsed -seconds 2 -evp ${algo} -bytes 16 ||`,
      );
      expect(init).toContain(
        `OPENSSL_CONF=/tmp/armkit-openssl.cnf sh -c 'exec 2>&1; "$@"; s=$?; echo ARMKIT:TIMES; times; exit $s' sh openssl speed -elapsed -seconds 2 -engine devcrypto -evp ${algo} -bytes 8192 ||`,
      );
      expect(init).toContain(`echo "ARMKIT:SPEED-END ${algo}-engine-8192"`);
      expect(init).not.toContain(`${algo}-engine-64`);
    }
    // After the engine's configuration is written (the engine run reads it), before the module is unloaded.
    expect(init.indexOf('ARMKIT:SPEED-BEGIN')).toBeGreaterThan(init.indexOf('> /tmp/armkit-openssl.cnf'));
    expect(init.indexOf('ARMKIT:SPEED-BEGIN')).toBeLessThan(init.indexOf('modprobe -r cryptodev'));
    const report = plan.steps.find((s) => s.kind === 'guest-report') as Extract<Step, { kind: 'guest-report' }>;
    expect(report.expected).toContain('openssl-speed');
  });

  it('runs no speed without the OpenSSL under test, and none unless asked', () => {
    expect(
      initOf(planGuestTest(input({ speed: { algos: ['aes-128-cbc'], seconds: 1, sizes: [16] }, openssl: { skip: 'no real header' } })).steps),
    ).not.toContain('ARMKIT:SPEED');
    expect(initOf(planGuestTest(input()).steps)).not.toContain('ARMKIT:SPEED');
  });

  it('reads each output back from the serial log, kernel lines and carriage returns around it', () => {
    const sample = readFileSync(join(PACKAGE_ROOT, 'test/fixtures/speed/openssl-3.0.19-x86_64-elapsed.txt'), 'utf8');
    const serial = [
      '[    1.0] Booting Linux',
      'ARMKIT:CHECK openssl-roundtrip pass x',
      'ARMKIT:SPEED-BEGIN aes-128-cbc-software',
      ...sample.split('\n').map((l) => `${l}\r`),
      'ARMKIT:SPEED-END aes-128-cbc-software',
      'ARMKIT:SPEED-BEGIN aes-128-cbc-engine',
      'engine "devcrypto" set.',
      'ARMKIT:SPEED-END aes-128-cbc-engine',
      'ARMKIT:SPEED-BEGIN never-ended',
      'half',
    ].join('\n');
    const outputs = speedOutputsFromSerial(serial);
    expect([...outputs.keys()]).toEqual(['aes-128-cbc-software', 'aes-128-cbc-engine']);
    expect(outputs.get('aes-128-cbc-software')).not.toContain('\r');
    const [run] = parseSpeedOutput(outputs.get('aes-128-cbc-software')!, 'serial');
    const [fixture] = parseSpeedOutput(sample, 'fixture');
    expect(run!.algorithms).toEqual(fixture!.algorithms);
  });

  it('labels the engine run as emulated software drivers: not offload, and so in the chart', () => {
    const sample = readFileSync(join(PACKAGE_ROOT, 'test/fixtures/speed/openssl-3.0.19-x86_64-elapsed.txt'), 'utf8');
    const [software] = parseSpeedOutput(sample, 'sw');
    const [engine] = parseSpeedOutput(sample, 'engine');
    const verdict = emulatedVerdict('devcrypto', 'qemu-system-aarch64 -M virt -cpu cortex-a57');
    expect(verdict.status).toBe('not-offload');
    expect(verdict.reason).toMatch(/QEMU guest .*TCG.*software.*not hardware figures$/);
    const report = buildReport(
      [
        { label: 'emulated', role: 'software', roleFrom: 'measured', run: software! },
        { label: 'emulated software drivers', role: 'engine', roleFrom: 'measured', run: engine!, offload: verdict },
      ],
      { mode: 'measure', environment: 'EMULATED, NOT HARDWARE FIGURES: test' },
    );
    const svg = renderChart(report);
    wellFormedXml(svg);
    expect(svg).toContain('engine (emulated software drivers): not offload');
    expect(svg).toContain('EMULATED, NOT HARDWARE FIGURES');
    expect(svg).toContain('NOT offload: measured in a QEMU guest');
  });

  it('merges the one-size processes of a role into one run, each size with the CPU its own process used', () => {
    const one = (size: number, count: number, user: string, sys: string) =>
      parseSpeedOutput(
        `Doing AES-128-CBC for 1s on ${size} size blocks: ${count} AES-128-CBC's in 1.00s\nARMKIT:TIMES\n0m0.01s 0m0.00s\n${user} ${sys}\n`,
        `s${size}`,
      )[0]!;
    const merged = mergeRuns([one(8192, 382, '0m0.20s', '0m0.90s'), one(16, 1287, '0m0.50s', '0m0.40s')], 'guest (engine)');
    expect(merged.source).toBe('guest (engine)');
    expect(merged.algorithms).toHaveLength(1);
    expect(merged.algorithms[0]!.samples.map((x) => [x.blockSize, x.count, x.cpuSeconds])).toEqual([
      [16, 1287, 0.9],
      [8192, 382, 1.1],
    ]);
  });
});
