/**
 * Plan for `armkit test` of any kmod recipe (a DKMS import among them): an initramfs of static busybox, the kmod
 * package installed with rpm, the kernel's modules it depends on, and an /init that checks the package is installed,
 * every module loads (dependencies first) and unloads; then QEMU boots the target's kernel and the verdict is read
 * from the serial log. Recipe-specific checks (cryptodev's known answers) stay with their recipe (guest-test.ts).
 * Pure: inputs are gathered by commands/test-kmod.ts.
 */
import { join } from 'node:path';
import type { Arch } from '../arch.js';
import { cryptoModulePaths, type GuestAssets } from '../guest/assets.js';
import { moduleKey } from '../guest/modules.js';
import type { Plan, Step } from '../step.js';
import { renderTemplate } from '../templates.js';
import { qemuArgv } from './guest-test.js';

export interface KmodGuestInput {
  arch: Arch;
  release: string;
  /** The kmod RPM, installed into the guest root as on the board. */
  kmod: string;
  /** The package's modules in load order: name and path under lib/modules/<release>/. */
  modules: Array<{ name: string; path: string }>;
  assets: GuestAssets;
  /** The kernel's modules tree and the files of it the package's modules need (paths under lib/modules/<release>/). */
  kernelModules: { root: string; prepare: Step[]; paths: string[] };
  work: string;
  publishTo?: string;
  timeoutSeconds: number;
}

/** The check names, in the order /init prints them. */
export function kmodCheckNames(modules: Array<{ name: string }>): string[] {
  const keys = modules.map((m) => moduleKey(m.name));
  return ['kernel-release', 'installed', ...keys.map((k) => `load-${k}`), ...[...keys].reverse().map((k) => `unload-${k}`)];
}

export function planKmodGuestTest(input: KmodGuestInput): Plan {
  const { arch, release, work } = input;
  const guest = join(work, 'guest');
  const root = join(guest, 'root');
  const logsDir = join(guest, 'logs');
  const initrd = join(guest, 'initramfs.cpio.gz');
  const serial = join(logsDir, 'serial.log');
  const base = join('lib', 'modules', release);
  const rpmRoot = ['rpm', '--root', root, '--dbpath', '/var/lib/rpm'];
  const kmodFile = input.kmod.split('/').pop()!;
  const steps: Step[] = [
    { kind: 'remove', title: 'Clear the guest work directory', path: guest },
    { kind: 'mkdir', title: 'Create the log directory', path: logsDir },
    ...input.assets.prepare,
    ...input.kernelModules.prepare,
    { kind: 'copy', title: 'Add static busybox', from: input.assets.busybox, to: join(root, 'bin', 'busybox') },
    { kind: 'mkdir', title: 'Create the module directory', path: join(root, base) },
    // modprobe needs to know what the kernel builds in, or it looks for those modules as files.
    ...['modules.builtin', 'modules.builtin.modinfo', 'modules.order'].map(
      (f): Step => ({ kind: 'copy', title: `Add ${f}`, from: join(input.kernelModules.root, base, f), to: join(root, base, f), optional: true }),
    ),
    // The crypto API loads its templates and algorithms on demand (request_module), which no .modinfo names: a
    // crypto module's self-tests (gost-crypto's) need them in the guest as on the board.
    ...cryptoModulePaths(release, arch)
      .filter((p) => p.endsWith('/'))
      .map(
        (p): Step => ({ kind: 'copy', title: `Add ${p.replace(`${base}/`, '')}`, from: join(input.kernelModules.root, p), to: join(root, p), optional: true }),
      ),
    ...input.kernelModules.paths.map(
      (p): Step => ({ kind: 'copy', title: `Add ${p} (a dependency)`, from: join(input.kernelModules.root, base, p), to: join(root, base, p) }),
    ),
    { kind: 'exec', title: 'Create the guest rpm database', argv: [...rpmRoot, '--initdb'], log: 'rpm.log' },
    {
      kind: 'exec',
      title: `Install ${kmodFile} with rpm`,
      // Scriptlets would run host-side in a foreign root; depmod below does what %post does.
      argv: [...rpmRoot, '-i', '--nodeps', '--ignorearch', '--noscripts', '--nosignature', input.kmod],
      log: 'rpm.log',
    },
    { kind: 'remove', title: 'Drop the rpm database from the guest', path: join(root, 'var', 'lib', 'rpm') },
    { kind: 'exec', title: `depmod ${release} (what the package's %post does)`, argv: ['depmod', '-b', root, release], log: 'depmod.log' },
    {
      kind: 'write',
      title: 'Write the guest /init',
      path: join(root, 'init'),
      mode: 0o755,
      content: renderTemplate('test/kmod-init.sh.ejs', { release, modules: input.modules.map((m) => ({ ...m, key: moduleKey(m.name) })) }),
    },
    { kind: 'pack-initramfs', title: 'Pack the initramfs', root, archive: initrd },
    {
      kind: 'boot-guest',
      title: `Boot Linux ${release} in ${arch.qemu!.binary} (${arch.qemu!.machine}, ${arch.qemu!.cpu})`,
      argv: qemuArgv(arch, input.assets.kernelImage, initrd),
      serialLog: serial,
      log: 'qemu.log',
      timeoutSeconds: input.timeoutSeconds,
    },
    {
      kind: 'guest-report',
      title: 'Read the checks from the serial console',
      serialLog: serial,
      expected: kmodCheckNames(input.modules),
      skipped: [],
      ...(input.publishTo ? { publishTo: input.publishTo } : {}),
    },
  ];
  return {
    summary: `test ${input.modules.map((m) => m.name).join(', ')} for Linux ${release} on ${arch.rpm} in ${arch.qemu!.binary}`,
    logsDir,
    warnings: [],
    requires: ['rpm', 'depmod', arch.qemu!.binary],
    locks: [work],
    steps,
  };
}
