/**
 * The one table of target architectures. Every other module asks this table; nothing else spells a GNU triplet,
 * a kernel ARCH value, a Debian architecture or a QEMU machine.
 */
import { usageError } from './errors.js';

export interface CrossCompiler {
  /** CROSS_COMPILE prefix, e.g. "aarch64-linux-gnu-". */
  prefix: string;
  /** Package names that provide `${prefix}gcc` and `${prefix}strip`/`objdump`. */
  packages: { debian: string[]; fedora: string[] };
}

export interface Arch {
  /** RPM architecture name: what `rpmbuild --target` takes and what the package file ends with. */
  rpm: string;
  /** Other names a user may type for it. */
  aliases: string[];
  /** `uname -m` values of machines that run this architecture natively. */
  unameMachines: string[];
  /** Linux kbuild ARCH. */
  kernelArch: string;
  /** Kconfig symbols a kernel header tree for this architecture must have set (=y). */
  kconfig: string[];
  /** ELF header facts of objects built for it. */
  elf: { machine: number; class: 32 | 64; name: string };
  /** Cross compilers that can build for it, preferred first (Debian names the triplet differently from Fedora). */
  cross: CrossCompiler[];
  /** Debian's name for the architecture and its kernel flavour for this kind of board. */
  debian: { arch: string; flavour: string };
  /** OpenSSL Configure target. */
  openssl: string;
  /**
   * QEMU system emulation of a board with this CPU, if one can boot Debian's kernel for it: extra arguments the
   * board needs, and the firmware files QEMU loads for it at start (src/prereqs.ts says which package has each).
   */
  qemu: { binary: string; machine: string; cpu: string; console: string; args: string[]; firmware: string[] } | null;
  /** Default mock config / Copr chroot; null where Fedora no longer builds for the architecture. */
  fedoraChroot: string | null;
  /** glibc for the target: its Debian multiarch triplet (cross libraries live in /usr/<triplet>/lib) and loader. */
  libc: { triplet: string; loader: string };
}

