/**
 * The programs armkit runs and the packages that provide them, for apt-get and dnf. Both the executor's preflight
 * (refuse to start a plan that would stop half-way for a missing tool) and `armkit doctor` read this table.
 */
import type { Arch, CrossCompiler } from './arch.js';
import { missing } from './errors.js';
import type { Host } from './host.js';

export interface Packages {
  debian: string[];
  fedora: string[];
}

const PROGRAMS: Record<string, Packages> = {
  make: { debian: ['make'], fedora: ['make'] },
  gcc: { debian: ['gcc'], fedora: ['gcc'] },
  rpmbuild: { debian: ['rpm'], fedora: ['rpm-build'] },
  rpm: { debian: ['rpm'], fedora: ['rpm'] },
  rpm2cpio: { debian: ['rpm2cpio'], fedora: ['rpm'] },
  cpio: { debian: ['cpio'], fedora: ['cpio'] },
  depmod: { debian: ['kmod'], fedora: ['kmod'] },
  modprobe: { debian: ['kmod'], fedora: ['kmod'] },
  install: { debian: ['coreutils'], fedora: ['coreutils'] },
  'apt-get': { debian: ['apt'], fedora: [] },
  'apt-cache': { debian: ['apt'], fedora: [] },
  'dpkg-deb': { debian: ['dpkg'], fedora: ['dpkg'] },
  pahole: { debian: ['pahole'], fedora: ['dwarves'] },
  mock: { debian: ['mock'], fedora: ['mock'] },
  'copr-cli': { debian: [], fedora: ['copr-cli'] },
  rpmspec: { debian: ['rpm'], fedora: ['rpm-build'] },
  'qemu-system-aarch64': { debian: ['qemu-system-arm'], fedora: ['qemu-system-aarch64'] },
  'qemu-system-arm': { debian: ['qemu-system-arm'], fedora: ['qemu-system-arm'] },
  'qemu-system-x86_64': { debian: ['qemu-system-x86'], fedora: ['qemu-system-x86'] },
};

/** Packages providing a program, including a cross toolchain's `<prefix>gcc`, `<prefix>strip`, ... */
export function packagesFor(program: string, arches: readonly Arch[]): Packages | undefined {
  if (PROGRAMS[program]) return PROGRAMS[program];
  for (const arch of arches) {
    for (const cross of arch.cross) {
      if (program.startsWith(cross.prefix)) return cross.packages;
    }
  }
  return undefined;
}

export function installCommands(packages: Packages): string[] {
  const commands: string[] = [];
  if (packages.debian.length) commands.push(`apt-get install ${packages.debian.join(' ')}`);
  if (packages.fedora.length) commands.push(`dnf install ${packages.fedora.join(' ')}`);
  return commands;
}

export function installHint(program: string, arches: readonly Arch[]): string {
  const packages = packagesFor(program, arches);
  const commands = packages ? installCommands(packages) : [];
  if (commands.length === 0) return `${program} not found on PATH.`;
  return `${program} not found: install it with ${commands.map((c) => `"${c}"`).join(' or ')} (or run "armkit doctor --fix").`;
}

/** Fails, naming every missing program with its install command, before anything has run. */
export function assertPrograms(host: Host, programs: Iterable<string>, arches: readonly Arch[]): void {
  const absent = [...new Set(programs)].filter((p) => !host.which(p));
  if (absent.length === 0) return;
  const hints = absent.map((p) => installHint(p, arches));
  throw missing(hints[0]!, hints.slice(1));
}

/** The cross toolchain to use here: one already installed, else the one this host's package manager offers. */
export function chooseCross(arch: Arch, host: Host): CrossCompiler {
  return (
    arch.cross.find((c) => host.which(`${c.prefix}gcc`)) ??
    arch.cross.find((c) => host.family !== 'unknown' && c.packages[host.family].length > 0) ??
    arch.cross[0]!
  );
}

/** Compiler and binutils a kernel module build calls: the host gcc natively, the prefixed tools across. */
export function toolchainPrograms(crossPrefix?: string): string[] {
  if (!crossPrefix) return ['gcc'];
  return ['gcc', 'ld', 'strip', 'objdump'].map((tool) => `${crossPrefix}${tool}`);
}

export const RPM_BUILD_PROGRAMS = ['rpmbuild', 'rpm', 'rpm2cpio', 'cpio', 'make'];
export const DEBIAN_KERNEL_PROGRAMS = ['apt-get', 'apt-cache', 'dpkg-deb'];
