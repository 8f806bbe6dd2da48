/**
 * The requirement table (src/prereqs.ts): what doctor checks and installs per command and architecture, that every
 * Debian package has a Fedora counterpart (or a stated reason), and that docs/packages.md names each Fedora
 * package with the source it was checked against.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ARCHES, findArch } from '../../src/arch.js';
import { collectChecks, parseUses } from '../../src/commands/doctor.js';
import { needsFor, qemuFilePackages, tableEntries, USES } from '../../src/prereqs.js';
import { catchArmkit, fakeHost } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const docs = readFileSync(join(ROOT, 'docs', 'packages.md'), 'utf8');

describe('the requirement table', () => {
  it('gives every Debian package a Fedora counterpart, or says why Fedora has none', () => {
    const orphans = tableEntries().filter((n) => n.packages.debian.length > 0 && n.packages.fedora.length === 0 && !n.fedoraNone);
    expect(orphans.map((n) => n.name)).toEqual([]);
  });

  it('names every Fedora package of the table in docs/packages.md, in a row with its source', () => {
    const rows = docs.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| need'));
    const fedoraCells = rows.map((r) => r.split('|')[3] ?? '');
    const names = [...new Set(tableEntries().flatMap((n) => n.packages.fedora))];
    expect(names.length).toBeGreaterThan(25);
    const undocumented = names.filter((name) => !fedoraCells.some((cell) => new RegExp(`(^|[ ,])${name.replace(/[+.]/g, '\\$&')}([ ,]|$)`).test(cell)));
    expect(undocumented).toEqual([]);
    // Every row says where its Fedora name was checked.
    for (const r of rows) expect(r.split('|')[4]?.trim(), r).not.toBe('');
  });

  it('states the reason for every need Fedora has no package for, in the docs as well', () => {
    const none = tableEntries().filter((n) => n.packages.fedora.length === 0 && n.packages.debian.length > 0);
    expect(none.map((n) => n.name).sort()).toEqual(ARCHES.map((a) => `libc.a for ${a.rpm}`).sort());
    expect(docs).toMatch(/\| libc\.a for a cross target[^\n]*\| \*\*none\*\* \|/);
  });

  it('knows the package of each file QEMU loads at start, and of iPXE ROMs', () => {
    expect(qemuFilePackages('bios-256k.bin')).toEqual({ debian: ['seabios'], fedora: ['seabios-bin'] });
    expect(qemuFilePackages('efi-virtio.rom')).toEqual({ debian: ['ipxe-qemu'], fedora: ['ipxe-roms-qemu'] });
    expect(qemuFilePackages('unheard-of.bin')).toBeUndefined();
    for (const arch of ARCHES) for (const file of arch.qemu?.firmware ?? []) expect(qemuFilePackages(file), file).toBeDefined();
  });
});

describe('needsFor', () => {
  const host = fakeHost();
  const names = (use: (typeof USES)[number], arch: string, mode: 'native' | 'cross') => needsFor(use, findArch(arch), mode, host).map((n) => n.name);

  it("bench build for the host's own architecture needs its native gcc, not a cross compiler no archive has", () => {
    const needs = needsFor('bench', findArch('x86_64'), 'native', host);
    expect(needs.map((n) => n.name)).toContain('gcc');
    expect(needs.flatMap((n) => n.packages.debian)).not.toContain('gcc-x86-64-linux-gnu');
    // A foreign target still needs its cross toolchain and qemu-user.
    expect(names('bench', 'aarch64', 'cross')).toEqual(expect.arrayContaining(['aarch64-linux-gnu-gcc', 'qemu-aarch64-static', 'mmdebstrap']));
  });

  it('a cross build needs rpm tools, the prefixed toolchain and Debian kernel tools on Debian', () => {
    expect(names('build', 'aarch64', 'cross')).toEqual([
      'rpmbuild',
      'rpm',
      'rpm2cpio',
      'cpio',
      'make',
      'aarch64-linux-gnu-gcc',
      'aarch64-linux-gnu-ld',
      'aarch64-linux-gnu-strip',
      'aarch64-linux-gnu-objdump',
      'apt-get',
      'apt-cache',
      'dpkg-deb',
    ]);
    expect(needsFor('build', findArch('aarch64'), 'cross', fakeHost({ family: 'fedora' })).map((n) => n.name)).not.toContain('apt-get');
  });

  it('a guest test needs QEMU, the board firmware, the cross compiler and the static libc', () => {
    expect(names('test', 'aarch64', 'cross')).toEqual(expect.arrayContaining(['qemu-system-aarch64', 'aarch64-linux-gnu-gcc', 'libc.a for aarch64']));
    expect(names('test', 'x86_64', 'native')).toEqual(
      expect.arrayContaining(['qemu-system-x86_64', 'bios-256k.bin', 'linuxboot_dma.bin', 'gcc', 'libc.a for x86_64']),
    );
    // An ARM virt board loads no firmware with -kernel and no network card.
    expect(names('test', 'armv7hl', 'cross').filter((n) => n.endsWith('.bin') || n.endsWith('.rom'))).toEqual([]);
    expect(names('test', 'armv5tel', 'cross')).toEqual([]);
  });

  it('the spec and openssl commands name patch and perl where rpmbuild applies patches and runs Configure', () => {
    expect(names('openssl', 'aarch64', 'cross')).toEqual(expect.arrayContaining(['patch', 'perl', 'rpmspec', 'aarch64-linux-gnu-gcc']));
    expect(names('spec', 'x86_64', 'native')).toEqual(['rpmspec', 'rpm', 'rpm2cpio', 'cpio']);
    expect(names('suite', 'x86_64', 'native')).toEqual(expect.arrayContaining(['file', 'patch', 'modinfo', 'amd64 kernel headers']));
  });

  it('the static libc of a cross target is the Debian cross package, of the host libc6-dev / glibc-static', () => {
    const cross = needsFor('test', findArch('armv7hl'), 'cross', host).find((n) => n.name === 'libc.a for armv7hl')!;
    expect(cross.files).toEqual(['/usr/arm-linux-gnueabihf/lib/libc.a']);
    expect(cross.packages).toEqual({ debian: ['libc6-dev-armhf-cross'], fedora: [] });
    const native = needsFor('test', findArch('x86_64'), 'native', host).find((n) => n.name === 'libc.a for x86_64')!;
    expect(native.packages).toEqual({ debian: ['libc6-dev'], fedora: ['glibc-static'] });
  });
});

describe('doctor checks', () => {
  it("by default: build needs are required, test needs optional, the running kernel's headers optional", () => {
    const { checks } = collectChecks(fakeHost({}, ['make']), { arch: 'aarch64' });
    const byName = new Map(checks.map((c) => [c.name, c]));
    expect(byName.get('rpmbuild')).toMatchObject({ ok: false, packages: { debian: ['rpm'], fedora: ['rpm-build'] } });
    expect(byName.get('rpmbuild')!.optional).toBeUndefined();
    expect(byName.get('make')).toMatchObject({ ok: true, found: '/usr/bin/make' });
    expect(byName.get('qemu-system-aarch64')).toMatchObject({
      ok: false,
      optional: true,
      install: ['apt-get install qemu-system-arm', 'dnf install qemu-system-aarch64'],
    });
    expect(byName.get('libc.a for aarch64')).toMatchObject({ optional: true, packages: { debian: ['libc6-dev-arm64-cross'] } });
  });

  it('--for makes each named use required; a need of two uses is listed once with both purposes', () => {
    const { checks } = collectChecks(fakeHost(), { arch: 'aarch64', for: 'build,test' });
    expect(checks.filter((c) => c.optional)).toEqual([]);
    const rpm = checks.filter((c) => c.name === 'rpm');
    expect(rpm).toHaveLength(1);
    expect(rpm[0]!.purpose).toBe('armkit build (kmod RPMs); armkit test (QEMU guest)');
  });

  it('--arch all covers every architecture, each in its own default mode', () => {
    const { label, checks } = collectChecks(fakeHost(), { arch: 'all', for: 'all,suite' });
    expect(label).toMatch(/^aarch64 \(cross\), armv7hl \(cross\), armv5tel \(cross\), x86_64 \(native\) on x86_64/);
    const names = checks.map((c) => c.name);
    for (const tool of [
      'aarch64-linux-gnu-gcc',
      'arm-linux-gnueabihf-gcc',
      'arm-linux-gnueabi-gcc',
      'qemu-system-arm',
      'qemu-system-x86_64',
      'bios-256k.bin',
      'patch',
      'file',
      'amd64 kernel headers',
      'libc.a for armv7hl',
    ]) {
      expect(names, tool).toContain(tool);
    }
    // The test suite's profile never asks for the running kernel's headers (that package may not exist).
    expect(names.some((n) => n.startsWith('headers for '))).toBe(false);
    // Nothing the test suite needs is left without a Debian package.
    expect(checks.filter((c) => c.packages.debian.length === 0).map((c) => c.name)).toEqual([]);
  });

  it('refuses an unknown use with the list of known ones', () => {
    const message = catchArmkit(() => parseUses('build,tests')).message;
    expect(message).toMatch(/^--for tests: expected a list of build, install, test, spec, openssl, .*suite or all\.$/);
    for (const use of USES) expect(message).toContain(` ${use}`);
    expect(parseUses('all').required).toEqual(['build', 'install', 'test', 'spec', 'openssl', 'repo', 'bench']);
  });
});