export const ARCHES: readonly Arch[] = [
  {
    rpm: 'aarch64',
    aliases: ['arm64'],
    unameMachines: ['aarch64', 'arm64'],
    kernelArch: 'arm64',
    kconfig: ['CONFIG_ARM64'],
    elf: { machine: 183, class: 64, name: 'AArch64' },
    cross: [
      {
        prefix: 'aarch64-linux-gnu-',
        packages: { debian: ['gcc-aarch64-linux-gnu', 'binutils-aarch64-linux-gnu'], fedora: ['gcc-aarch64-linux-gnu', 'binutils-aarch64-linux-gnu'] },
      },
    ],
    debian: { arch: 'arm64', flavour: 'arm64' },
    openssl: 'linux-aarch64',
    qemu: { binary: 'qemu-system-aarch64', machine: 'virt', cpu: 'cortex-a57', console: 'ttyAMA0', args: [], firmware: [] },
    fedoraChroot: 'fedora-rawhide-aarch64',
    libc: { triplet: 'aarch64-linux-gnu', loader: '/lib/ld-linux-aarch64.so.1' },
  },
  {
    rpm: 'armv7hl',
    aliases: ['armhf', 'armv7', 'armv7l'],
    unameMachines: ['armv7l', 'armv8l'],
    kernelArch: 'arm',
    kconfig: ['CONFIG_ARM', 'CONFIG_CPU_V7'],
    elf: { machine: 40, class: 32, name: 'ARM' },
    cross: [
      {
        prefix: 'arm-linux-gnueabihf-',
        packages: { debian: ['gcc-arm-linux-gnueabihf', 'binutils-arm-linux-gnueabihf'], fedora: [] },
      },
      // Fedora's bare-metal-free kernel cross compiler: enough for modules, which link no libc.
      { prefix: 'arm-linux-gnu-', packages: { debian: [], fedora: ['gcc-arm-linux-gnu', 'binutils-arm-linux-gnu'] } },
    ],
    debian: { arch: 'armhf', flavour: 'armmp' },
    openssl: 'linux-armv4',
    qemu: { binary: 'qemu-system-arm', machine: 'virt', cpu: 'cortex-a15', console: 'ttyAMA0', args: [], firmware: [] },
    // Fedora stopped building for 32-bit ARM with Fedora 37.
    fedoraChroot: null,
    libc: { triplet: 'arm-linux-gnueabihf', loader: '/lib/ld-linux-armhf.so.3' },
  },
  {
    rpm: 'armv5tel',
    aliases: ['armel', 'armv5', 'kirkwood'],
    unameMachines: ['armv5tel', 'armv5tejl'],
    kernelArch: 'arm',
    kconfig: ['CONFIG_ARM', 'CONFIG_CPU_32v5'],
    elf: { machine: 40, class: 32, name: 'ARM' },
    cross: [
      {
        prefix: 'arm-linux-gnueabi-',
        packages: { debian: ['gcc-arm-linux-gnueabi', 'binutils-arm-linux-gnueabi'], fedora: [] },
      },
      { prefix: 'arm-linux-gnu-', packages: { debian: [], fedora: ['gcc-arm-linux-gnu', 'binutils-arm-linux-gnu'] } },
    ],
    debian: { arch: 'armel', flavour: 'marvell' },
    openssl: 'linux-armv4',
    // No QEMU board boots Debian's Kirkwood (marvell) kernel.
    qemu: null,
    fedoraChroot: null,
    libc: { triplet: 'arm-linux-gnueabi', loader: '/lib/ld-linux.so.3' },
  },
  {
    rpm: 'x86_64',
    aliases: ['amd64', 'x64'],
    unameMachines: ['x86_64'],
    kernelArch: 'x86',
    kconfig: ['CONFIG_X86_64'],
    elf: { machine: 62, class: 64, name: 'x86-64' },
    cross: [
      {
        prefix: 'x86_64-linux-gnu-',
        packages: { debian: ['gcc-x86-64-linux-gnu', 'binutils-x86-64-linux-gnu'], fedora: ['gcc-x86_64-linux-gnu', 'binutils-x86_64-linux-gnu'] },
      },
    ],
    debian: { arch: 'amd64', flavour: 'amd64' },
    openssl: 'linux-x86_64',
    // No KVM on build machines and CI runners: TCG, stated so QEMU does not probe. No VGA card: its ROM
    // (vgabios-stdvga.bin) is one more file to need, and the console is serial.
    qemu: {
      binary: 'qemu-system-x86_64',
      machine: 'q35',
      cpu: 'max',
      console: 'ttyS0',
      args: ['-accel', 'tcg', '-vga', 'none'],
      firmware: ['bios-256k.bin', 'linuxboot_dma.bin'],
    },
    fedoraChroot: 'fedora-rawhide-x86_64',
    libc: { triplet: 'x86_64-linux-gnu', loader: '/lib64/ld-linux-x86-64.so.2' },
  },
];

/** Looks up an architecture by RPM name or alias; a usage error lists the known ones. */
export function findArch(name: string): Arch {
  const wanted = name.trim().toLowerCase();
  const arch = ARCHES.find((a) => a.rpm === wanted || a.aliases.includes(wanted));
  if (!arch) {
    throw usageError(`Unknown architecture "${name}": armkit knows ${ARCHES.map((a) => a.rpm).join(', ')}.`);
  }
  return arch;
}

/** qemu-user's name for an architecture (qemu-aarch64, qemu-arm, qemu-x86_64), which is also its binfmt_misc entry. */
export function qemuUserName(arch: Arch): string {
  return `qemu-${arch.kernelArch === 'arm64' ? 'aarch64' : arch.kernelArch === 'x86' ? 'x86_64' : arch.kernelArch}`;
}

/** The architecture a machine with this `uname -m` runs natively, if armkit knows it. */
export function archOfMachine(machine: string): Arch | undefined {
  return ARCHES.find((a) => a.unameMachines.includes(machine));
}

export function archByElfMachine(machine: number, elfClass: number): Arch[] {
  return ARCHES.filter((a) => a.elf.machine === machine && a.elf.class === elfClass);
}
