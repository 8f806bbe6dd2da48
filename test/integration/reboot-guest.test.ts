/**
 * armkit reboot --warm for real, in a QEMU system guest (TCG): the guest loads a family of test modules that hold
 * each other (test/fixtures/kexec-family), armkit plans the warm reboot from the guest's own /proc/modules and /boot,
 * and the generated script runs inside the guest with Debian's kexec-tools: it unloads the family holders first and
 * kexecs into the second kernel, whose /init alone prints ARMKIT:SECOND-BOOT. Host-side timestamps of the serial
 * lines give the warm reboot (script start → second kernel's userspace) against a cold boot of the same guest
 * (QEMU start → first userspace). Under QEMU there is no firmware POST to skip, so neither is expected to win.
 */
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { type Arch, findArch } from '../../src/arch.js';
import { resolveGuestAssets } from '../../src/guest/assets.js';
import { packInitramfs } from '../../src/guest/cpio.js';
import { probeHost } from '../../src/host.js';
import { PrivateApt } from '../../src/kernel/debian.js';
import { qemuArgv } from '../../src/plan/guest-test.js';
import { createRunner } from '../../src/proc/runner.js';
import { planWarmReboot } from '../../src/reboot/plan.js';
import { warmRebootScript } from '../../src/reboot/script.js';
import { execute } from '../../src/run/execute.js';
import { STEP_KINDS } from '../../src/steps/index.js';
import { armkit, FIXTURE_MODULE, FIXTURE_VERSION, installedAmd64Release, ROOT, show, TEST_CACHE, tempDir } from '../helpers/cli.js';

const FAMILY = join(ROOT, 'test/fixtures/kexec-family');
const host = probeHost();
const runner = createRunner();
const amd64 = installedAmd64Release();

interface Timed {
  ms: number;
  line: string;
}

/** Boots QEMU and timestamps every serial line as it arrives (host clock, from QEMU's start). */
async function boot(argv: string[], timeoutMs: number): Promise<Timed[]> {
  const start = performance.now();
  const lines: Timed[] = [];
  const child = execa(argv[0]!, argv.slice(1), { reject: false, stdin: 'ignore', timeout: timeoutMs, buffer: false });
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const now = performance.now() - start;
    partial += chunk.toString('latin1');
    const parts = partial.split('\n');
    partial = parts.pop()!;
    // SeaBIOS clears the screen without a newline: a marker may follow its escape sequences on the same line.
    for (const p of parts) lines.push({ ms: now, line: p.replace(/\r$/, '').replace(/^.*?(?=ARMKIT:)/, '') });
  });
  await child;
  if (partial) lines.push({ ms: performance.now() - start, line: partial });
  return lines;
}

const find = (lines: Timed[], prefix: string) => lines.find((l) => l.line.startsWith(prefix));

/** Debian's kexec-tools and the libraries it links, for the guest's architecture, from armkit's private apt state. */
async function kexecTools(arch: Arch, into: string): Promise<string> {
  const apt = new PrivateApt(TEST_CACHE, arch, host);
  await apt.refresh(runner, 6 * 3600 * 1000, (m) => console.warn(m));
  const dir = join(TEST_CACHE, 'reboot-test', arch.debian.arch);
  mkdirSync(dir, { recursive: true });
  // kexec-tools and the libraries it links, transitively (amd64's links Xen's): Depends that are libraries only.
  const packages = ['kexec-tools'];
  for (let k = 0; k < packages.length; k++) {
    const out = await runner.capture(['apt-cache', ...apt.options(), 'depends', '--no-recommends', '--no-suggests', `${packages[k]}:${arch.debian.arch}`]);
    for (const m of out.stdout.matchAll(/^\s+\|?(?:Pre)?Depends:\s+<?([^\s:>]+)/gm))
      if (/^(lib|zlib)/.test(m[1]!) && !packages.includes(m[1]!)) packages.push(m[1]!);
  }
  if (readdirSync(dir).filter((f) => f.endsWith('.deb')).length < packages.length) {
    await runner.run(['apt-get', ...apt.options(), 'download', ...packages.map((p) => `${p}:${arch.debian.arch}`)], { cwd: dir });
  }
  const root = join(into, 'debs');
  for (const deb of readdirSync(dir).filter((f) => f.endsWith('.deb'))) await runner.run(['dpkg-deb', '-x', join(dir, deb), root]);
  // What kexec needs: itself, the loader and the shared libraries (not libc6's locales and gconv modules).
  for (const sub of ['sbin/kexec', 'usr/sbin/kexec', 'lib', 'lib64', `usr/lib/${arch.libc.triplet}`]) {
    if (existsSync(join(root, sub)))
      cpSync(join(root, sub), join(into, sub), { recursive: true, verbatimSymlinks: true, filter: (src) => !/gconv|audit|locale/.test(src) });
  }
  const version = await runner.capture(['dpkg-deb', '-f', join(dir, readdirSync(dir).find((f) => f.startsWith('kexec-tools_'))!), 'Version']);
  return version.stdout.trim();
}

