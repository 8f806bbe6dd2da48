import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findArch } from '../../src/arch.js';
import type { GuestAssets } from '../../src/guest/assets.js';
import { parseSerialLog } from '../../src/guest/report.js';
import { type GuestTestInput, planGuestTest, qemuArgv } from '../../src/plan/guest-test.js';
import type { Plan, Step } from '../../src/step.js';
import { tempDir } from './helpers.js';

const RELEASE = '6.1.0-56-arm64';
const KMOD = '/out/cryptodev/1.14/aarch64/kmod-cryptodev-6.1.0-56-arm64-1.14-1.aarch64.rpm';
const ROOT = '/w/guest/root';
const INITRD = '/w/guest/initramfs.cpio.gz';

const assets: GuestAssets = {
  kernelImage: '/cache/guest/debian/arm64/linux-image-6.1.0-56-arm64/boot/vmlinuz-6.1.0-56-arm64',
  modulesRoot: '/m',
  busybox: '/cache/guest/debian/arm64/busybox-1_1.35.0/bin/busybox',
  prepare: [],
  source: 'Debian linux-image-6.1.0-56-arm64:arm64 6.1.241-1',
};

const RUN_BOTH = { kat: { run: { store: '/c/guest/built/kat-k1' } }, upstream: { run: { store: '/c/guest/built/upstream-k2', programs: ['cipher', 'hmac'] } } };
const CACHED_BOTH = {
  kat: { run: { store: '/c/guest/built/kat-k1', cached: '/c/guest/built/kat-k1' } },
  upstream: { run: { store: '/c/guest/built/upstream-k2', cached: '/c/guest/built/upstream-k2', programs: ['cipher', 'hmac'] } },
};
const SKIP_BOTH = { kat: { skip: 'no real cryptodev.h' }, upstream: { skip: 'the source has no tests/' } };

function input(overrides: Partial<GuestTestInput> = {}): GuestTestInput {
  return {
    arch: findArch('aarch64'),
    release: RELEASE,
    module: 'cryptodev',
    packages: [KMOD],
    inputs: { devel: '/out/devel.rpm', srpm: '/out/src.rpm', archive: 'cryptodev-linux-1.14.tar.gz' },
    assets,
    ...RUN_BOTH,
    initramfs: { store: '/c/guest/built/initramfs-k3.cpio.gz' },
    toolPrefix: 'aarch64-linux-gnu-',
    work: '/w',
    timeoutSeconds: 90,
    ...overrides,
  };
}

const stepsOf = <K extends Step['kind']>(plan: Plan, kind: K) => plan.steps.filter((s): s is Extract<Step, { kind: K }> => s.kind === kind);
const qemuStep = (plan: Plan) => stepsOf(plan, 'boot-guest')[0]!;
const reportStep = (plan: Plan) => stepsOf(plan, 'guest-report')[0]!;
const initStep = (plan: Plan) => stepsOf(plan, 'write').find((s) => s.path === `${ROOT}/init`)!;
const initOf = (plan: Plan) => initStep(plan).content;
const indexOf = (plan: Plan, test: (s: Step) => boolean) => {
  const i = plan.steps.findIndex(test);
  expect(i).toBeGreaterThanOrEqual(0);
  return i;
};

describe('qemuArgv', () => {
  it('boots aarch64 on virt/cortex-a57 with the serial console on ttyAMA0 and no -accel', () => {
    expect(qemuArgv(findArch('aarch64'), '/k/Image', '/i.cpio.gz')).toEqual([
      'qemu-system-aarch64',
      '-M',
      'virt',
      '-cpu',
      'cortex-a57',
      '-m',
      '512',
      '-nographic',
      '-nic',
      'none',
      '-no-reboot',
      '-kernel',
      '/k/Image',
      '-initrd',
      '/i.cpio.gz',
      '-append',
      'console=ttyAMA0 panic=-1 rdinit=/init loglevel=4',
    ]);
  });

  it('forces TCG and ttyS0 for x86_64', () => {
    const argv = qemuArgv(findArch('x86_64'), '/boot/vmlinuz', '/i.cpio.gz');
    expect(argv[0]).toBe('qemu-system-x86_64');
    const accel = argv.indexOf('-accel');
    expect(accel).toBeGreaterThan(0);
    expect(argv[accel + 1]).toBe('tcg');
    expect(argv[argv.indexOf('-M') + 1]).toBe('q35');
    // No VGA card and no network card: neither vgabios-stdvga.bin nor an iPXE ROM is needed to start.
    expect(argv[argv.indexOf('-vga') + 1]).toBe('none');
    expect(argv[argv.indexOf('-nic') + 1]).toBe('none');
    expect(argv[argv.indexOf('-append') + 1]).toBe('console=ttyS0 panic=-1 rdinit=/init loglevel=4');
  });

  it('uses qemu-system-arm for armv7hl', () => {
    const argv = qemuArgv(findArch('armv7hl'), '/k/zImage', '/i');
    expect(argv.slice(0, 5)).toEqual(['qemu-system-arm', '-M', 'virt', '-cpu', 'cortex-a15']);
    expect(argv).not.toContain('-accel');
  });
});

