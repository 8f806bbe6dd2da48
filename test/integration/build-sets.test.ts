/**
 * Many builds at once: architectures × kernels as one plan set (concurrent under --jobs, one summary, the worst
 * exit code, --fail-fast), the build cache (unchanged inputs publish the cached build; --force; cache ls/prune),
 * byte-identical rebuilds, locks between armkit processes, and the dry-run contract on an empty cache.
 */

import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { armkit, FIXTURE_MODULE, FIXTURE_VERSION, installedAmd64Release, ROOT, show, snapshot, TEST_CACHE, tempDir } from '../helpers/cli.js';
import { unpackRpm } from '../helpers/rpm.js';

const amd64 = installedAmd64Release();
const fixtureArgs = ['--source', FIXTURE_MODULE, '--version', FIXTURE_VERSION];
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** A cache of its own that shares the suite's downloaded kernel headers and apt index. */
function sharedCache(name: string): string {
  const cache = tempDir(name);
  symlinkSync(join(TEST_CACHE, 'kernels'), join(cache, 'kernels'));
  symlinkSync(join(TEST_CACHE, 'apt'), join(cache, 'apt'));
  return cache;
}

/** The suite's module, failing to compile for 32-bit ARM only. */
function failsOnArm32(): string {
  const dir = tempDir('arm32-fails');
  cpSync(FIXTURE_MODULE, dir, { recursive: true });
  writeFileSync(join(dir, 'main.c'), `${readFileSync(join(dir, 'main.c'), 'utf8')}\n#if defined(__arm__)\n#error armkit test: no 32-bit ARM\n#endif\n`);
  return dir;
}