/** The newest arm64 header tree armkit's Debian cache holds. */
function cachedArm64(): string | undefined {
  const dir = join(TEST_CACHE, 'kernels/debian/arm64');
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((d) => /^\d.*-arm64$/.test(d))
        .sort()
        .pop()
    : undefined;
}

/** Debian's newest arm64 headers, put into the test cache by armkit itself (a build of the suite's own module). */
async function arm64Headers(): Promise<string> {
  if (!cachedArm64()) {
    const r = await armkit(
      [
        'build',
        'cryptodev',
        '--arch',
        'aarch64',
        '--kernel',
        'debian:latest',
        '--source',
        FIXTURE_MODULE,
        '--version',
        FIXTURE_VERSION,
        '--out',
        tempDir('reboot-headers'),
      ],
      { cacheDir: TEST_CACHE },
    );
    expect(r.exitCode, show(r)).toBe(0);
  }
  return cachedArm64()!;
}

const GUESTS: Array<{ arch: string; release: () => Promise<string | undefined>; headers: (release: string) => string; make: string[] }> = [
  { arch: 'x86_64', release: async () => amd64, headers: (r) => `/usr/src/linux-headers-${r}`, make: [] },
  {
    arch: 'aarch64',
    release: arm64Headers,
    headers: (r) => join(TEST_CACHE, 'kernels/debian/arm64', r, 'root/usr/src', `linux-headers-${r}`),
    make: ['ARCH=arm64', 'CROSS_COMPILE=aarch64-linux-gnu-'],
  },
];

