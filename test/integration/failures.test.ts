/**
 * What armkit refuses and how it fails: wrong headers, missing tools, bad checksums, broken sources, bad input.
 * Each failure must carry its exit code by kind and leave out/ exactly as it was.
 */

import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { armkit, FIXTURE_MODULE, FIXTURE_VERSION, installedAmd64Release, pathWithout, ROOT, show, snapshot, TEST_CACHE, tempDir } from '../helpers/cli.js';
import { fixtureTarball, recipeServedFrom } from '../helpers/served.js';

const amd64 = installedAmd64Release();
const fixtureArgs = ['--source', FIXTURE_MODULE, '--version', FIXTURE_VERSION];

describe('a build that fails leaves out/ as it was', () => {
  const out = tempDir('out-atomic');
  let before: string[];
  let release: string;

  beforeAll(async () => {
    const good = await armkit(['build', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:latest', ...fixtureArgs, '--out', out]);
    expect(good.exitCode, show(good)).toBe(0);
    before = snapshot(out);
    release = /against Linux (\S+)/.exec(good.stderr)![1]!;
    expect(existsSync(join(out, 'cryptodev', FIXTURE_VERSION, 'aarch64', release, 'manifest.json'))).toBe(true);
  });

  it("a compile error: exit 1, the compiler's message and the log path on stderr, previous results untouched", async () => {
    const broken = tempDir('broken-src');
    cpSync(FIXTURE_MODULE, broken, { recursive: true });
    writeFileSync(join(broken, 'main.c'), `${readFileSync(join(broken, 'main.c'), 'utf8')}\n#error armkit test: this source does not compile\n`);
    const r = await armkit([
      'build',
      'cryptodev',
      '--arch',
      'aarch64',
      '--kernel',
      'debian:latest',
      '--source',
      broken,
      '--version',
      FIXTURE_VERSION,
      '--out',
      out,
    ]);
    expect(r.exitCode, show(r)).toBe(1);
    expect(r.stderr).toContain('armkit: error: Command failed');
    expect(r.stderr).toContain('armkit test: this source does not compile');
    const log = /full log: (\S+)/.exec(r.stderr)?.[1];
    expect(log).toBeDefined();
    expect(readFileSync(log!, 'utf8')).toContain('#error armkit test');
    expect(snapshot(out)).toEqual(before);
  });

  it('headers for another architecture are refused before anything runs (exit 5)', async () => {
    if (!amd64) return expect.fail('linux-headers-amd64 must be installed (test/setup-host.sh installs it)');
    const r = await armkit(['build', 'cryptodev', '--arch', 'aarch64', '--kernel', `/usr/src/linux-headers-${amd64}`, ...fixtureArgs, '--out', out]);
    expect(r.exitCode, show(r)).toBe(5);
    expect(r.stderr).toMatch(/are for x86_64, not aarch64: their configuration lacks CONFIG_ARM64/);
    expect(snapshot(out)).toEqual(before);
  });

  it('cached headers whose release is not the one asked for are refused (exit 5)', async () => {
    // A cache that claims to hold 6.1.0-99-arm64 but holds the real tree of another release.
    const cache = tempDir('cache-mislabelled');
    const real = join(TEST_CACHE, 'kernels/debian/arm64', release);
    const fake = join(cache, 'kernels/debian/arm64/6.1.0-99-arm64');
    mkdirSync(join(fake, 'root/usr/src'), { recursive: true });
    cpSync(join(real, 'root/usr/src', `linux-headers-${release}`), join(fake, 'root/usr/src/linux-headers-6.1.0-99-arm64'), {
      recursive: true,
      verbatimSymlinks: true,
    });
    writeFileSync(join(fake, 'armkit-headers.json'), JSON.stringify({ release: '6.1.0-99-arm64', version: '6.1.0', packages: [] }));
    const r = await armkit(['build', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:6.1.0-99-arm64', ...fixtureArgs, '--out', out], { cacheDir: cache });
    expect(r.exitCode, show(r)).toBe(5);
    expect(r.stderr).toContain(`say they are for release ${release}`);
    expect(snapshot(out)).toEqual(before);
  });

  it('a missing cross compiler is reported with its install commands (exit 4)', async () => {
    const path = pathWithout(/^aarch64-linux-gnu-/);
    const r = await armkit(['build', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:latest', ...fixtureArgs, '--out', out], { env: { PATH: path } });
    expect(r.exitCode, show(r)).toBe(4);
    expect(r.stderr).toContain('aarch64-linux-gnu-gcc not found');
    expect(r.stderr).toContain('"apt-get install gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu"');
    expect(r.stderr).toContain('"dnf install gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu"');
    expect(snapshot(out)).toEqual(before);
  });

  it('a missing rpmbuild is reported before any step runs (exit 4)', async () => {
    const path = pathWithout(/^rpmbuild$/);
    const r = await armkit(['build', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:latest', ...fixtureArgs, '--out', out], { env: { PATH: path } });
    expect(r.exitCode, show(r)).toBe(4);
    expect(r.stderr).toContain('rpmbuild not found: install it with "apt-get install rpm" or "dnf install rpm-build"');
    expect(r.stderr).not.toContain('Clear the work directory');
    expect(snapshot(out)).toEqual(before);
  });
});

describe('downloading a pinned source', () => {
  let server: Server;
  let requests = 0;
  let base: string;
  let tarball: string;
  let goodSha: string;

  beforeAll(async () => {
    ({ tarball, sha: goodSha } = await fixtureTarball());
    server = createServer((req, res) => {
      requests += 1;
      if (req.url === '/mini-0.1.tar.gz') res.end(readFileSync(tarball));
      else res.writeHead(404).end();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server?.close());

  const recipesWith = (sha256: string) => recipeServedFrom(`${base}/mini-0.1.tar.gz`, sha256);

  it('downloads once, verifies the checksum and builds; a second build uses the cache', async () => {
    const cache = tempDir('cache-dl');
    // Share the already downloaded kernel headers; the source cache starts empty.
    symlinkSync(join(TEST_CACHE, 'kernels'), join(cache, 'kernels'));
    symlinkSync(join(TEST_CACHE, 'apt'), join(cache, 'apt'));
    const recipes = recipesWith(goodSha);
    const out = tempDir('out-dl');
    requests = 0;
    const first = await armkit(['build', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:latest', '--recipes', recipes, '--out', out, '--json'], {
      cacheDir: cache,
    });
    expect(first.exitCode, show(first)).toBe(0);
    expect(requests).toBe(1);
    const manifest = JSON.parse(first.stdout).manifest;
    expect(manifest.source).toMatchObject({ kind: 'recipe', sha256: goodSha, verified: true });
    // Another out/ (the same command line would be answered from its up-to-date stamp, before the build cache is read).
    const second = await armkit(['build', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:latest', '--recipes', recipes, '--out', tempDir('out-dl2')], {
      cacheDir: cache,
    });
    expect(second.exitCode, show(second)).toBe(0);
    expect(requests).toBe(1);
    // Unchanged inputs: the whole build comes from the build cache.
    expect(second.stderr).toContain('nothing was rebuilt (--force rebuilds)');
    // Rebuilt, the source still comes from the download cache, verified again, not downloaded.
    const third = await armkit(['build', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:latest', '--recipes', recipes, '--out', out, '--force'], {
      cacheDir: cache,
    });
    expect(third.exitCode, show(third)).toBe(0);
    expect(requests).toBe(1);
    expect(third.stderr).toContain('cached, sha256 verified');
  });

  it('a checksum mismatch fails with exit 5, keeps nothing in the cache and adds nothing to out/', async () => {
    const cache = tempDir('cache-bad');
    symlinkSync(join(TEST_CACHE, 'kernels'), join(cache, 'kernels'));
    symlinkSync(join(TEST_CACHE, 'apt'), join(cache, 'apt'));
    const wrong = 'f'.repeat(64);
    const out = tempDir('out-bad');
    const r = await armkit(['build', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:latest', '--recipes', recipesWith(wrong), '--out', out], {
      cacheDir: cache,
    });
    expect(r.exitCode, show(r)).toBe(5);
    expect(r.stderr).toContain(`Checksum mismatch`);
    expect(r.stderr).toContain(`expected sha256 ${wrong}, got ${goodSha}`);
    expect(readdirSync(out)).toEqual([]);
    expect(existsSync(join(cache, 'sources', wrong.slice(0, 12), 'mini-0.1.tar.gz'))).toBe(false);
  });

  it('a local copy of a pinned archive counts as that verified source', async () => {
    const out = tempDir('out-local-pinned');
    const r = await armkit([
      'build',
      'cryptodev',
      '--arch',
      'aarch64',
      '--kernel',
      'debian:latest',
      '--recipes',
      recipesWith(goodSha),
      '--source',
      tarball,
      '--out',
      out,
      '--json',
    ]);
    expect(r.exitCode, show(r)).toBe(0);
    expect(r.stderr).not.toContain('no checksum applies');
    expect(JSON.parse(r.stdout).manifest.source).toMatchObject({ kind: 'recipe', verified: true, sha256: goodSha });
  });
});

describe('bad input gets a clear error and its exit code', () => {
  it('unknown architecture: exit 2, lists the known ones', async () => {
    const r = await armkit(['build', 'cryptodev', '--arch', 'sparc64', '--kernel', 'debian:latest']);
    expect(r.exitCode, show(r)).toBe(2);
    expect(r.stderr).toContain('Unknown architecture "sparc64": armkit knows aarch64, armv7hl, armv5tel, x86_64');
  });

  it('unknown recipe: exit 2', async () => {
    const r = await armkit(['build', 'no-such-recipe', '--arch', 'aarch64', '--kernel', 'debian:latest']);
    expect(r.exitCode, show(r)).toBe(2);
    expect(r.stderr).toContain('No recipe named "no-such-recipe"');
  });

  it('a cross build without --kernel: exit 2, names the accepted forms', async () => {
    const r = await armkit(['build', 'cryptodev', '--arch', 'aarch64']);
    expect(r.exitCode, show(r)).toBe(2);
    expect(r.stderr).toContain('A cross build for aarch64 needs --kernel');
    expect(r.stderr).toContain('debian:latest[-FLAVOUR]');
  });

  it('an invalid recipe: exit 3, names the file and the field', async () => {
    const dir = tempDir('bad-recipe');
    const text = readFileSync(join(ROOT, 'recipes/cryptodev.yaml'), 'utf8').replace(/sha256: 67223d5b\w+/, 'sha256: not-a-checksum');
    writeFileSync(join(dir, 'cryptodev.yaml'), text);
    const r = await armkit(['build', 'cryptodev', '--recipes', dir, '--arch', 'aarch64', '--kernel', 'debian:latest']);
    expect(r.exitCode, show(r)).toBe(3);
    expect(r.stderr).toContain(`Recipe ${join(dir, 'cryptodev.yaml')} is invalid: sources.0.sha256: must be 64 lowercase hex digits`);
  });

  it('an unknown option: exit 2 with a pointer to --help', async () => {
    const r = await armkit(['build', 'cryptodev', '--no-such-flag']);
    expect(r.exitCode, show(r)).toBe(2);
    expect(r.stderr).toContain("unknown option '--no-such-flag'");
  });

  it('uninstalled kernel headers: exit 4 with the packages to install', async () => {
    const r = await armkit(['build', 'cryptodev', '--arch', 'x86_64', '--kernel', '6.1.0-9999-amd64', ...fixtureArgs]);
    expect(r.exitCode, show(r)).toBe(4);
    expect(r.stderr).toContain('No headers for kernel 6.1.0-9999-amd64');
    expect(r.stderr).toContain('apt-get install linux-headers-6.1.0-9999-amd64');
    expect(r.stderr).toContain('dnf install kernel-devel-6.1.0-9999-amd64');
  });

  it('--json failures print one JSON error document on stdout', async () => {
    const r = await armkit(['build', 'cryptodev', '--arch', 'sparc64', '--kernel', 'debian:latest', '--json']);
    expect(r.exitCode).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { kind: 'usage', exitCode: 2 } });
  });
});

describe('interrupting a build', () => {
  it('stops the running command, exits 130 and leaves out/ untouched', async () => {
    const out = tempDir('out-int');
    const child = execa(
      process.execPath,
      [join(ROOT, 'bin/armkit.js'), 'build', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:latest', ...fixtureArgs, '--out', out, '--force'],
      {
        env: { ARMKIT_CACHE_DIR: TEST_CACHE, CI: 'true' },
        reject: false,
      },
    );
    let stderr = '';
    await new Promise<void>((started) => {
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/rpmbuild cryptodev-linux-\S+ for aarch64/.test(stderr)) started();
      });
    });
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode, `${r.stderr}`).toBe(130);
    expect(String(r.stderr)).toContain('interrupted');
    expect(readdirSync(out)).toEqual([]);
  });
});