describe('a set of builds', () => {
  it('builds every architecture concurrently, publishes each beside the others and prints one summary', async () => {
    const out = tempDir('set-out');
    const r = await armkit(
      ['build', 'cryptodev', '--arch', 'aarch64,armv5tel', '--kernel', 'debian:latest', ...fixtureArgs, '--out', out, '--jobs', '2', '--force', '--json'],
      { cacheDir: sharedCache('set-cache') },
    );
    expect(r.exitCode, show(r)).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.builds.map((b: { arch: string }) => b.arch)).toEqual(['aarch64', 'armv5tel']);
    for (const b of doc.builds) {
      expect(b.out).toBe(join(out, 'cryptodev', FIXTURE_VERSION, b.arch, b.kernel));
      expect(readdirSync(b.out).filter((f: string) => f.endsWith('.rpm'))).toHaveLength(3);
      expect(b.cached).toBe(false);
    }
    expect(r.stderr).toContain('armkit: 2 builds, 2 at a time');
    expect(r.stderr).toMatch(/^ {2}arch\s+kernel\s+result\s+time\s+artifacts$/m);
    expect(r.stderr).toMatch(/^ {2}aarch64\s+6\S+-arm64\s+built\s+[\d.]+ s\s+kmod-cryptodev-\S+/m);
    expect(r.stderr).toMatch(/^ {2}armv5tel\s+6\S+-marvell\s+built\s+/m);
  });

  it('a failure ends only its own build; the exit code is the worst; the summary says which failed', async () => {
    const out = tempDir('set-fail');
    const r = await armkit(
      [
        'build',
        'cryptodev',
        '--arch',
        'aarch64,armv5tel',
        '--kernel',
        'debian:latest',
        '--source',
        failsOnArm32(),
        '--version',
        '0.2',
        '--out',
        out,
        '--jobs',
        '2',
      ],
      { cacheDir: sharedCache('set-fail-cache') },
    );
    expect(r.exitCode, show(r)).toBe(1);
    expect(r.stderr).toMatch(/^ {2}aarch64\s+\S+\s+built\s+/m);
    expect(r.stderr).toMatch(/^ {2}armv5tel\s+\S+\s+failed\s+/m);
    expect(r.stderr).toContain('armkit: error: 1 of 2 builds did not finish: cryptodev 0.2 for armv5tel');
    expect(r.stderr).toContain('armkit test: no 32-bit ARM');
    expect(readdirSync(join(out, 'cryptodev', '0.2'))).toEqual(['aarch64']);
  });

  it('--fail-fast stops the builds that have not finished at the first failure', async () => {
    const out = tempDir('set-fast');
    const r = await armkit(
      [
        'build',
        'cryptodev',
        '--arch',
        'armv5tel,aarch64',
        '--kernel',
        'debian:latest',
        '--source',
        failsOnArm32(),
        '--version',
        '0.3',
        '--out',
        out,
        '--jobs',
        '1',
        '--fail-fast',
      ],
      { cacheDir: sharedCache('set-fast-cache') },
    );
    expect(r.exitCode, show(r)).toBe(1);
    expect(r.stderr).toMatch(/^ {2}armv5tel\s+\S+\s+failed\s+/m);
    expect(r.stderr).toMatch(/^ {2}aarch64\s+\S+\s+stopped\s+/m);
    expect(existsSync(join(out, 'cryptodev', '0.3', 'aarch64'))).toBe(false);
  });

  it('--mode with several architectures, and bad --jobs, are usage errors', async () => {
    const mode = await armkit(['build', 'cryptodev', '--arch', 'aarch64,x86_64', '--mode', 'cross', '--kernel', 'debian:latest', ...fixtureArgs, '--dry-run']);
    expect(mode.exitCode, show(mode)).toBe(2);
    expect(mode.stderr).toContain('--mode applies to one architecture');
    const jobs = await armkit(['build', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:latest', ...fixtureArgs, '--jobs', '0', '--dry-run']);
    expect(jobs.exitCode, show(jobs)).toBe(2);
    expect(jobs.stderr).toContain('--jobs 0: expected a whole number');
  });
});

describe('options of the other recipe kind are refused, never ignored', () => {
  it.each([
    [['build', 'cryptodev', '--srpm', '/x.src.rpm'], '--srpm: not an option of kernel-module recipes such as cryptodev'],
    [['build', 'cryptodev', '--copr-project', 'me/p'], '--copr-project applies only with --engine copr.'],
    [['build', 'openssl', '--srpm', '/x.src.rpm', '--kernel', 'debian:latest'], '--kernel: not an option of spec recipes such as openssl'],
    [['build', 'openssl', '--srpm', '/x.src.rpm', '--source', '/s', '--test'], '--source, --test: not an option of spec recipes'],
    // Kernel modules build on mock and Copr too (against the chroot's kernel-devel): Debian headers mean nothing there.
    [
      ['build', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:latest', '--engine', 'mock', ...fixtureArgs],
      "--kernel debian:latest: a build in a chroot uses the chroot's kernel-devel",
    ],
  ])('%j: a usage error (exit 2), never ignored', async (args, message) => {
    const r = await armkit([...args, '--dry-run']);
    expect(r.exitCode, show(r)).toBe(2);
    expect(r.stderr).toContain(message);
  });
});

describe('the build cache', () => {
  it('publishes an unchanged build from the cache, rebuilds with --force or a changed input, and lists and prunes', async () => {
    const cache = sharedCache('bc');
    const src = tempDir('bc-src');
    cpSync(FIXTURE_MODULE, src, { recursive: true });
    const args = ['build', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:latest', '--source', src, '--version', '0.4'];
    const first = await armkit([...args, '--out', tempDir('bc-out1'), '--json'], { cacheDir: cache });
    expect(first.exitCode, show(first)).toBe(0);
    expect(JSON.parse(first.stdout).cached).toBe(false);

    const out2 = tempDir('bc-out2');
    const second = await armkit([...args, '--out', out2, '--json', '--timings'], { cacheDir: cache });
    expect(second.exitCode, show(second)).toBe(0);
    const doc = JSON.parse(second.stdout);
    expect(doc.cached).toBe(true);
    expect(second.stderr).toContain('nothing was rebuilt (--force rebuilds)');
    expect(second.stderr).not.toContain('rpmbuild cryptodev-linux');
    // The same packages, byte for byte, and a manifest that names the same key.
    const firstDoc = JSON.parse(first.stdout);
    const byFile = (m: { artifacts: Array<{ file: string; sha256: string }> }) => Object.fromEntries(m.artifacts.map((a) => [a.file, a.sha256]));
    expect(byFile(doc.manifest)).toEqual(byFile(firstDoc.manifest));
    expect(doc.manifest.inputs.key).toBe(firstDoc.manifest.inputs.key);
    expect(readdirSync(join(doc.out, 'logs'))).toContain('rpmbuild.log');
    expect(second.stderr).toMatch(/armkit: timings of .*\n\s+step\s+time\s+share\n\s+Publish the cached build/);

    const forced = await armkit([...args, '--out', out2, '--force', '--json'], { cacheDir: cache });
    expect(forced.exitCode, show(forced)).toBe(0);
    expect(JSON.parse(forced.stdout).cached).toBe(false);

    // A changed source is another build.
    writeFileSync(join(src, 'main.c'), `${readFileSync(join(src, 'main.c'), 'utf8')}\n/* changed */\n`);
    const changed = await armkit([...args, '--out', out2, '--json'], { cacheDir: cache });
    expect(changed.exitCode, show(changed)).toBe(0);
    expect(JSON.parse(changed.stdout).cached).toBe(false);
    expect(JSON.parse(changed.stdout).manifest.inputs.key).not.toBe(doc.manifest.inputs.key);

    const ls = await armkit(['cache', 'ls', '--json'], { cacheDir: cache });
    expect(ls.exitCode, show(ls)).toBe(0);
    const listed = JSON.parse(ls.stdout);
    expect(listed.builds.map((b: { key: string }) => b.key).sort()).toEqual([doc.manifest.inputs.key, JSON.parse(changed.stdout).manifest.inputs.key].sort());
    expect(listed.builds[0]).toMatchObject({ recipe: 'cryptodev', version: '0.4', arch: 'aarch64' });

    const dry = await armkit(['cache', 'prune', '--max-size', '1', '--dry-run', '--json'], { cacheDir: cache });
    expect(JSON.parse(dry.stdout).removed).toHaveLength(2);
    expect(readdirSync(join(cache, 'builds'))).toHaveLength(2);
    const prune = await armkit(['cache', 'prune', '--all'], { cacheDir: cache });
    expect(prune.exitCode, show(prune)).toBe(0);
    expect(prune.stderr).toContain('removed 2 build(s)');
    expect(readdirSync(join(cache, 'builds'))).toEqual([]);
  });
});

describe('reproducible builds', () => {
  it('two clean builds of the same inputs in different work directories give byte-identical RPMs and modules', async () => {
    const builds = [];
    for (const name of ['repro-a', 'repro-b']) {
      const out = tempDir(name);
      // Different caches: different work directories and header paths, no build cache to copy from.
      const r = await armkit(['build', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:latest', ...fixtureArgs, '--out', out, '--json'], {
        cacheDir: sharedCache(`${name}-cache`),
      });
      expect(r.exitCode, show(r)).toBe(0);
      expect(JSON.parse(r.stdout).cached).toBe(false);
      builds.push(JSON.parse(r.stdout));
      // Seconds apart: a clock in the payload would show.
      await new Promise((done) => setTimeout(done, 1100));
    }
    const [a, b] = builds;
    expect(a.manifest.artifacts.map((x: { file: string }) => x.file)).toEqual(b.manifest.artifacts.map((x: { file: string }) => x.file));
    for (const [i, artifact] of a.manifest.artifacts.entries()) {
      expect(artifact.sha256, artifact.file).toBe(b.manifest.artifacts[i].sha256);
      expect(sha256(join(a.out, artifact.file))).toBe(sha256(join(b.out, artifact.file)));
    }
    // The module itself: same bytes, so the same build id; no build path in it.
    const kmod = a.manifest.artifacts.find((x: { name: string }) => x.name.startsWith('kmod-')).file;
    const dirs = [tempDir('ko-a'), tempDir('ko-b')];
    await unpackRpm(join(a.out, kmod), dirs[0]!);
    await unpackRpm(join(b.out, kmod), dirs[1]!);
    const ko = (d: string) => join(d, 'lib/modules', a.manifest.kernel.release, 'extra/cryptodev/cryptodev.ko');
    expect(sha256(ko(dirs[0]!))).toBe(sha256(ko(dirs[1]!)));
    expect(readFileSync(ko(dirs[0]!)).includes(Buffer.from(join(tmpdir(), 'armkit-repro-a')))).toBe(false);
    expect(String((await execa('file', [ko(dirs[0]!)])).stdout)).toMatch(/BuildID\[sha1\]=[0-9a-f]{40}/);
    // The manifest records what anyone needs to rebuild and compare.
    expect(a.manifest.inputs).toMatchObject({
      key: b.manifest.inputs.key,
      sourceDateEpoch: expect.any(Number),
      toolchain: expect.stringContaining('aarch64-linux-gnu-gcc'),
    });
  });
});

describe('locks between armkit processes', () => {
  it('two identical builds at once both succeed; the second waits for the first and says for what', async () => {
    const cache = sharedCache('lock');
    const out = tempDir('lock-out');
    const args = ['build', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:latest', ...fixtureArgs, '--out', out, '--force'];
    const [one, two] = await Promise.all([armkit(args, { cacheDir: cache }), armkit(args, { cacheDir: cache })]);
    expect(one.exitCode, show(one)).toBe(0);
    expect(two.exitCode, show(two)).toBe(0);
    expect(`${one.stderr}${two.stderr}`).toMatch(/armkit: warning: waiting: \S+ is in use by armkit \(pid \d+: cryptodev 0\.1 for aarch64/);
    const dest = readdirSync(join(out, 'cryptodev', FIXTURE_VERSION, 'aarch64'));
    expect(dest.filter((f) => !f.startsWith('.'))).toHaveLength(1);
  });

  it('--no-wait refuses (exit 4) while another process holds the lock; a lock of a dead process is taken over', async () => {
    const cache = sharedCache('nowait');
    const out = tempDir('nowait-out');
    const args = ['build', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:latest', ...fixtureArgs, '--out', out, '--force'];
    const first = execa(process.execPath, [join(ROOT, 'bin/armkit.js'), ...args], { env: { ARMKIT_CACHE_DIR: cache, CI: 'true' }, reject: false });
    let seen = '';
    await new Promise<void>((started) =>
      first.stderr!.on('data', (c: Buffer) => {
        seen += c.toString();
        if (/rpmbuild cryptodev-linux/.test(seen)) started();
      }),
    );
    const second = await armkit([...args, '--no-wait'], { cacheDir: cache });
    expect(second.exitCode, show(second)).toBe(4);
    expect(second.stderr).toMatch(/is in use by armkit \(pid \d+: .*\); --no-wait: not waiting for it\./);
    expect((await first).exitCode).toBe(0);

    // A lock file left by a killed process (pid 2^22 does not exist) does not block.
    const plan = JSON.parse((await armkit([...args, '--dry-run', '--json'], { cacheDir: cache })).stdout).plan;
    const { lockFile, LOCK_DIR } = await import('../../src/lock.js');
    mkdirSync(LOCK_DIR, { recursive: true });
    for (const path of plan.locks) writeFileSync(lockFile(path), JSON.stringify({ pid: 4194304, start: '1', what: 'a killed build' }));
    const third = await armkit([...args, '--no-wait'], { cacheDir: cache });
    expect(third.exitCode, show(third)).toBe(0);
    for (const path of plan.locks) expect(existsSync(lockFile(path))).toBe(false);
  });
});

describe.skipIf(!amd64)('the dry-run contract', () => {
  it('a dry run on an empty cache directory leaves it empty, and out/ too', async () => {
    const cache = tempDir('dry-empty');
    const out = tempDir('dry-out');
    const r = await armkit(['build', 'cryptodev', '--kernel', amd64!, ...fixtureArgs, '--out', out, '--dry-run'], { cacheDir: cache });
    expect(r.exitCode, show(r)).toBe(0);
    expect(r.stdout).toContain('rpmbuild -ba --target x86_64');
    expect(snapshot(cache)).toEqual([]);
    expect(readdirSync(cache)).toEqual([]);
    expect(readdirSync(out)).toEqual([]);
  });

  it("a dry run that needs Debian's index says it is not cached, downloads nothing and writes nothing (exit 4)", async () => {
    const cache = tempDir('dry-apt');
    for (const args of [
      ['build', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:latest', ...fixtureArgs, '--dry-run'],
      ['doctor', '--arch', 'aarch64', '--fix', '--dry-run'],
    ]) {
      const r = await armkit(args, { cacheDir: cache });
      if (args[0] === 'build') {
        expect(r.exitCode, show(r)).toBe(4);
        expect(r.stderr).toContain("--dry-run reads armkit's Debian package index for arm64, and it is not in the cache");
      } else {
        // Everything is installed here: doctor --fix --dry-run has nothing to print and runs nothing.
        expect(r.exitCode, show(r)).toBe(0);
        expect(r.stdout).not.toContain('apt-get install');
      }
    }
    expect(readdirSync(cache)).toEqual([]);
  });
});

describe('an unchanged build command is up to date', () => {
  it('answers from its stamp until an input or the output changes', async () => {
    const cache = sharedCache('stamp');
    const src = tempDir('stamp-src');
    cpSync(FIXTURE_MODULE, src, { recursive: true });
    const out = tempDir('stamp-out');
    const args = ['build', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:latest', '--source', src, '--version', '0.5', '--out', out];
    const first = await armkit([...args, '--json'], { cacheDir: cache });
    expect(first.exitCode, show(first)).toBe(0);

    const again = await armkit([...args, '--json'], { cacheDir: cache });
    expect(again.exitCode, show(again)).toBe(0);
    expect(again.stderr).toMatch(
      /^armkit: up to date: cryptodev 0\.5 for aarch64 .*: nothing it is built from changed since the last build \(--force rebuilds\)$/m,
    );
    // Before anything else loads: no plan, no steps.
    expect(again.stderr).not.toContain('Publish');
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, upToDate: true, out: JSON.parse(first.stdout).out });

    // An output file removed: the build cache publishes it again.
    const dest = JSON.parse(first.stdout).out as string;
    const kmod = readdirSync(dest).find((f) => f.startsWith('kmod-'))!;
    rmSync(join(dest, kmod));
    const republished = await armkit(args, { cacheDir: cache });
    expect(republished.exitCode, show(republished)).toBe(0);
    expect(republished.stderr).toContain('nothing was rebuilt (--force rebuilds)');
    expect(existsSync(join(dest, kmod))).toBe(true);

    // A source file changed: a real build.
    writeFileSync(join(src, 'main.c'), `${readFileSync(join(src, 'main.c'), 'utf8')}\n/* changed again */\n`);
    const rebuilt = await armkit(args, { cacheDir: cache });
    expect(rebuilt.exitCode, show(rebuilt)).toBe(0);
    expect(rebuilt.stderr).toContain('rpmbuild cryptodev-linux-0.5');

    // --force is never answered from the stamp.
    const forced = await armkit([...args, '--force'], { cacheDir: cache });
    expect(forced.stderr).toContain('rpmbuild cryptodev-linux-0.5');
  });
});
