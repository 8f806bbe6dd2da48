/**
 * What armkit needs from the host and the packages that provide it, for apt-get and dnf. This is the one table:
 * the executor's preflight (refuse to start a plan that would stop half-way for a missing tool), `armkit doctor`
 * and `doctor --fix`, and test/setup-host.sh (which runs `doctor --fix` for the test suite) all read it, so they
 * cannot drift apart. docs/packages.md names the source each Fedora name was checked against.
 */
import { existsSync } from 'node:fs';
import { ARCHES, type Arch, type CrossCompiler, qemuUserName } from './arch.js';
import { missing } from './errors.js';
import { expandGlob } from './glob.js';
import type { Host } from './host.js';

export interface Packages {
  debian: string[];
  fedora: string[];
}

/** A thing the host must have: a program on PATH, or a file at one of several paths (firmware, static libraries). */
export interface Need {
  /** How doctor names it: the program, or the file. */
  name: string;
  program?: string;
  /** Any of these paths will do (distributions put firmware in different places); `*` in the last component. */
  files?: string[];
  packages: Packages;
  /** Why Fedora has no package for it, when packages.fedora is empty. A need without either is a table bug. */
  fedoraNone?: string;
}

const p = (debian: string[], fedora: string[]): Packages => ({ debian, fedora });

const PROGRAMS: Record<string, Packages> = {
  make: p(['make'], ['make']),
  gcc: p(['gcc'], ['gcc']),
  // Module signing: armkit checks the module's signature with openssl cms.
  openssl: p(['openssl'], ['openssl']),
  rpmbuild: p(['rpm'], ['rpm-build']),
  rpmspec: p(['rpm'], ['rpm-build']),
  rpm: p(['rpm'], ['rpm']),
  rpm2cpio: p(['rpm2cpio'], ['rpm']),
  cpio: p(['cpio'], ['cpio']),
  depmod: p(['kmod'], ['kmod']),
  modprobe: p(['kmod'], ['kmod']),
  modinfo: p(['kmod'], ['kmod']),
  install: p(['coreutils'], ['coreutils']),
  sha256sum: p(['coreutils'], ['coreutils']),
  tar: p(['tar'], ['tar']),
  gzip: p(['gzip'], ['gzip']),
  patch: p(['patch'], ['patch']),
  // A DKMS recipe's dkms.conf is sourced by bash in a cleared environment (env -i): src/dkms/conf.ts.
  bash: p(['bash'], ['bash']),
  env: p(['coreutils'], ['coreutils']),
  perl: p(['perl'], ['perl']),
  file: p(['file'], ['file']),
  'apt-get': p(['apt'], ['apt']),
  'apt-cache': p(['apt'], ['apt']),
  'dpkg-deb': p(['dpkg'], ['dpkg']),
  pahole: p(['pahole'], ['dwarves']),
  mock: p(['mock'], ['mock']),
  // armkit repo: the repository's metadata, package and repository signatures (gpg-agent holds the secret key for
  // gpg's signing), and the test suite's checks of them.
  createrepo_c: p(['createrepo-c'], ['createrepo_c']),
  rpmsign: p(['rpm'], ['rpm-sign']),
  rpmkeys: p(['rpm'], ['rpm']),
  gpg: p(['gnupg'], ['gnupg2']),
  gpgv: p(['gpgv'], ['gnupg2']),
  touch: p(['coreutils'], ['coreutils']),
  'gpg-agent': p(['gnupg'], ['gnupg2']),
  dnf: p(['dnf'], ['dnf']),
  // The test suite checks armkit completion's scripts in the shells themselves.
  zsh: p(['zsh'], ['zsh']),
  fish: p(['fish'], ['fish']),
  'copr-cli': p([], ['copr-cli']),
  // armkit bench build: the target root (mmdebstrap), builds inside it (chroot), the guest's initramfs (cat).
  mmdebstrap: p(['mmdebstrap'], ['mmdebstrap']),
  chroot: p(['coreutils'], ['coreutils']),
  cat: p(['coreutils'], ['coreutils']),
  // qemu-user for a foreign target root: the package also ships the binfmt_misc entries (flag F) that binfmt-support
  // (Debian) or systemd-binfmt (Fedora) registers where binfmt_misc is mounted; bench build checks the entry itself.
  'qemu-aarch64-static': p(['qemu-user-static', 'binfmt-support'], ['qemu-user-static']),
  'qemu-arm-static': p(['qemu-user-static', 'binfmt-support'], ['qemu-user-static']),
  'qemu-x86_64-static': p(['qemu-user-static', 'binfmt-support'], ['qemu-user-static']),
  'qemu-system-aarch64': p(['qemu-system-arm'], ['qemu-system-aarch64']),
  'qemu-system-arm': p(['qemu-system-arm'], ['qemu-system-arm']),
  'qemu-system-x86_64': p(['qemu-system-x86'], ['qemu-system-x86']),
};

/**
 * Firmware and option ROMs QEMU loads at start. A board that loads one that is missing does not start at all
 * ("failed to find romfile"), so doctor checks them and the boot step names the package when QEMU says so.
 */
