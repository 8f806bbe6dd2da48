import { describe, expect, it } from 'vitest';
import { ARCHES, archOfMachine, findArch } from '../../src/arch.js';
import { catchArmkit } from './helpers.js';

describe('findArch', () => {
  it.each(['aarch64', 'armv7hl', 'armv5tel', 'x86_64'])('finds %s by its RPM name', (name) => {
    expect(findArch(name).rpm).toBe(name);
  });

  it.each([
    ['arm64', 'aarch64'],
    ['armhf', 'armv7hl'],
    ['armel', 'armv5tel'],
    ['amd64', 'x86_64'],
    ['armv7l', 'armv7hl'],
    ['kirkwood', 'armv5tel'],
  ])('maps alias %s to %s', (alias, rpm) => {
    expect(findArch(alias).rpm).toBe(rpm);
  });

  it('ignores case and surrounding blanks', () => {
    expect(findArch('  ARM64 ').rpm).toBe('aarch64');
  });

  it('refuses an unknown architecture with a usage error listing the known ones', () => {
    const error = catchArmkit(() => findArch('mips'));
    expect(error.kind).toBe('usage');
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('"mips"');
    for (const rpm of ['aarch64', 'armv7hl', 'armv5tel', 'x86_64']) expect(error.message).toContain(rpm);
  });

  it('does not accept a debian flavour that is no alias', () => {
    expect(catchArmkit(() => findArch('armmp')).kind).toBe('usage');
  });
});

describe('archOfMachine', () => {
  it.each([
    ['aarch64', 'aarch64'],
    ['arm64', 'aarch64'],
    ['armv7l', 'armv7hl'],
    ['armv8l', 'armv7hl'],
    ['armv5tel', 'armv5tel'],
    ['armv5tejl', 'armv5tel'],
    ['x86_64', 'x86_64'],
  ])('maps uname -m %s to %s', (machine, rpm) => {
    expect(archOfMachine(machine)?.rpm).toBe(rpm);
  });

  it('is undefined for a machine armkit does not know', () => {
    expect(archOfMachine('riscv64')).toBeUndefined();
    expect(archOfMachine('i686')).toBeUndefined();
  });
});

describe('ARCHES table', () => {
  it('has the four architectures, each named once', () => {
    const names = ARCHES.flatMap((a) => [a.rpm, ...a.aliases]);
    expect(ARCHES.map((a) => a.rpm)).toEqual(['aarch64', 'armv7hl', 'armv5tel', 'x86_64']);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(ARCHES.map((a) => [a.rpm, a] as const))('%s has cross compilers whose prefixes end in "-"', (_rpm, arch) => {
    expect(arch.cross.length).toBeGreaterThan(0);
    for (const cross of arch.cross) {
      expect(cross.prefix).toMatch(/^[a-z0-9_]+-linux-gnu[a-z]*-$/);
      expect(cross.packages.debian.length + cross.packages.fedora.length).toBeGreaterThan(0);
    }
  });

  it.each(ARCHES.map((a) => [a.rpm, a] as const))('%s has a Debian arch and flavour and Kconfig symbols', (_rpm, arch) => {
    expect(arch.debian.arch).toMatch(/^[a-z0-9]+$/);
    expect(arch.debian.flavour).toMatch(/^[a-z0-9]+$/);
    expect(arch.kconfig.length).toBeGreaterThan(0);
    for (const symbol of arch.kconfig) expect(symbol).toMatch(/^CONFIG_[A-Z0-9_a-z]+$/);
  });

  it('uses the Debian names armkit downloads headers for', () => {
    expect(ARCHES.map((a) => [a.rpm, a.debian.arch, a.debian.flavour])).toEqual([
      ['aarch64', 'arm64', 'arm64'],
      ['armv7hl', 'armhf', 'armmp'],
      ['armv5tel', 'armel', 'marvell'],
      ['x86_64', 'amd64', 'amd64'],
    ]);
  });

  it('uses Debian flavour "marvell" for armv5tel', () => {
    expect(findArch('armv5tel').debian.flavour).toBe('marvell');
  });

  it('records ELF machine and class matching the kernel ARCH', () => {
    expect(findArch('aarch64').elf).toMatchObject({ machine: 183, class: 64 });
    expect(findArch('armv7hl').elf).toMatchObject({ machine: 40, class: 32 });
    expect(findArch('armv5tel').elf).toMatchObject({ machine: 40, class: 32 });
    expect(findArch('x86_64').elf).toMatchObject({ machine: 62, class: 64 });
    expect(ARCHES.map((a) => a.kernelArch)).toEqual(['arm64', 'arm', 'arm', 'x86']);
  });
});
