/**
 * --dry-run prints the plan the executor runs (and the printed script, run by sh, builds the same packages);
 * install stages the module, header and autoload file; doctor reports what is missing.
 */

import { existsSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { armkit, FIXTURE_MODULE, FIXTURE_VERSION, installedAmd64Release, pathWithout, show, snapshot, TEST_CACHE, tempDir } from '../helpers/cli.js';
import { fileType, rpmQuery } from '../helpers/rpm.js';

const amd64 = installedAmd64Release();
const fixtureArgs = ['--source', FIXTURE_MODULE, '--version', FIXTURE_VERSION];

describe('build --dry-run', () => {
  it('prints a shell script of the exact commands, changes nothing, and the script builds the same packages', async () => {
    const out = tempDir('out-dry');
    const cache = tempDir('cache-dry');
    symlinkSync(join(TEST_CACHE, 'kernels'), join(cache, 'kernels'));
    symlinkSync(join(TEST_CACHE, 'apt'), join(cache, 'apt'));
    const cacheBefore = snapshot(cache);
    const r = await armkit(['build', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:latest', ...fixtureArgs, '--out', out, '--dry-run'], {
      cacheDir: cache,
    });
    expect(r.exitCode, show(r)).toBe(0);
    expect(r.stdout).toMatch(/^#!\/bin\/sh\n# armkit plan: cryptodev 0\.1 for aarch64 \(cross, aarch64-linux-gnu-\)/);
    expect(r.stdout).toContain("--define '__strip aarch64-linux-gnu-strip'");
    // rpmbuild runs at fixed paths named by the build's key: links to the work directory and the header tree.
    expect(r.stdout).toMatch(/^mkdir -p \S+ && ln -sfn \S+\/rpmbuild (\S+\/armkit-rpmbuild\/[0-9a-f]{24})$/m);
    expect(r.stdout).toMatch(/^mkdir -p \S+ && ln -sfn \S+linux-headers-6\S*-arm64 \S+\/armkit-rpmbuild\/[0-9a-f]{24}\.kernel$/m);
    expect(r.stdout).toMatch(
      /rpmbuild -ba --target aarch64 --define '_topdir \S+\/armkit-rpmbuild\/[0-9a-f]{24}' --define 'kernel_dir \S+\/armkit-rpmbuild\/[0-9a-f]{24}\.kernel'/,
    );
    expect(r.stdout).toContain('%global kernel_release');
    expect(readdirSync(out)).toEqual([]);
    expect(snapshot(cache)).toEqual(cacheBefore);

    // The script is the plan: run it with sh and it makes the same RPMs armkit would.
    const run = await execa('sh', ['-c', r.stdout], { reject: false });
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0);
    const release = /against Linux (\S+)/.exec(r.stdout)![1]!;
    const dest = join(out, 'cryptodev', FIXTURE_VERSION, 'aarch64', release);
    const rpms = readdirSync(dest)
      .filter((f) => f.endsWith('.rpm'))
      .sort();
    expect(rpms).toHaveLength(3);
    const kmod = join(dest, rpms.find((f) => f.startsWith('kmod-'))!);
    expect(await rpmQuery(kmod, '--provides')).toContain('kmod(cryptodev.ko)');
  });

  it('--dry-run --json prints the plan as one JSON document', async () => {
    // --force: a build the cache already holds would plan only its publishing.
    const r = await armkit(['build', 'cryptodev', '--arch', 'armv5tel', '--kernel', 'debian:latest', ...fixtureArgs, '--dry-run', '--json', '--force']);
    expect(r.exitCode, show(r)).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ ok: true, dryRun: true });
    const kinds = doc.plan.steps.map((s: { kind: string }) => s.kind);
    expect(kinds.slice(-9)).toEqual(['exec', 'check-module', 'publish', 'remove', 'copy', 'remove', 'rename', 'remove', 'remove']);
    const rpmbuild = doc.plan.steps.find((s: { kind: string; argv?: string[] }) => s.kind === 'exec' && s.argv?.[0] === 'rpmbuild');
    expect(rpmbuild.argv).toEqual(expect.arrayContaining(['--target', 'armv5tel', 'cross_compile arm-linux-gnueabi-', 'kernel_arch arm']));
    expect(doc.plan.requires).toEqual(expect.arrayContaining(['rpmbuild', 'arm-linux-gnueabi-gcc']));
  });
});