export const QEMU_FILES: Record<string, { paths: string[]; packages: Packages }> = {
  'bios-256k.bin': { paths: ['/usr/share/seabios/bios-256k.bin', '/usr/share/qemu/bios-256k.bin'], packages: p(['seabios'], ['seabios-bin']) },
  'vgabios-stdvga.bin': {
    paths: ['/usr/share/seabios/vgabios-stdvga.bin', '/usr/share/qemu/vgabios-stdvga.bin'],
    packages: p(['seabios'], ['seavgabios-bin']),
  },
  'linuxboot_dma.bin': { paths: ['/usr/share/qemu/linuxboot_dma.bin'], packages: p(['qemu-system-data'], ['qemu-common']) },
};

/** iPXE's ROMs (efi-*.rom, pxe-*.rom): only a board with a network card needs one; armkit's guests have none. */
const IPXE: Packages = p(['ipxe-qemu'], ['ipxe-roms-qemu']);

/** The packaged amd64 kernel headers the test suite builds natively against. */
const AMD64_HEADERS: Need = {
  name: 'amd64 kernel headers',
  files: ['/usr/src/linux-headers-*-amd64', '/usr/src/kernels/*.x86_64'],
  packages: p(['linux-headers-amd64'], ['kernel-devel']),
};

/** libcrypto's headers and link library: sign-file, built here when a header tree ships only its source. */
export const LIBCRYPTO_DEV: Need = {
  name: 'libcrypto development files (to build sign-file)',
  files: ['/usr/include/openssl/cms.h'],
  packages: p(['libssl-dev'], ['openssl-devel']),
};

/** The package that holds a file QEMU could not find, if armkit knows it. */
export function qemuFilePackages(file: string): Packages | undefined {
  return QEMU_FILES[file]?.packages ?? (/^(efi|pxe)-[\w-]+\.rom$/.test(file) ? IPXE : undefined);
}

/** The static C library for the target, which the guest's known-answer program is linked against. */
export function staticLibcNeed(arch: Arch, native: boolean): Need {
  if (native) {
    return {
      name: `libc.a for ${arch.rpm}`,
      files: [`/usr/lib/${arch.libc.triplet}/libc.a`, '/usr/lib64/libc.a', '/usr/lib/libc.a'],
      packages: p(['libc6-dev'], ['glibc-static']),
    };
  }
  return {
    name: `libc.a for ${arch.rpm}`,
    files: [`/usr/${arch.libc.triplet}/lib/libc.a`],
    packages: p([`libc6-dev-${arch.debian.arch}-cross`], []),
    fedoraNone: "Fedora's cross compilers build kernels only: it ships no C library for them at the path they search",
  };
}

/** The table entry for a program, including a cross toolchain's `<prefix>gcc`, `<prefix>strip`, ... */
export function packagesFor(program: string, arches: readonly Arch[] = ARCHES): Packages | undefined {
  if (PROGRAMS[program]) return PROGRAMS[program];
  for (const arch of arches) {
    for (const cross of arch.cross) {
      if (program.startsWith(cross.prefix)) return cross.packages;
    }
  }
  return undefined;
}

export function programNeed(program: string): Need {
  return { name: program, program, packages: packagesFor(program) ?? p([], []) };
}

/** Where the need is met on this host, or undefined. */
export function findNeed(need: Need, host: Host): string | undefined {
  if (need.program) return host.which(need.program);
  for (const file of need.files ?? []) {
    const found = file.includes('*') ? expandGlob(file)[0] : existsSync(file) ? file : undefined;
    if (found) return found;
  }
  return undefined;
}

export function installCommands(packages: Packages): string[] {
  const commands: string[] = [];
  if (packages.debian.length) commands.push(`apt-get install ${packages.debian.join(' ')}`);
  if (packages.fedora.length) commands.push(`dnf install ${packages.fedora.join(' ')}`);
  return commands;
}

export function installHint(program: string, arches: readonly Arch[] = ARCHES): string {
  const packages = packagesFor(program, arches);
  const commands = packages ? installCommands(packages) : [];
  if (commands.length === 0) return `${program} not found on PATH.`;
  return `${program} not found: install it with ${commands.map((c) => `"${c}"`).join(' or ')} (or run "armkit doctor --fix").`;
}

