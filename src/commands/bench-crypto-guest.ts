/**
 * armkit bench crypto --guest ARCH: the same `openssl speed -evp` runs, software and through the engine, inside
 * `armkit test`'s QEMU guest with the armkit-built cryptodev and OpenSSL packages installed as on a board. It
 * proves the whole path (module, /dev/crypto, engine, configuration) end to end. The figures are an emulated CPU's
 * software drivers, under TCG: the report says so everywhere, and never calls the engine offload.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { findArch } from '../arch.js';
import { latestBuild } from '../artifacts/builds.js';
import { mismatch, usageError } from '../errors.js';
import { parseSpeedOutput, type SpeedRun } from '../speed/parse.js';
import { DEFAULT_SIZES } from '../speed/plan.js';
import { buildReport, type CryptoReport, type OffloadVerdict, type RunInput } from '../speed/report.js';
import type { BenchCryptoOptions } from './bench-options.js';
import type { Env } from './kmod-input.js';
import { info } from './output.js';

/** The outputs the guest printed between `ARMKIT:SPEED-BEGIN label` and `ARMKIT:SPEED-END label`, by label. */
export function speedOutputsFromSerial(serial: string): Map<string, string> {
  const out = new Map<string, string>();
  let label: string | undefined;
  let lines: string[] = [];
  for (const raw of serial.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const begin = /^ARMKIT:SPEED-BEGIN (\S+)$/.exec(line);
    if (begin) {
      label = begin[1];
      lines = [];
      continue;
    }
    if (label && line === `ARMKIT:SPEED-END ${label}`) {
      out.set(label, `${lines.join('\n')}\n`);
      label = undefined;
      continue;
    }
    if (label) lines.push(line);
  }
  return out;
}

/** Runs of one role (one process per block size, per algorithm) as one run: each algorithm's samples together, by size. */
export function mergeRuns(runs: SpeedRun[], source: string): SpeedRun {
  const merged: SpeedRun = { ...runs[0]!, source, algorithms: [], engineMessages: [...new Set(runs.flatMap((r) => r.engineMessages))] };
  for (const run of runs) {
    if (run.engine) merged.engine = run.engine;
    for (const a of run.algorithms) {
      const into = merged.algorithms.find((x) => x.key === a.key);
      if (into) into.samples.push(...a.samples);
      else merged.algorithms.push({ ...a, samples: [...a.samples] });
    }
  }
  for (const a of merged.algorithms) a.samples.sort((x, y) => x.blockSize - y.blockSize);
  return merged;
}

/** What the engine run in a QEMU guest is: the kernel's software drivers, reached through /dev/crypto. */
export function emulatedVerdict(engine: string, machine: string): OffloadVerdict {
  return {
    status: 'not-offload',
    reason: `measured in a QEMU guest (${machine}, TCG): every kernel crypto driver there is software on an emulated CPU, so the ${engine} engine drove software through /dev/crypto (USE_SOFTDRIVERS=1); these are not hardware figures`,
    evidence: ['QEMU system emulation has no crypto hardware', 'the engine was told to use software drivers (USE_SOFTDRIVERS=1)'],
  };
}

export async function measureInGuest(options: BenchCryptoOptions, env: Env, signal?: AbortSignal): Promise<CryptoReport | undefined> {
  const arch = findArch(options.guest!);
  if (!arch.qemu) throw usageError(`--guest ${arch.rpm}: armkit knows no QEMU board for ${arch.rpm}.`);
  if (options.openssl)
    throw usageError("--openssl names this machine's openssl; the guest runs the newest armkit-built OpenSSL for the architecture (out/openssl).");
  if (options.engine === 'none') throw usageError('--guest measures the engine path end to end: --engine none leaves nothing to prove.');
  const algos = (options.algo ?? 'aes-128-cbc')
    .split(',')
    .map((a) => a.trim().toLowerCase())
    .filter(Boolean);
  for (const a of algos) if (!/^[a-z0-9-]+$/.test(a)) throw usageError(`--algo ${a}: expected EVP names such as aes-128-cbc or sha256.`);
  const seconds = options.seconds === undefined ? 1 : Number(options.seconds);
  if (!Number.isInteger(seconds) || seconds < 1) throw usageError(`--seconds ${options.seconds}: expected a whole number of seconds, 1 or more.`);
  const out = resolve(options.out ?? 'out');
  // armkit test's own run: the newest cryptodev build for the architecture, the newest armkit-built OpenSSL.
  const { testCommand } = await import('./test.js');
  const from = latestBuild(out, 'cryptodev', arch);
  // Per algorithm two runs of six block sizes, each `seconds` long plus openssl's start under TCG, after the checks.
  const timeout = 300 + algos.length * 2 * DEFAULT_SIZES.length * (seconds + 5) * 3;
  const results = await testCommand(
    'cryptodev',
    { arch: arch.rpm, from, openssl: true, out, speed: { algos, seconds, sizes: DEFAULT_SIZES }, timeout, dryRun: options.dryRun, verbose: options.verbose },
    env,
    signal,
  );
  if (options.dryRun || !results) return undefined;
  const serialLog = join(from, 'logs', 'test-serial.log');
  const outputs = speedOutputsFromSerial(existsSync(serialLog) ? readFileSync(serialLog, 'utf8') : '');
  const runOf = (label: string) => {
    const text = outputs.get(label);
    if (text === undefined) throw mismatch(`The guest printed no "openssl speed" output for ${label} (no ARMKIT:SPEED-BEGIN ${label} in ${serialLog}).`);
    const [run] = parseSpeedOutput(text, `${serialLog} (${label})`);
    return run!;
  };
  const combine = (role: 'software' | 'engine') =>
    mergeRuns(
      algos.flatMap((a) => DEFAULT_SIZES.map((size) => runOf(`${a}-${role}-${size}`))),
      `${serialLog} (${role})`,
    );
  const q = arch.qemu;
  const machine = `${q.binary} -M ${q.machine} -cpu ${q.cpu}`;
  const engineRun = combine('engine');
  const engine = engineRun.engine?.id ?? 'devcrypto';
  const inputs: RunInput[] = [
    { label: 'emulated', role: 'software', roleFrom: 'measured', run: combine('software') },
    { label: 'emulated software drivers', role: 'engine', roleFrom: 'measured', run: engineRun, offload: emulatedVerdict(engine, machine) },
  ];
  const cpus = os.cpus();
  const environment = `EMULATED, NOT HARDWARE FIGURES: measured inside armkit test's QEMU guest (${machine}, TCG, no KVM) for ${arch.rpm} on ${cpus[0]?.model?.trim() || os.machine()} (${cpus.length} CPUs, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB); packages from ${from} and the newest armkit-built OpenSSL; engine ${engine} with software drivers; ${results.filter((r) => r.status === 'pass').length} of ${results.length} guest checks passed`;
  const report = buildReport(inputs, { mode: 'measure', environment });
  report.notes.push('every figure comes from an emulated CPU under QEMU TCG: compare the two runs with each other, never with a board');
  writeFileSync(join(from, 'logs', 'bench-crypto-guest.json'), `${JSON.stringify(report, null, 2)}\n`);
  info(`armkit: raw outputs in ${serialLog}; report in ${join(from, 'logs', 'bench-crypto-guest.json')}`);
  return report;
}