for (const g of GUESTS) {
  const reason =
    g.arch === 'x86_64' && !amd64
      ? 'no linux-headers-amd64 installed'
      : !host.which(findArch(g.arch).qemu!.binary)
        ? `no ${findArch(g.arch).qemu!.binary}`
        : undefined;
  describe.skipIf(reason !== undefined)(`reboot --warm in a ${g.arch} guest${reason ? ` (skipped: ${reason})` : ''}`, () => {
    it('unloads the module family holders first and kexecs into the second kernel; warm and cold boot timed', async () => {
      const release = (await g.release())!;
      const arch = findArch(g.arch);
      const work = tempDir(`reboot-${g.arch}`);

      // The test modules, built against the guest kernel's headers.
      const src = join(work, 'family');
      cpSync(FAMILY, src, { recursive: true });
      await runner.run(['make', '-C', src, `KERNEL_DIR=${g.headers(release)}`, ...g.make], { logFile: join(work, 'make.log') });

      // The guest kernel and busybox, as armkit test gets them.
      const assets = await resolveGuestAssets(arch, release, undefined, { cacheDir: TEST_CACHE, host, runner, warn: (m) => console.warn(m) });
      await execute(
        { summary: 'guest assets', logsDir: join(work, 'logs'), warnings: [], requires: [], steps: assets.prepare },
        {
          kinds: STEP_KINDS,
          runner,
          host,
          verbose: false,
          quiet: true,
          warn: () => {},
        },
      );

      // The second kernel's initramfs: busybox and an /init that says it is the second boot.
      const second = join(work, 'second');
      mkdirSync(join(second, 'bin'), { recursive: true });
      cpSync(assets.busybox, join(second, 'bin/busybox'));
      cpSync(join(FAMILY, 'init-second.sh'), join(second, 'init'));
      chmodSync(join(second, 'init'), 0o755);
      // The first boot's root: Debian's /boot layout, the modules, kexec-tools, the first /init.
      const first = join(work, 'first');
      mkdirSync(join(first, 'bin'), { recursive: true });
      mkdirSync(join(first, 'boot'), { recursive: true });
      mkdirSync(join(first, 'lib/modules/armkit'), { recursive: true });
      cpSync(assets.busybox, join(first, 'bin/busybox'));
      cpSync(join(FAMILY, 'init-first.sh'), join(first, 'init'));
      chmodSync(join(first, 'init'), 0o755);
      for (const m of ['armkit_base', 'armkit_mid', 'armkit_top']) cpSync(join(src, `${m}.ko`), join(first, 'lib/modules/armkit', `${m}.ko`));
      cpSync(assets.kernelImage, join(first, 'boot', `vmlinuz-${release}`));
      packInitramfs(second, join(first, 'boot', `initrd.img-${release}`));
      const kexecVersion = await kexecTools(arch, first);

      // Boot 1: the guest's own /proc/modules, for armkit to plan from.
      const initrd = join(work, 'initramfs.cpio.gz');
      packInitramfs(first, initrd);
      const argv = qemuArgv(arch, assets.kernelImage, initrd);
      const facts = await boot(argv, 120_000);
      const modules = facts.filter((l) => l.line.startsWith('ARMKIT:MODULES ')).map((l) => l.line.slice('ARMKIT:MODULES '.length));
      expect(find(facts, 'ARMKIT:KEXEC')?.line, facts.map((l) => l.line).join('\n')).toMatch(/^ARMKIT:KEXEC kexec-tools 2\.\d+/);
      // /proc/modules, newest first: name, use count, holders.
      expect(modules.map((m) => m.split(/\s+/).filter((_, i) => i === 0 || i === 2 || i === 3))).toEqual([
        ['armkit_top', '0', '-'],
        ['armkit_mid', '1', 'armkit_top,'],
        ['armkit_base', '1', 'armkit_mid,'],
      ]);

      // armkit's plan from the guest's facts: no systemd there, so kexec --exec; the family holders first.
      const plan = planWarmReboot(
        {
          isRoot: true,
          kexec: '/sbin/kexec',
          runningRelease: release,
          procModules: `${modules.join('\n')}\n`,
          builtin: [],
          files: [`/boot/vmlinuz-${release}`, `/boot/initrd.img-${release}`],
          systemd: false,
          graphical: false,
          family: 'debian',
        },
        { unload: ['armkit_base'] },
      );
      expect(plan.unload.map((u) => u.name)).toEqual(['armkit_top', 'armkit_mid', 'armkit_base']);
      expect(plan.handover).toBe('kexec');
      const script = warmRebootScript(plan, 'debian', 'test');
      writeFileSync(join(first, 'warm-reboot.sh'), script, { mode: 0o755 });
      writeFileSync(join(work, 'warm-reboot.sh'), script);
      packInitramfs(first, initrd);

      // Boot 2: cold boot, then the warm reboot.
      const lines = await boot(argv, 240_000);
      const text = lines.map((l) => l.line).join('\n');
      writeFileSync(join(work, 'serial.log'), lines.map((l) => `${(l.ms / 1000).toFixed(3).padStart(8)} ${l.line}`).join('\n'));
      const boot1 = find(lines, 'ARMKIT:BOOT1');
      const start = find(lines, 'ARMKIT:REBOOT-START');
      const again = find(lines, 'ARMKIT:SECOND-BOOT');
      expect(find(lines, 'ARMKIT:REBOOT-FAILED'), text.slice(-3000)).toBeUndefined();
      expect(boot1 && start && again, text.slice(-3000)).toBeTruthy();
      // The family went in order, holders first, and the second kernel has none of it.
      const unloaded = lines.filter((l) => l.line.startsWith('armkit reboot: unloaded ')).map((l) => l.line.replace('armkit reboot: unloaded ', ''));
      expect(unloaded).toEqual(['armkit_top', 'armkit_mid', 'armkit_base']);
      expect(again!.line).toMatch(new RegExp(`^ARMKIT:SECOND-BOOT ${release.replace(/\./g, '\\.')} armkit-modules=0 cmdline=.*rdinit=/init`));
      // The second boot printed its marker once, and the first boot's marker came once: a kexec, not a reset.
      expect(lines.filter((l) => l.line.startsWith('ARMKIT:SECOND-BOOT'))).toHaveLength(1);
      expect(lines.filter((l) => l.line.startsWith('ARMKIT:BOOT1'))).toHaveLength(1);

      // A cold boot of what the second kernel boots (the same kernel and small initramfs): QEMU start to its userspace.
      const secondInitrd = join(work, 'second.cpio.gz');
      packInitramfs(second, secondInitrd);
      const coldSame = find(await boot(qemuArgv(arch, assets.kernelImage, secondInitrd), 120_000), 'ARMKIT:SECOND-BOOT');
      expect(coldSame).toBeTruthy();
      const cold = boot1!.ms;
      const warm = again!.ms - start!.ms;
      const handover = find(lines, 'armkit reboot: kexec into')!.ms;
      const figures = {
        arch: g.arch,
        release,
        kexecTools: kexecVersion,
        coldBootMs: Math.round(cold),
        coldBootSameInitramfsMs: Math.round(coldSame!.ms),
        warmRebootMs: Math.round(warm),
        // Of the warm reboot: loading the kernel and unloading the modules, then kexec until the second userspace.
        loadAndUnloadMs: Math.round(handover - start!.ms),
        kexecToUserspaceMs: Math.round(again!.ms - handover),
        serialLog: join(work, 'serial.log'),
      };
      console.log(`reboot --warm in a ${g.arch} guest: ${JSON.stringify(figures)}`);
      writeFileSync(join(work, 'timings.json'), `${JSON.stringify(figures, null, 2)}\n`);
      if (process.env.ARMKIT_REBOOT_TIMINGS) writeFileSync(process.env.ARMKIT_REBOOT_TIMINGS, `${JSON.stringify(figures, null, 2)}\n`);
      // Under QEMU there is no firmware or POST to skip (SeaBIOS takes a moment), so the warm reboot is not expected
      // to win here: both are measured and reported; on a board the firmware's seconds are what kexec saves.
      expect(warm).toBeGreaterThan(0);
      expect(cold).toBeGreaterThan(0);
    });
  });
}
