/**
 * `armkit test` boots the target kernel in QEMU (TCG) with the packages installed by rpm, and reads each check
 * from the serial console. One guest per architecture with the suite's module; one more aarch64 boot for a module
 * the kernel must reject; and the real cryptodev-linux when its pinned release archive is in the cache.
 */

import { cpSync, existsSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { armkit, FIXTURE_MODULE, FIXTURE_VERSION, installedAmd64Release, show, TEST_CACHE, tempDir } from '../helpers/cli.js';

interface Check {
  name: string;
  status: 'pass' | 'fail' | 'skipped';
  detail?: string;
}

const amd64 = installedAmd64Release();
const fixtureArgs = ['--source', FIXTURE_MODULE, '--version', FIXTURE_VERSION];
const byName = (results: Check[]) => Object.fromEntries(results.map((r) => [r.name, r]));

const GUESTS = [
  { arch: 'aarch64', kernel: 'debian:latest' },
  { arch: 'armv7hl', kernel: 'debian:latest' },
  { arch: 'x86_64', kernel: amd64 },
];

for (const g of GUESTS) {
  describe.skipIf(!g.kernel)(`test cryptodev --arch ${g.arch} (suite module, ${g.kernel ?? 'no linux-headers-amd64'})`, () => {
    it('installs the package, loads the module from modules-load.d, has /dev/crypto, unloads; says which checks could not run', async () => {
      const out = tempDir(`guest-${g.arch}`);
      const r = await armkit(['build', 'cryptodev', '--arch', g.arch, '--kernel', g.kernel!, ...fixtureArgs, '--out', out, '--test', '--json']);
      expect(r.exitCode, show(r)).toBe(0);
      const doc = JSON.parse(r.stdout);
      const checks = byName(doc.test as Check[]);
      const release = doc.manifest.kernel.release as string;
      expect(checks['kernel-release']).toEqual({ name: 'kernel-release', status: 'pass', detail: release });
      expect(checks['modules-load']).toMatchObject({ status: 'pass', detail: 'cryptodev loaded from /etc/modules-load.d/cryptodev.conf' });
      expect(checks['dev-crypto']).toMatchObject({ status: 'pass' });
      expect(checks['dev-crypto']!.detail).toMatch(/^crw-rw-rw- .* 10, \d+ .*\/dev\/crypto$/);
      expect(checks.unload).toMatchObject({ status: 'pass', detail: 'removed, /dev/crypto gone' });
      // The suite's header is not cryptodev-linux's: the known-answer checks are reported as not run, never passed.
      expect(checks['kat-aes-128-cbc']).toMatchObject({ status: 'skipped' });
      expect(checks['kat-aes-128-cbc']!.detail).toContain("is not cryptodev-linux's");
      expect(checks['upstream-tests']).toMatchObject({ status: 'skipped' });
      // The guest kernel itself printed the module's load and unload messages.
      const logs = join(doc.out, 'logs');
      const serial = readFileSync(join(logs, 'test-serial.log'), 'utf8');
      expect(serial).toContain(`ARMKIT:BOOT ${release}`);
      expect(serial).toMatch(/^ARMKIT:DMESG .*cryptodev: armkit test fixture 0\.1 loaded/m);
      expect(serial).toMatch(/^ARMKIT:DMESG .*cryptodev: armkit test fixture unloaded/m);
      expect(JSON.parse(readFileSync(join(logs, 'test-report.json'), 'utf8')).summary).toBe('4 passed, 0 failed, 3 could not run');
    });
  });
}

describe('a module the kernel rejects', () => {
  it("fails modules-load with the kernel's own message (same release, another ABI)", async () => {
    // Headers with the guest kernel's release but a different symbol version for misc_register: what a module
    // built for another build of "the same" kernel looks like.
    const cached = join(TEST_CACHE, 'kernels/debian/arm64');
    const build = await armkit(['build', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:latest', ...fixtureArgs, '--dry-run', '--json']);
    expect(build.exitCode, show(build)).toBe(0);
    const release = (JSON.parse(build.stdout).plan.summary as string).match(/Linux (\S+)/)![1]!;
    const original = join(cached, release, 'root/usr/src', `linux-headers-${release}`);
    expect(existsSync(original), 'the arm64 headers are cached by the earlier builds of this file').toBe(true);
    const headers = join(tempDir('abi'), `linux-headers-${release}`);
    cpSync(original, headers, { recursive: true, verbatimSymlinks: true });
    for (const link of ['scripts', 'tools']) {
      const target = resolve(dirname(join(original, link)), readlinkSync(join(original, link)));
      rmSync(join(headers, link));
      symlinkSync(target, join(headers, link));
    }
    const symvers = join(headers, 'Module.symvers');
    const text = readFileSync(symvers, 'utf8');
    expect(text).toMatch(/^0x[0-9a-f]{8}\tmisc_register\t/m);
    writeFileSync(symvers, text.replace(/^0x[0-9a-f]{8}(\tmisc_register\t)/m, '0x0badc0de$1'));

    const out = tempDir('abi-out');
    const r = await armkit(['build', 'cryptodev', '--arch', 'aarch64', '--kernel', headers, ...fixtureArgs, '--out', out, '--test', '--json']);
    expect(r.exitCode, show(r)).toBe(5);
    const doc = JSON.parse(r.stdout);
    expect(doc.ok).toBe(false);
    const checks = byName(doc.result.results as Check[]);
    expect(checks['modules-load']!.status).toBe('fail');
    expect(checks['modules-load']!.detail).toContain('cryptodev: disagrees about version of symbol misc_register');
    expect(checks['dev-crypto']!.status).toBe('fail');
    expect(r.stderr).toContain('check(s) failed in the guest: modules-load, dev-crypto, unload');
  });
});

// The real module and header: the known-answer program and upstream's tests run. The release archive must be in
// the cache (pinned by sha256; no network here): seed it with --source once, or let a networked build fetch it.
const PINNED = join(TEST_CACHE, 'sources/67223d5bee47/cryptodev-linux-1.14.tar.gz');
describe.skipIf(!existsSync(PINNED))(`real cryptodev-linux 1.14 (${existsSync(PINNED) ? 'cached' : `skipped: ${PINNED} is absent`})`, () => {
  it("passes the known-answer tests and upstream's checks in an aarch64 guest", async () => {
    const out = tempDir('real');
    const r = await armkit(['build', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:latest', '--out', out, '--test', '--json']);
    expect(r.exitCode, show(r)).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.manifest.source).toMatchObject({ kind: 'recipe', verified: true, sha256: '67223d5bee4749028e78e87372cee3bca79d9a20f7b6cb915aa080c59d2a2d98' });
    const checks = byName(doc.test as Check[]);
    expect(checks['kat-aes-128-cbc']).toMatchObject({ status: 'pass' });
    expect(checks['kat-aes-128-cbc']!.detail).toMatch(/^driver \S+, NIST SP 800-38A F\.2\.1 encrypt\+decrypt$/);
    expect(checks['kat-sha256']).toMatchObject({ status: 'pass' });
    for (const t of ['cipher', 'hmac', 'async_cipher', 'async_hmac', 'cipher-aead-srtp', 'cipher-gcm', 'cipher-aead']) {
      expect(checks[`upstream-${t}`], t).toMatchObject({ status: 'pass' });
    }
    expect((doc.test as Check[]).filter((c) => c.status !== 'pass')).toEqual([]);
  });
});

describe('--kernel-image with a kernel RPM', () => {
  it("boots the image from a package laid out like Fedora's kernel-core, with its crypto modules", async () => {
    const out = tempDir('krpm-out');
    const built = await armkit(['build', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:latest', ...fixtureArgs, '--out', out, '--json']);
    expect(built.exitCode, show(built)).toBe(0);
    const release = JSON.parse(built.stdout).manifest.kernel.release as string;
    const image = join(TEST_CACHE, 'guest/debian/arm64', `linux-image-${release}`);
    expect(existsSync(join(image, 'boot', `vmlinuz-${release}`)), 'the aarch64 guest test above cached the image').toBe(true);
    // A kernel package of our own making: the image where Fedora puts it, the crypto modules beside it.
    const top = tempDir('krpm');
    const payload = join(top, 'payload');
    cpSync(join(image, 'lib'), join(payload, 'lib'), { recursive: true });
    cpSync(join(image, 'boot', `vmlinuz-${release}`), join(payload, 'lib/modules', release, 'vmlinuz'));
    const spec = join(top, 'kernel-core.spec');
    writeFileSync(
      spec,
      [
        'Name: kernel-core',
        `Version: ${release.split('-')[0]}`,
        'Release: 1',
        'Summary: test kernel',
        'License: GPL-2.0-only',
        '%global __os_install_post %{nil}',
        '%global debug_package %{nil}',
        '%description',
        'test kernel in kernel-core layout',
        '%install',
        `cp -a ${payload}/lib %{buildroot}/`,
        '%files',
        `/lib/modules/${release}`,
        '',
      ].join('\n'),
    );
    await execa('rpmbuild', ['-bb', '--target', 'aarch64', '--define', `_topdir ${top}`, '--nodeps', spec]);
    const rpm = join(top, 'RPMS/aarch64', readdirSync(join(top, 'RPMS/aarch64'))[0]!);
    const r = await armkit(['test', 'cryptodev', '--arch', 'aarch64', '--out', out, '--kernel-image', rpm, '--json'], { cacheDir: tempDir('krpm-cache') });
    expect(r.exitCode, show(r)).toBe(0);
    expect(r.stderr).toContain(`(kernel from ${rpm.split('/').pop()} (/lib/modules/${release}/vmlinuz))`);
    const checks = byName(JSON.parse(r.stdout).results as Check[]);
    expect(checks['kernel-release']).toEqual({ name: 'kernel-release', status: 'pass', detail: release });
    expect(checks['modules-load']!.status).toBe('pass');
  });

  it('refuses a package without an image for the release', async () => {
    const out = tempDir('krpm-bad');
    const built = await armkit(['build', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:latest', ...fixtureArgs, '--out', out, '--json']);
    expect(built.exitCode, show(built)).toBe(0);
    const dest = JSON.parse(built.stdout).out as string;
    const kmod = join(dest, readdirSync(dest).find((f) => f.startsWith('kmod-'))!);
    const r = await armkit(['test', 'cryptodev', '--arch', 'aarch64', '--out', out, '--kernel-image', kmod]);
    expect(r.exitCode, show(r)).toBe(2);
    expect(r.stderr).toMatch(
      /holds no kernel image for 6\S+ \(looked for \/lib\/modules\/\S+\/vmlinuz, \/usr\/lib\/modules\/\S+\/vmlinuz and \/boot\/vmlinuz-/,
    );
  });
});

describe('test --dry-run', () => {
  it('prints the QEMU command and the checks it expects', async () => {
    const out = tempDir('guest-dry');
    const built = await armkit(['build', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:latest', ...fixtureArgs, '--out', out]);
    expect(built.exitCode, show(built)).toBe(0);
    const r = await armkit(['test', 'cryptodev', '--arch', 'aarch64', '--out', out, '--dry-run']);
    expect(r.exitCode, show(r)).toBe(0);
    // An earlier test of this suite may have left this initramfs in the cache (initramfs-<key>.cpio.gz): then it is
    // booted as it is, and the steps that assemble it are not in the plan.
    const cached = r.stdout.includes('(cached initramfs)');
    expect(r.stdout).toMatch(
      /timeout 120 qemu-system-aarch64 -M virt -cpu cortex-a57 -m 512 -nographic -nic none -no-reboot -kernel \S+vmlinuz-6\S+-arm64 -initrd \S+initramfs(-[0-9a-f]+)?\.cpio\.gz -append 'console=ttyAMA0 panic=-1 rdinit=\/init loglevel=4'/,
    );
    expect(r.stdout).toContain('must say pass');
    expect(r.stdout).toContain("# could not run: kat-aes-128-cbc: crypto/cryptodev.h in cryptodev-linux-devel-0.1-1.local.noarch.rpm is not cryptodev-linux's");
    const installs = /rpm --root \S+ --dbpath \/var\/lib\/rpm -i --nodeps --ignorearch --noscripts --nosignature \S+kmod-cryptodev-6\S+\.aarch64\.rpm/;
    if (cached) {
      expect(r.stdout).toMatch(/-initrd \S+\/guest\/built\/initramfs-[0-9a-f]+\.cpio\.gz/);
      expect(r.stdout).not.toMatch(installs);
    } else {
      expect(r.stdout).toMatch(installs);
    }
  });

  it('refuses an architecture no QEMU board boots', async () => {
    const r = await armkit(['test', 'cryptodev', '--arch', 'armv5tel']);
    expect(r.exitCode, show(r)).toBe(2);
    expect(r.stderr).toContain('No QEMU board armkit knows boots a armv5tel kernel');
  });
});