describe.skipIf(!amd64)('install cryptodev', () => {
  it('--destdir stages module, header and modules-load.d file, without depmod or modprobe', async () => {
    const destdir = tempDir('destdir');
    const r = await armkit(['install', 'cryptodev', '--kernel', amd64!, ...fixtureArgs, '--destdir', destdir]);
    expect(r.exitCode, show(r)).toBe(0);
    const ko = join(destdir, 'lib/modules', amd64!, 'extra/cryptodev/cryptodev.ko');
    expect(await fileType(ko)).toMatch(/ELF 64-bit LSB relocatable, x86-64/);
    expect(readFileSync(join(destdir, 'usr/include/crypto/cryptodev.h'), 'utf8')).toContain('ARMKIT_TEST_FIXTURE');
    expect(readFileSync(join(destdir, 'etc/modules-load.d/cryptodev.conf'), 'utf8')).toMatch(/^cryptodev$/m);
    expect(existsSync(join(destdir, 'lib/modules', amd64!, 'modules.dep'))).toBe(false);
    expect(r.stderr).toContain(`run "depmod -a ${amd64}" on the target`);
  });

  it('into the running system, the plan runs depmod and loads the module only for the running kernel', async () => {
    const r = await armkit(['install', 'cryptodev', '--kernel', amd64!, ...fixtureArgs, '--dry-run']);
    expect(r.exitCode, show(r)).toBe(0);
    expect(r.stdout).toContain(`install -D -m 0644 `);
    expect(r.stdout).toContain(`/lib/modules/${amd64}/extra/cryptodev/cryptodev.ko`);
    expect(r.stdout).toMatch(new RegExp(`depmod -a ${amd64!.replace(/\./g, '\\.')} >>`));
    const running = String((await execa('uname', ['-r'])).stdout);
    if (running === amd64) expect(r.stdout).toContain('modprobe cryptodev');
    else expect(r.stdout).toContain(`# warning: Linux ${amd64} is not the running kernel`);
  });

  it('accepts the host architecture by any of its names', async () => {
    const r = await armkit(['install', 'cryptodev', '--arch', 'amd64', '--kernel', amd64!, ...fixtureArgs, '--dry-run']);
    expect(r.exitCode, show(r)).toBe(0);
    expect(r.stdout).toContain('# armkit plan: install cryptodev 0.1');
  });

  it('refuses a cross build', async () => {
    const r = await armkit(['install', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:latest']);
    expect(r.exitCode, show(r)).toBe(2);
    expect(r.stderr).toContain('armkit install builds for the machine it runs on');
  });
});

describe('doctor', () => {
  it('reports a ready host for aarch64 cross builds (exit 0, every check ok)', async () => {
    const r = await armkit(['doctor', '--arch', 'aarch64', '--json']);
    expect(r.exitCode, show(r)).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.ok).toBe(true);
    expect(doc.checks.map((c: { name: string }) => c.name)).toEqual(
      expect.arrayContaining(['rpmbuild', 'make', 'aarch64-linux-gnu-gcc', 'aarch64-linux-gnu-strip']),
    );
  });

  it('--fix runs apt-get for exactly the missing packages, then checks again', async () => {
    // rpm2cpio stays installed but off PATH: apt-get really runs (and finds it installed), the re-check still fails.
    const r = await armkit(['doctor', '--arch', 'aarch64', '--fix'], { env: { PATH: pathWithout(/^rpm2cpio$/) } });
    expect(r.stderr).toMatch(/MISSING\s+rpm2cpio\s+apt-get install rpm2cpio \| dnf install rpm/);
    expect(r.stderr).toContain('armkit doctor: installing rpm2cpio\n');
    expect(r.stderr).toMatch(/rpm2cpio is already the newest version/);
    expect(r.exitCode, show(r)).toBe(4);
    expect(r.stderr).toContain('1 prerequisite(s) missing: rpm2cpio.');
  });

  it('lists what is missing with the apt-get and dnf commands (exit 4)', async () => {
    const path = tempDir('doctor-path');
    for (const tool of ['make', 'rpm', 'cpio']) symlinkSync(join('/usr/bin', tool), join(path, tool));
    const r = await armkit(['doctor', '--arch', 'armv7hl'], { env: { PATH: path } });
    expect(r.exitCode, show(r)).toBe(4);
    expect(r.stderr).toMatch(/MISSING\s+rpmbuild\s+apt-get install rpm \| dnf install rpm-build/);
    expect(r.stderr).toMatch(/MISSING\s+arm-linux-gnueabihf-gcc\s+apt-get install gcc-arm-linux-gnueabihf binutils-arm-linux-gnueabihf/);
    expect(r.stderr).toMatch(/ok\s+make\s+/);
    expect(r.stderr).toContain('Run "armkit doctor --fix" (as root) to install them.');
  });
});
