/**
 * The in-process RPM reader against the real rpm tools: small packages built here with rpmbuild (gzip, xz and
 * zstd payloads, an epoch, a source package) are read by readRpmHeader and rpmMember and by rpm -qp and
 * rpm2cpio | cpio, and the answers must agree. A gzip'd payload is read in-process; any other says "ask rpm2cpio".
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { machine, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { archOfMachine } from '../../src/arch.js';
import { readRpmHeader, rpmMember } from '../../src/artifacts/rpm-file.js';
import { ArmkitError } from '../../src/errors.js';
import { KERNEL_STEPS } from '../../src/kernel/steps.js';
import { createRunner } from '../../src/proc/runner.js';
import type { CheckModuleStep, StepContext } from '../../src/step.js';
import { rpmField, unpackRpm } from '../helpers/rpm.js';

const top = mkdtempSync(join(tmpdir(), 'armkit-rpm-file-'));

// A package with a binary file (gzip output), a text file, a directory and a hard link pair.
const spec = (name: string) => `Name: ${name}
Version: 1.2^git3
Release: 4%{?dist}
Epoch: 7
Summary: armkit's RPM reader test
License: MIT
BuildArch: noarch
%description
Test package.
%install
mkdir -p %{buildroot}/usr/lib/armkit/sub
seq 1 5000 | gzip -n -9 > %{buildroot}/usr/lib/armkit/blob.bin
printf 'hello\\n' > %{buildroot}/usr/lib/armkit/sub/hello.txt
printf 'linked\\n' > %{buildroot}/usr/lib/armkit/a.txt
ln %{buildroot}/usr/lib/armkit/a.txt %{buildroot}/usr/lib/armkit/b.txt
%files
/usr/lib/armkit
`;

async function build(name: string, payload: string): Promise<{ rpm: string; srpm: string }> {
  const dir = join(top, name);
  mkdirSync(join(dir, 'SPECS'), { recursive: true });
  writeFileSync(join(dir, 'SPECS', `${name}.spec`), spec(name));
  await execa('rpmbuild', [
    '-ba',
    '--define',
    `_topdir ${dir}`,
    '--define',
    `_binary_payload ${payload}`,
    '--define',
    `_source_payload ${payload}`,
    join(dir, 'SPECS', `${name}.spec`),
  ]);
  const rpm = join(dir, 'RPMS/noarch', readdirSync(join(dir, 'RPMS/noarch'))[0]!);
  const srpm = join(dir, 'SRPMS', readdirSync(join(dir, 'SRPMS'))[0]!);
  return { rpm, srpm };
}

const built: Record<string, { rpm: string; srpm: string }> = {};
beforeAll(async () => {
  built.gzip = await build('armkit-gz', 'w9.gzdio');
  built.xz = await build('armkit-xz', 'w6.xzdio');
  built.zstd = await build('armkit-zstd', 'w19.zstdio');
}, 120_000);

describe('readRpmHeader', () => {
  it.each(['gzip', 'xz', 'zstd'])('reads what rpm -qp reads from a %s package and its source package', async (kind) => {
    for (const file of [built[kind]!.rpm, built[kind]!.srpm]) {
      const header = readRpmHeader(file);
      expect(header.name).toBe(await rpmField(file, 'NAME'));
      expect(header.version).toBe(await rpmField(file, 'VERSION'));
      expect(header.release).toBe(await rpmField(file, 'RELEASE'));
      expect(header.arch).toBe(await rpmField(file, 'ARCH'));
      expect(header.epoch).toBe(Number(await rpmField(file, 'EPOCH')));
      expect(header.payloadCompressor).toBe(await rpmField(file, 'PAYLOADCOMPRESSOR'));
      expect(header.source).toBe(file.endsWith('.src.rpm'));
    }
    expect(readRpmHeader(built[kind]!.rpm).version).toBe('1.2^git3');
  });

  it('refuses a file that is no RPM, and one cut inside its header, naming the file', () => {
    const notRpm = join(top, 'not.rpm');
    writeFileSync(notRpm, 'PK\x03\x04 this is a zip file, or anything else'.padEnd(200, '.'));
    expect(() => readRpmHeader(notRpm)).toThrow(ArmkitError);
    expect(() => readRpmHeader(notRpm)).toThrow(`${notRpm} is not an RPM package armkit can read: it does not start with the RPM lead.`);
    const cut = join(top, 'cut.rpm');
    writeFileSync(cut, readFileSync(built.gzip!.rpm).subarray(0, 400));
    expect(() => readRpmHeader(cut)).toThrow(/cut\.rpm is not an RPM package armkit can read: it ends at byte \d+, inside its header/);
  });
});

describe('rpmMember', () => {
  it('gives the bytes rpm2cpio | cpio unpack, from a gzip payload, and null for a path the package lacks', async () => {
    const dir = join(top, 'unpacked');
    await unpackRpm(built.gzip!.rpm, dir);
    for (const member of ['usr/lib/armkit/blob.bin', 'usr/lib/armkit/sub/hello.txt']) {
      const ours = rpmMember(built.gzip!.rpm, member);
      expect(ours).toBeInstanceOf(Buffer);
      expect(Buffer.compare(ours as Buffer, readFileSync(join(dir, member)))).toBe(0);
    }
    expect(rpmMember(built.gzip!.rpm, '/usr/lib/armkit/sub/hello.txt')?.toString()).toBe('hello\n');
    expect(rpmMember(built.gzip!.rpm, 'usr/lib/armkit/missing.ko')).toBeNull();
    // The directory itself is a member, but no file of that name.
    expect(rpmMember(built.gzip!.rpm, 'usr/lib/armkit/sub')).toBeNull();
  });

  it('reads a hard-linked file from the entry that carries its data, or leaves it to cpio', async () => {
    const a = rpmMember(built.gzip!.rpm, 'usr/lib/armkit/a.txt');
    const b = rpmMember(built.gzip!.rpm, 'usr/lib/armkit/b.txt');
    // rpm writes a hard link's data once, on its last entry; the others say "ask cpio" rather than "empty".
    const answers = [a, b].map((x) => (x === undefined ? 'cpio' : x?.toString()));
    expect(answers).toContain('linked\n');
    expect(answers.every((x) => x === 'linked\n' || x === 'cpio')).toBe(true);
  });

  it.each(['xz', 'zstd'])('leaves a %s payload to rpm2cpio and cpio (undefined), whatever the member', (kind) => {
    expect(rpmMember(built[kind]!.rpm, 'usr/lib/armkit/blob.bin')).toBeUndefined();
    expect(rpmMember(built[kind]!.rpm, 'usr/lib/armkit/missing.ko')).toBeUndefined();
  });
});

describe('check-module on a kmod package', () => {
  const release = '6.1.0-armkit-test';
  const member = `lib/modules/${release}/extra/m/m.ko`;
  // The host's own arch: a native gcc makes the module, rpmbuild files it under RPMS/<arch>.
  const host = archOfMachine(machine())!;
  const kmods: Record<string, string> = {};

  beforeAll(async () => {
    // A relocatable ELF object with the .modinfo string kbuild writes: enough for the machine and vermagic checks.
    const src = join(top, 'm.c');
    writeFileSync(src, `__attribute__((section(".modinfo"), used)) static const char v[] = "vermagic=${release} SMP mod_unload";\n`);
    await execa('gcc', ['-c', '-o', join(top, 'm.ko'), src]);
    for (const [kind, payload] of [
      ['gzip', 'w9.gzdio'],
      ['zstd', 'w19.zstdio'],
    ] as const) {
      const dir = join(top, `kmod-${kind}`);
      mkdirSync(join(dir, 'SPECS'), { recursive: true });
      writeFileSync(
        join(dir, 'SPECS', 'k.spec'),
        `Name: kmod-m-${release}\nVersion: 1\nRelease: 1\nSummary: m\nLicense: MIT\n%description\nm\n%global debug_package %{nil}\n%define __spec_install_post %{nil}\n%install\nmkdir -p %{buildroot}/lib/modules/${release}/extra/m\ncp ${join(top, 'm.ko')} %{buildroot}/${member}\n%files\n/lib/modules/${release}\n`,
      );
      await execa('rpmbuild', ['-bb', '--define', `_topdir ${dir}`, '--define', `_binary_payload ${payload}`, join(dir, 'SPECS', 'k.spec')]);
      const rpms = join(dir, 'RPMS', host.rpm);
      kmods[kind] = join(rpms, readdirSync(rpms)[0]!);
    }
  }, 120_000);

  const ctx = (dir: string): StepContext => ({ logsDir: dir, runner: createRunner(), verbose: false, note: () => {} });
  const step = (path: string, scratchDir: string, releaseWanted = release): CheckModuleStep => ({
    kind: 'check-module',
    title: 'Check m.ko',
    path,
    arch: host,
    release: releaseWanted,
    moduleInRpm: member,
    scratch: scratchDir,
  });

  it.each(['gzip', 'zstd'])('checks the module in a %s package (zstd through rpm2cpio and cpio) with the same facts', async (kind) => {
    const dir = mkdtempSync(join(top, `check-${kind}-`));
    const facts = await KERNEL_STEPS['check-module'].run(step(kmods[kind]!, join(dir, 'payload')), ctx(dir));
    expect(facts).toMatchObject({ machine: host.elf.machine, elfClass: host.elf.class, vermagic: `${release} SMP mod_unload` });
    expect(readFileSync(join(dir, 'payload', member))).toEqual(readFileSync(join(top, 'm.ko')));
    // gzip is read in-process; only the zstd package went through rpm2cpio and cpio (their log).
    expect(existsSync(join(dir, 'payload.log'))).toBe(kind === 'zstd');
  });

  it.each(['gzip', 'zstd'])('refuses a %s package whose module names another release, and one without the module', async (kind) => {
    const dir = mkdtempSync(join(top, `refuse-${kind}-`));
    await expect(KERNEL_STEPS['check-module'].run(step(kmods[kind]!, join(dir, 'payload'), '6.1.0-other'), ctx(dir))).rejects.toThrow(
      /has vermagic "6\.1\.0-armkit-test SMP mod_unload", which does not name the kernel release 6\.1\.0-other/,
    );
    await expect(
      KERNEL_STEPS['check-module'].run({ ...step(kmods[kind]!, join(dir, 'payload')), moduleInRpm: 'lib/modules/x/extra/none.ko' }, ctx(dir)),
    ).rejects.toThrow(`${kmods[kind]} holds no lib/modules/x/extra/none.ko.`);
  });
});