/** Fails, naming every missing program with its install command, before anything has run. */
export function assertPrograms(host: Host, programs: Iterable<string>, arches: readonly Arch[] = ARCHES): void {
  const absent = [...new Set(programs)].filter((prog) => !host.which(prog));
  if (absent.length === 0) return;
  const hints = absent.map((prog) => installHint(prog, arches));
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

/** What each armkit command runs, for doctor: `--for build,test,...`. */
export const USES = ['build', 'install', 'test', 'spec', 'openssl', 'repo', 'bench', 'suite'] as const;
export type Use = (typeof USES)[number];

export const USE_PURPOSE: Record<Use, string> = {
  build: 'armkit build (kmod RPMs)',
  install: 'armkit install',
  test: 'armkit test (QEMU guest)',
  spec: 'armkit spec openssl',
  openssl: 'armkit build openssl (local rpmbuild)',
  repo: 'armkit repo (dnf repository, signing)',
  bench: 'armkit bench build (cross, emulated in a target root, QEMU guest)',
  suite: "armkit's own test suite",
};

/**
 * Everything one use needs for one target. Pure apart from the host facts it is given: the same list feeds doctor's
 * report, doctor --fix and the test suite's setup.
 */
export function needsFor(use: Use, arch: Arch, mode: 'native' | 'cross', host: Host): Need[] {
  const crossPrefix = mode === 'cross' ? chooseCross(arch, host).prefix : undefined;
  const programs = (names: string[]) => names.map(programNeed);
  const debianKernels = host.family === 'debian' ? DEBIAN_KERNEL_PROGRAMS : [];
  switch (use) {
    case 'build':
      return programs([...RPM_BUILD_PROGRAMS, ...toolchainPrograms(crossPrefix), ...debianKernels]);
    case 'install':
      // armkit install builds for the machine it runs on only.
      return mode === 'native' ? programs(['make', 'install', 'depmod', 'modprobe', ...toolchainPrograms()]) : [];
    case 'test': {
      if (!arch.qemu) return [];
      const files = arch.qemu.firmware.map((file): Need => ({ name: file, files: QEMU_FILES[file]!.paths, packages: QEMU_FILES[file]!.packages }));
      // busybox and the kernel image come from Debian's archive through armkit's own apt state.
      return [
        ...programs([arch.qemu.binary, 'rpm', 'rpm2cpio', 'cpio', 'depmod', 'make', `${crossPrefix ?? ''}gcc`, ...DEBIAN_KERNEL_PROGRAMS]),
        ...files,
        staticLibcNeed(arch, mode === 'native'),
      ];
    }
    case 'spec':
      return programs(['rpmspec', 'rpm', 'rpm2cpio', 'cpio']);
    case 'openssl':
      // rpmbuild's %prep applies the distribution's patches; OpenSSL's Configure is perl.
      return programs(['rpmbuild', 'rpm', 'rpmspec', 'rpm2cpio', 'cpio', 'make', 'patch', 'perl', `${crossPrefix ?? ''}gcc`]);
    case 'repo':
      // rpm reads the packages' build times (the repository's revision), touch gives the copies those times;
      // signing runs rpmsign and gpg, and armkit checks the signatures (rpmkeys, gpgv) before it publishes.
      return programs(['createrepo_c', 'rpm', 'touch', 'rpmsign', 'rpmkeys', 'gpg', 'gpg-agent', 'gpgv']);
    case 'bench':
      // The cross build here; the target root (mmdebstrap, run through qemu-user for a foreign target) that the
      // emulated build enters with chroot and the guest boots as its initramfs.
      return [
        ...programs([
          'make',
          // For the host's own architecture the native compiler does (Debian's gcc also installs the triplet-named
          // one, and no archive has a cross compiler for the architecture it is built for).
          ...toolchainPrograms(arch === host.arch ? undefined : chooseCross(arch, host).prefix),
          'mmdebstrap',
          'chroot',
          ...(arch.qemu ? [arch.qemu.binary, 'cat'] : []),
          ...(arch === host.arch ? [] : [`${qemuUserName(arch)}-static`]),
          ...debianKernels,
        ]),
      ];
    case 'suite':
      // What the tests run themselves, besides armkit: they ask file and modinfo about modules, apply diffs with
      // patch, build natively against the packaged amd64 headers, make throwaway signing keys (gpg), check
      // signatures against an rpm database (rpmkeys) and install from armkit's repository as a board does (dnf).
      return [
        ...programs(['file', 'modinfo', 'patch', 'perl', 'tar', 'gzip', 'sha256sum', 'gpg', 'rpmkeys', 'dnf', 'openssl', 'zsh', 'fish']),
        // The module-signing tests make throwaway keys (openssl req) and build a sign-file from source.
        LIBCRYPTO_DEV,
        ...(arch === host.arch && arch.rpm === 'x86_64' ? [AMD64_HEADERS] : []),
      ];
  }
}

/** Every entry of the table, for the checks that keep it whole (every apt package has a dnf counterpart). */
export function tableEntries(): Need[] {
  return [
    ...Object.keys(PROGRAMS).map(programNeed),
    ...Object.entries(QEMU_FILES).map(([name, f]): Need => ({ name, files: f.paths, packages: f.packages })),
    { name: 'iPXE option ROMs', files: [], packages: IPXE },
    // Debian and Fedora name an architecture's cross toolchain differently (arm-linux-gnueabihf-, arm-linux-gnu-).
    ...ARCHES.map(
      (a): Need => ({
        name: `${a.rpm} cross toolchain`,
        packages: p(
          a.cross.flatMap((c) => c.packages.debian),
          a.cross.flatMap((c) => c.packages.fedora),
        ),
      }),
    ),
    ...ARCHES.flatMap((a) => [staticLibcNeed(a, true), staticLibcNeed(a, false)]),
    AMD64_HEADERS,
    LIBCRYPTO_DEV,
  ];
}