describe('planGuestTest', () => {
  it('boots QEMU with qemuArgv, the timeout and the serial log', () => {
    const plan = planGuestTest(input());
    const qemu = qemuStep(plan);
    expect(qemu.argv).toEqual(qemuArgv(findArch('aarch64'), assets.kernelImage, INITRD));
    expect(qemu.timeoutSeconds).toBe(90);
    expect(qemu.serialLog).toBe('/w/guest/logs/serial.log');
    expect(qemu.log).toBe('qemu.log');
    expect(plan.logsDir).toBe('/w/guest/logs');
  });

  it('ends with write /init → pack → keep it in the cache → boot → report', () => {
    const plan = planGuestTest(input());
    expect(plan.steps.slice(-8).map((s) => s.kind)).toEqual(['write', 'pack-initramfs', 'remove', 'copy', 'remove', 'rename', 'boot-guest', 'guest-report']);
    expect(plan.steps.at(-8)).toMatchObject({ kind: 'write', path: `${ROOT}/init`, mode: 0o755 });
    expect(plan.steps.at(-7)).toEqual({ kind: 'pack-initramfs', title: 'Pack the initramfs', root: ROOT, archive: INITRD });
    expect(plan.steps.slice(0, 2)).toEqual([
      { kind: 'remove', title: 'Clear the guest work directory', path: '/w/guest' },
      { kind: 'mkdir', title: 'Create the log directory', path: '/w/guest/logs' },
    ]);
  });

  it('expects every check, in order, when the known-answer and upstream tests run', () => {
    const report = reportStep(planGuestTest(input()));
    expect(report.serialLog).toBe('/w/guest/logs/serial.log');
    expect(report.expected).toEqual([
      'kernel-release',
      'modules-load',
      'dev-crypto',
      'kat-aes-128-cbc',
      'kat-sha256',
      'upstream-cipher',
      'upstream-hmac',
      'unload',
    ]);
    expect(report.skipped).toEqual([]);
    expect(report).not.toHaveProperty('publishTo');
  });

  it('lists skipped checks with their reasons when neither can run', () => {
    const report = reportStep(planGuestTest(input(SKIP_BOTH)));
    expect(report.expected).toEqual(['kernel-release', 'modules-load', 'dev-crypto', 'unload']);
    expect(report.skipped).toEqual([
      { name: 'kat-aes-128-cbc', reason: 'no real cryptodev.h' },
      { name: 'kat-sha256', reason: 'no real cryptodev.h' },
      { name: 'upstream-tests', reason: 'the source has no tests/' },
    ]);
  });

  it('mixes: known-answer runs, upstream skipped', () => {
    const report = reportStep(planGuestTest(input({ upstream: { skip: 'no tests' } })));
    expect(report.expected).toEqual(['kernel-release', 'modules-load', 'dev-crypto', 'kat-aes-128-cbc', 'kat-sha256', 'unload']);
    expect(report.skipped).toEqual([{ name: 'upstream-tests', reason: 'no tests' }]);
  });

  it('passes publishTo to the report step', () => {
    const report = reportStep(planGuestTest(input({ publishTo: '/out/cryptodev/1.14/aarch64/logs' })));
    expect(report.publishTo).toBe('/out/cryptodev/1.14/aarch64/logs');
  });

  it('installs the packages with rpm --noscripts --nodeps --ignorearch into the guest root, then runs depmod', () => {
    const plan = planGuestTest(input({ packages: [KMOD, '/out/other.rpm'] }));
    const execs = stepsOf(plan, 'exec');
    const rpmRoot = ['rpm', '--root', ROOT, '--dbpath', '/var/lib/rpm'];
    const initdb = execs.findIndex((s) => s.argv.includes('--initdb'));
    expect(execs[initdb]!.argv).toEqual([...rpmRoot, '--initdb']);
    const install = execs[initdb + 1]!;
    expect(install.argv).toEqual([...rpmRoot, '-i', '--nodeps', '--ignorearch', '--noscripts', '--nosignature', KMOD, '/out/other.rpm']);
    expect(install.title).toBe('Install kmod-cryptodev-6.1.0-56-arm64-1.14-1.aarch64.rpm, other.rpm with rpm');
    // The next command after the install is depmod on the guest root; only the rpm database removal sits between.
    expect(execs[initdb + 2]!.argv).toEqual(['depmod', '-b', ROOT, RELEASE]);
    const i = plan.steps.indexOf(install);
    expect(plan.steps[i + 1]).toEqual({ kind: 'remove', title: 'Drop the rpm database from the guest', path: `${ROOT}/var/lib/rpm` });
    expect(plan.steps[i + 2]).toBe(execs[initdb + 2]);
    // The module directory exists before rpm and depmod touch it.
    expect(plan.steps.slice(0, i)).toContainEqual({ kind: 'mkdir', title: 'Create the module directory', path: `${ROOT}/lib/modules/${RELEASE}` });
  });

  it('copies busybox and the crypto module directories (optional) from the modules root', () => {
    const plan = planGuestTest(input());
    const copies = stepsOf(plan, 'copy');
    expect(copies[0]).toEqual({ kind: 'copy', title: 'Add static busybox', from: assets.busybox, to: `${ROOT}/bin/busybox` });
    const modules = copies.filter((c) => c.from.startsWith('/m/'));
    expect(modules.map((c) => [c.from, c.to, c.optional])).toEqual(
      ['modules.order', 'modules.builtin', 'modules.builtin.modinfo', 'kernel/crypto/', 'kernel/lib/crypto/', 'kernel/arch/arm64/crypto/'].map((p) => [
        `/m/lib/modules/${RELEASE}/${p}`,
        `${ROOT}/lib/modules/${RELEASE}/${p}`,
        true,
      ]),
    );
    expect(modules.map((c) => c.title)).toContain('Add kernel/arch/arm64/crypto/');
    // Module copies come before depmod, which indexes them.
    const depmod = indexOf(plan, (s) => s.kind === 'exec' && s.argv[0] === 'depmod');
    for (const c of modules) expect(plan.steps.indexOf(c)).toBeLessThan(depmod);
  });

  it('copies no modules for a bare kernel image', () => {
    const { modulesRoot: _unused, ...bare } = assets;
    const plan = planGuestTest(input({ assets: bare }));
    expect(stepsOf(plan, 'copy').filter((c) => c.to.includes('/lib/modules/'))).toEqual([]);
    // depmod still runs over the installed package.
    expect(stepsOf(plan, 'exec').some((s) => s.argv[0] === 'depmod')).toBe(true);
  });

  it('runs the assets prepare steps after the work directory is set up and before busybox is copied', () => {
    const prepare: Step[] = [{ kind: 'mkdir', title: 'prepare marker', path: '/cache/x' }];
    const plan = planGuestTest(input({ assets: { ...assets, prepare } }));
    expect(plan.steps[2]).toBe(prepare[0]);
    expect(plan.steps[3]).toMatchObject({ kind: 'copy', title: 'Add static busybox' });
  });

  it('requires the cross gcc and make only when the known-answer or upstream tests are built', () => {
    const building = ['rpm', 'depmod', 'qemu-system-aarch64', 'aarch64-linux-gnu-gcc', 'make', 'rpm2cpio', 'cpio'];
    expect(planGuestTest(input()).requires).toEqual(building);
    expect(planGuestTest(input({ upstream: { skip: 'x' } })).requires).toEqual(building);
    expect(planGuestTest(input({ kat: { skip: 'x' } })).requires).toEqual(building);
    expect(planGuestTest(input(CACHED_BOTH)).requires).toEqual(['rpm', 'depmod', 'qemu-system-aarch64']);
    const skipped = planGuestTest(input(SKIP_BOTH)).requires;
    expect(skipped).toEqual(['rpm', 'depmod', 'qemu-system-aarch64']);
    expect(skipped).not.toContain('aarch64-linux-gnu-gcc');
  });

  it("compiles the known-answer program statically against the devel package's header, and keeps it in the cache", () => {
    const plan = planGuestTest(input());
    const cc = stepsOf(plan, 'exec').find((s) => s.argv[0] === 'aarch64-linux-gnu-gcc')!;
    expect(cc.argv).toEqual([
      'aarch64-linux-gnu-gcc',
      '-static',
      '-O2',
      '-Wall',
      '-I',
      '/w/inputs/devel/usr/include',
      '-o',
      '/w/guest/kat/armkit-kat',
      '/w/guest/armkit-kat.c',
    ]);
    // The devel package is unpacked by the plan itself (a dry run unpacks nothing).
    const unpack = stepsOf(plan, 'exec').find((s) => s.argv[0] === 'rpm2cpio' && s.argv[1] === '/out/devel.rpm')!;
    expect(plan.steps.indexOf(unpack)).toBeLessThan(plan.steps.indexOf(cc));
    const source = stepsOf(plan, 'write').find((s) => s.path === '/w/guest/armkit-kat.c')!;
    expect(source.content).toContain('/dev/crypto');
    expect(plan.steps.indexOf(source)).toBeLessThan(plan.steps.indexOf(cc));
    expect(stepsOf(plan, 'rename').find((r) => r.to === '/c/guest/built/kat-k1')).toBeDefined();
    expect(stepsOf(plan, 'copy').find((c) => c.to === `${ROOT}/usr/bin/armkit-kat`)!.from).toBe('/w/guest/kat/armkit-kat');
    expect(stepsOf(planGuestTest(input(SKIP_BOTH)), 'write').map((s) => s.path)).toEqual([`${ROOT}/init`]);
  });

  it('keeps the packed initramfs in the cache, and boots a cached one without assembling anything', () => {
    const plan = planGuestTest(input());
    expect(stepsOf(plan, 'rename').find((r) => r.to === '/c/guest/built/initramfs-k3.cpio.gz')).toMatchObject({
      from: '/c/guest/built/initramfs-k3.cpio.gz.partial',
    });
    const cached = planGuestTest(input({ initramfs: { store: '/c/i.cpio.gz', cached: '/c/i.cpio.gz' } }));
    expect(cached.steps.map((s) => s.kind)).toEqual(['remove', 'mkdir', 'boot-guest', 'guest-report']);
    expect(qemuStep(cached).argv[qemuStep(cached).argv.indexOf('-initrd') + 1]).toBe('/c/i.cpio.gz');
    expect(reportStep(cached).expected).toEqual(reportStep(plan).expected);
    expect(cached.requires).toEqual(['qemu-system-aarch64']);
  });

  it('takes both programs from the cache when they are there: nothing is unpacked or compiled', () => {
    const plan = planGuestTest(input(CACHED_BOTH));
    expect(stepsOf(plan, 'exec').map((s) => s.argv[0])).toEqual(['rpm', 'rpm', 'depmod']);
    expect(stepsOf(plan, 'copy').find((c) => c.to === `${ROOT}/usr/bin/armkit-kat`)!.from).toBe('/c/guest/built/kat-k1/armkit-kat');
    expect(
      stepsOf(plan, 'copy')
        .filter((c) => c.title.startsWith('Add upstream test'))
        .map((c) => c.from),
    ).toEqual(['/c/guest/built/upstream-k2/cipher', '/c/guest/built/upstream-k2/hmac']);
    expect(reportStep(plan).expected).toContain('kat-sha256');
  });

  it('builds only the listed upstream programs and copies each into the guest', () => {
    const plan = planGuestTest(input());
    const make = stepsOf(plan, 'exec').find((s) => s.argv[0] === 'make')!;
    expect(make.argv).toEqual(['make', '-C', '/w/guest/upstream/tests', 'CC=aarch64-linux-gnu-gcc', 'LDFLAGS=-static', 'cipher', 'hmac']);
    expect(
      stepsOf(plan, 'copy')
        .filter((c) => c.title.startsWith('Add upstream test'))
        .map((c) => [c.from, c.to]),
    ).toEqual([
      ['/w/guest/upstream-built/cipher', `${ROOT}/usr/libexec/armkit-upstream-tests/cipher`],
      ['/w/guest/upstream-built/hmac', `${ROOT}/usr/libexec/armkit-upstream-tests/hmac`],
    ]);
    expect(stepsOf(plan, 'unpack')[0]).toMatchObject({ archive: '/w/inputs/srpm/cryptodev-linux-1.14.tar.gz', dest: '/w/guest/upstream' });
    const srpm = stepsOf(plan, 'exec').find((s) => s.argv[0] === 'cpio' && s.argv.includes('cryptodev-linux-1.14.tar.gz'));
    expect(srpm).toBeDefined();
    const skipped = planGuestTest(input(SKIP_BOTH));
    expect(stepsOf(skipped, 'exec').map((s) => s.argv[0])).toEqual(['rpm', 'rpm', 'depmod']);
  });

  it('uses plain gcc on a native host (empty tool prefix)', () => {
    const plan = planGuestTest(input({ arch: findArch('x86_64'), release: '6.1.0-56-amd64', toolPrefix: '' }));
    expect(plan.requires).toEqual(['rpm', 'depmod', 'qemu-system-x86_64', 'gcc', 'make', 'rpm2cpio', 'cpio']);
    expect(stepsOf(plan, 'exec').find((s) => s.argv[0] === 'make')!.argv).toContain('CC=gcc');
    expect(qemuStep(plan).argv).toEqual(expect.arrayContaining(['-accel', 'tcg']));
    expect(stepsOf(plan, 'copy').map((c) => c.from)).toContain('/m/lib/modules/6.1.0-56-amd64/kernel/arch/x86/crypto/');
  });

  describe('the rendered /init', () => {
    it('is written executable, starts with busybox sh and has no template leftovers', () => {
      const init = initStep(planGuestTest(input()));
      expect(init.mode).toBe(0o755);
      expect(init.content.startsWith('#!/bin/busybox sh\n')).toBe(true);
      expect(init.content).not.toMatch(/<%|%>|undefined/);
      expect(init.content.trimEnd().endsWith('poweroff -f')).toBe(true);
    });

    it('checks the module is listed in modules-load.d and the kernel release', () => {
      const init = initOf(planGuestTest(input()));
      expect(init).toContain(`grep -qx 'cryptodev'`);
      expect(init).toContain(`[ "$(uname -r)" = "6.1.0-56-arm64" ]`);
      expect(init).toContain('check kernel-release fail "booted $(uname -r), packages are for 6.1.0-56-arm64"');
    });

    it('runs armkit-kat only when the known-answer test runs', () => {
      expect(initOf(planGuestTest(input()))).toContain('/usr/bin/armkit-kat');
      expect(initOf(planGuestTest(input(SKIP_BOTH)))).not.toContain('armkit-kat');
    });

    it('has one line per upstream program', () => {
      const upstreamLines = (plan: Plan) =>
        initOf(plan)
          .split('\n')
          .filter((l) => l.includes('/usr/libexec/armkit-upstream-tests/'));
      expect(upstreamLines(planGuestTest(input()))).toEqual([
        'if out=$(/usr/libexec/armkit-upstream-tests/cipher 2>&1); then check upstream-cipher pass; else check upstream-cipher fail "exit $?: $(echo "$out" | tail -n 2 | tr \'\\n\' \' \')"; fi',
        'if out=$(/usr/libexec/armkit-upstream-tests/hmac 2>&1); then check upstream-hmac pass; else check upstream-hmac fail "exit $?: $(echo "$out" | tail -n 2 | tr \'\\n\' \' \')"; fi',
      ]);
      expect(upstreamLines(planGuestTest(input(SKIP_BOTH)))).toEqual([]);
    });

    it('fails the unload check when the module was never loaded', () => {
      const lines = initOf(planGuestTest(input())).split('\n');
      const i = lines.indexOf(`if ! grep -q '^cryptodev ' /proc/modules; then`);
      expect(i).toBeGreaterThan(0);
      expect(lines[i + 1]).toBe('  check unload fail "cryptodev was never loaded, so unloading proves nothing"');
      expect(lines[i + 2]).toBe(`elif out=$(modprobe -r cryptodev 2>&1) && ! grep -q '^cryptodev ' /proc/modules; then`);
    });
  });

  // The contract between the guest's shell and parseSerialLog, checked by running the rendered lines with /bin/sh
  // (functions stand in for uname, grep and modprobe, and a temp directory for the upstream test directory).
  describe('the rendered /init lines under /bin/sh, read back by parseSerialLog', () => {
    const init = initOf(planGuestTest(input()));
    const lines = init.split('\n');
    const checkFn = lines.find((l) => l.startsWith('check() {'))!;
    const block = (first: string, last: string) => {
      const a = lines.findIndex((l) => l.startsWith(first));
      const b = lines.findIndex((l, j) => j > a && l.startsWith(last));
      expect(a).toBeGreaterThanOrEqual(0);
      expect(b).toBeGreaterThan(a);
      return lines.slice(a, b + 1).join('\n');
    };
    const run = (script: string) => execFileSync('sh', ['-c', `${checkFn}\n${script}`], { encoding: 'utf8' });

    it('check() prints lines the parser reads, with and without detail', () => {
      const out = run(`check a pass\ncheck b fail "modprobe cryptodev: not found"\ncheck c pass ""`);
      expect(out).toBe('ARMKIT:CHECK a pass\nARMKIT:CHECK b fail modprobe cryptodev: not found\nARMKIT:CHECK c pass\n');
      expect(parseSerialLog(out, ['a', 'b', 'c'], [])).toEqual([
        { name: 'a', status: 'pass' },
        { name: 'b', status: 'fail', detail: 'modprobe cryptodev: not found' },
        { name: 'c', status: 'pass' },
      ]);
    });

    it('kernel-release passes on the right release and fails on another', () => {
      const line = lines.find((l) => l.startsWith('if [ "$(uname -r)"'))!;
      const right = run(`uname() { echo 6.1.0-56-arm64; }\n${line}`);
      const wrong = run(`uname() { echo 6.1.0-99-arm64; }\n${line}`);
      expect(parseSerialLog(right, ['kernel-release'], [])).toEqual([{ name: 'kernel-release', status: 'pass', detail: '6.1.0-56-arm64' }]);
      expect(parseSerialLog(wrong, ['kernel-release'], [])).toEqual([
        { name: 'kernel-release', status: 'fail', detail: 'booted 6.1.0-99-arm64, packages are for 6.1.0-56-arm64' },
      ]);
    });

    it('upstream lines report pass, and fail with the exit status and the last two output lines', () => {
      const dir = tempDir();
      writeFileSync(join(dir, 'cipher'), '#!/bin/sh\necho all good\nexit 0\n');
      writeFileSync(join(dir, 'hmac'), '#!/bin/sh\necho line1\necho line2\necho line3 >&2\nexit 3\n');
      chmodSync(join(dir, 'cipher'), 0o755);
      chmodSync(join(dir, 'hmac'), 0o755);
      const script = lines
        .filter((l) => l.includes('/usr/libexec/armkit-upstream-tests/'))
        .map((l) => l.replaceAll('/usr/libexec/armkit-upstream-tests/', `${dir}/`))
        .join('\n');
      expect(parseSerialLog(run(script), ['upstream-cipher', 'upstream-hmac'], [])).toEqual([
        { name: 'upstream-cipher', status: 'pass' },
        { name: 'upstream-hmac', status: 'fail', detail: 'exit 3: line2 line3' },
      ]);
    });

    it('unload fails when the module was never loaded', () => {
      const unload = block(`if ! grep -q '^cryptodev ' /proc/modules; then`, 'fi');
      const out = run(`grep() { return 1; }\nmodprobe() { echo "must not be called"; return 0; }\n${unload}`);
      expect(parseSerialLog(out, ['unload'], [])).toEqual([
        { name: 'unload', status: 'fail', detail: 'cryptodev was never loaded, so unloading proves nothing' },
      ]);
    });

    it('unload fails with modprobe -r output when the module cannot be removed', () => {
      const unload = block(`if ! grep -q '^cryptodev ' /proc/modules; then`, 'fi');
      const out = run(
        `grep() { return 0; }\nmodprobe() { echo "modprobe: can't unload module cryptodev: Resource temporarily unavailable"; return 1; }\n${unload}`,
      );
      expect(parseSerialLog(out, ['unload'], [])).toEqual([
        { name: 'unload', status: 'fail', detail: "modprobe -r cryptodev: modprobe: can't unload module cryptodev: Resource temporarily unavailable" },
      ]);
    });
  });
});
