/**
 * Issue 11's faults through the real CLI (docs/RELIABILITY.md lists every case and its test): places armkit cannot
 * write, sources that are no module source, recipes that cannot mean what they say, programs missing before any
 * preflight, download faults from a loopback server, specs whose distribution macros this rpm lacks. Every case
 * ends in one sentence with the exit code of its kind, never a stack trace, and leaves out/ as it was.
 */

import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRunner } from '../../src/proc/runner.js';
import { verifyPatchedSpec } from '../../src/rpmspec/verify.js';
import {
  armkit,
  type CliResult,
  FIXTURE_MODULE,
  FIXTURE_VERSION,
  installedAmd64Release,
  pathWithout,
  plainEnv,
  ROOT,
  show,
  snapshot,
  TEST_CACHE,
  tempDir,
} from '../helpers/cli.js';
import { cacheWithHeaders, fixtureTarball, recipeServedFrom } from '../helpers/served.js';

const amd64 = installedAmd64Release();
const isRoot = process.getuid?.() === 0;
const SPECS = join(ROOT, 'test/fixtures/specs');
const FEDORA_STYLE = join(SPECS, 'fedora-style-3.0.9.spec');
const OPENMANDRIVA_STYLE = join(SPECS, 'openmandriva-style-3.0.9.spec');

/** No stack trace and no "internal error": the failure is armkit's sentence and the lines under it. */
function clean(r: CliResult): void {
  expect(r.stderr, show(r)).not.toMatch(/internal error|^\s+at \S+ \(|TypeError|SyntaxError|ENOENT:|EACCES:|ENOSPC:|ENOTDIR:/m);
  expect(r.stderr, show(r)).toMatch(/^armkit: error: \S/m);
}

async function timed(args: string[], options: Parameters<typeof armkit>[1] = {}): Promise<CliResult & { ms: number }> {
  const started = Date.now();
  const r = await armkit(args, options);
  return { ...r, ms: Date.now() - started };
}

/** Mounts stay in a namespace of their own (as test/integration/guest-firmware.test.ts does it). */
const propagation = readFileSync('/proc/self/mountinfo', 'utf8').includes(' shared:') ? 'private' : 'unchanged';

/** armkit run in a mount namespace where `setup` (shell) ran first, as root. */
async function armkitInNamespace(setup: string, args: string[]): Promise<CliResult> {
  const r = await execa(
    'unshare',
    ['--mount', '--propagation', propagation, 'sh', '-c', `${setup} && exec "$0" "$@"`, process.execPath, join(ROOT, 'bin/armkit.js'), ...args],
    { env: { ARMKIT_CACHE_DIR: TEST_CACHE, CI: 'true' }, reject: false, stdin: 'ignore' },
  );
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

describe('places armkit cannot write: an error at once, never a hang', () => {
  // Start-up of Node and armkit included, on a loaded two-core machine; the hang this replaces never ended.
  const QUICK_MS = 5000;

  it.skipIf(!amd64)('--out under /proc: exit 4 before anything is built', async () => {
    const r = await timed(['build', 'cryptodev', '--kernel', amd64!, '--source', FIXTURE_MODULE, '--out', '/proc/armkit-x']);
    expect(r.exitCode, show(r)).toBe(4);
    expect(r.ms).toBeLessThan(QUICK_MS);
    expect(r.stderr).toContain(
      "armkit: error: Cannot create the output directory (--out) /proc/armkit-x: /proc is on proc, a virtual file system of the kernel that takes no directories of armkit's; pass another --out.",
    );
    expect(r.stderr).not.toContain('rpmbuild');
    clean(r);
  });

  it.skipIf(!amd64)('--cache-dir under /proc: exit 4 before anything runs', async () => {
    const r = await timed(['build', 'cryptodev', '--kernel', amd64!, '--source', FIXTURE_MODULE, '--cache-dir', '/proc/armkit-x', '--out', tempDir('rel-out')]);
    expect(r.exitCode, show(r)).toBe(4);
    expect(r.ms).toBeLessThan(QUICK_MS);
    expect(r.stderr).toMatch(/Cannot create the cache directory \/proc\/armkit-x: \/proc is on proc, .*set --cache-dir or ARMKIT_CACHE_DIR/);
    clean(r);
  });

  it('--cache-dir under /sys with debian: headers: exit 4 before apt runs', async () => {
    const r = await timed(['build', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:latest', '--source', FIXTURE_MODULE, '--cache-dir', '/sys/armkit-x']);
    expect(r.exitCode, show(r)).toBe(4);
    expect(r.ms).toBeLessThan(QUICK_MS);
    expect(r.stderr).toMatch(/Cannot create the cache directory \/sys\/armkit-x: \/sys is on sysfs/);
    clean(r);
  });

  it('spec openssl --out under /proc: exit 4 before rpmspec runs', async () => {
    const r = await timed(['spec', 'openssl', '--spec', FEDORA_STYLE, '--out', '/proc/armkit-x']);
    expect(r.exitCode, show(r)).toBe(4);
    expect(r.ms).toBeLessThan(QUICK_MS);
    expect(r.stderr).toMatch(/Cannot create the output directory \(--out\) \/proc\/armkit-x: \/proc is on proc/);
    clean(r);
  });

  it.skipIf(!amd64)('a dry run with --out under /proc says so too, and writes nothing', async () => {
    const cache = tempDir('rel-dry-cache');
    const r = await timed(['build', 'cryptodev', '--kernel', amd64!, '--source', FIXTURE_MODULE, '--out', '/proc/armkit-x', '--dry-run'], { cacheDir: cache });
    expect(r.exitCode, show(r)).toBe(4);
    expect(r.stdout).toBe('');
    expect(readdirSync(cache)).toEqual([]);
    clean(r);
  });

  it.skipIf(!amd64)('--out that is a regular file, or below one: exit 2 naming the file (ENOTDIR)', async () => {
    const file = join(tempDir('rel-file'), 'out');
    writeFileSync(file, 'not a directory\n');
    for (const out of [file, join(file, 'below')]) {
      const build = await armkit(['build', 'cryptodev', '--kernel', amd64!, '--source', FIXTURE_MODULE, '--out', out]);
      expect(build.exitCode, show(build)).toBe(2);
      expect(build.stderr).toContain(
        `Cannot create the output directory (--out) ${out}: ${file} is a file, not a directory; pass another --out, or move the file away.`,
      );
      clean(build);
      const spec = await armkit(['spec', 'openssl', '--spec', FEDORA_STYLE, '--out', out]);
      expect(spec.exitCode, show(spec)).toBe(2);
      expect(spec.stderr).toContain(`${file} is a file, not a directory`);
      clean(spec);
    }
    expect(readFileSync(file, 'utf8')).toBe('not a directory\n');
  });

  describe.skipIf(!isRoot)(`file systems that refuse writes${isRoot ? '' : ' (skipped: mounting a small tmpfs in a mount namespace needs root)'}`, () => {
    it('a full disk while spec openssl writes its output (ENOSPC): exit 4, "the disk is full", nothing left behind', async () => {
      const mnt = tempDir('rel-full');
      const r = await armkitInNamespace(`mount -t tmpfs -o size=64k armkit-full ${mnt} && (dd if=/dev/zero of=${mnt}/fill bs=4k 2>/dev/null || true)`, [
        'spec',
        'openssl',
        '--spec',
        FEDORA_STYLE,
        '--out',
        join(mnt, 'out'),
      ]);
      expect(r.exitCode, show(r)).toBe(4);
      expect(r.stderr).toMatch(
        /armkit: error: The disk is full: \S+\/openssl\/3\.0\.9\/spec\/\S+ could not be written\. Free some space there, or pass another --out\./,
      );
      clean(r);
    });

    it('a read-only file system as --out (EROFS): exit 4 naming it', async () => {
      const mnt = tempDir('rel-ro');
      const r = await armkitInNamespace(`mount -t tmpfs -o ro armkit-ro ${mnt}`, ['spec', 'openssl', '--spec', FEDORA_STYLE, '--out', join(mnt, 'out')]);
      expect(r.exitCode, show(r)).toBe(4);
      expect(r.stderr).toContain(`Cannot create the output directory (--out) ${join(mnt, 'out')}: ${mnt} is on a read-only file system; pass another --out.`);
      clean(r);
    });

    it.skipIf(!amd64)('a full disk under the cache when a build starts: exit 4, "the disk is full", naming the file', async () => {
      const mnt = tempDir('rel-full-cache');
      const r = await armkitInNamespace(`mount -t tmpfs -o size=64k armkit-full ${mnt} && (dd if=/dev/zero of=${mnt}/fill bs=4k 2>/dev/null || true)`, [
        'build',
        'cryptodev',
        '--kernel',
        amd64!,
        '--source',
        FIXTURE_MODULE,
        '--version',
        FIXTURE_VERSION,
        '--cache-dir',
        join(mnt, 'cache'),
        '--out',
        join(mnt, 'out'),
      ]);
      expect(r.exitCode, show(r)).toBe(4);
      expect(r.stderr).toMatch(/armkit: error: (The disk is full: \S+ could not be written|Cannot create .*: the disk holding \S+ is full)/);
      expect(r.stderr).toContain('set --cache-dir or ARMKIT_CACHE_DIR to a directory on a disk');
      clean(r);
    });
  });
});

/** A --source archive of the fixture module with extra entries, made with GNU tar. */
async function fixtureTar(name: string, extra: (stage: string) => Promise<void> | void = () => {}, flags = '-czf'): Promise<string> {
  const stage = tempDir('rel-stage');
  cpSync(FIXTURE_MODULE, join(stage, 'mini-0.2'), { recursive: true });
  await extra(join(stage, 'mini-0.2'));
  const file = join(tempDir('rel-src'), name);
  await execa('tar', [flags, file, '-C', stage, 'mini-0.2']);
  return file;
}

describe.skipIf(!amd64)('a --source that is no module source: one sentence, exit 2, no stack trace', () => {
  const dry = (source: string, env: Record<string, string> = {}) =>
    armkit(['build', 'cryptodev', '--kernel', amd64!, '--source', source, '--dry-run'], { env, cacheDir: tempDir('rel-src-cache') });

  it('a truncated .tar.gz', async () => {
    const good = readFileSync(await fixtureTar('m.tar.gz'));
    const file = join(tempDir('rel-trunc'), 'mini-0.2.tar.gz');
    writeFileSync(file, good.subarray(0, Math.floor(good.length / 2)));
    const r = await dry(file);
    expect(r.exitCode, show(r)).toBe(2);
    expect(r.stderr).toContain(
      `armkit: error: --source ${file} is a file that is damaged or truncated (zlib: unexpected end of file): pass a tar archive of the module's source tree (.tar, .tar.gz), or the unpacked directory.`,
    );
    clean(r);
  });

  it('a corrupt .tar.gz (bytes changed inside the stream)', async () => {
    const bytes = Buffer.from(readFileSync(await fixtureTar('m.tar.gz')));
    for (let i = 40; i < bytes.length - 20; i += 7) bytes[i]! ^= 0x5a;
    const file = join(tempDir('rel-corrupt'), 'mini-0.2.tar.gz');
    writeFileSync(file, bytes);
    const r = await dry(file);
    expect(r.exitCode, show(r)).toBe(2);
    expect(r.stderr).toMatch(/--source \S+ is a file that is damaged or truncated \(zlib: [^)]+\): pass a tar archive/);
    clean(r);
  });

  it('a truncated uncompressed .tar', async () => {
    const good = readFileSync(await fixtureTar('m.tar', () => {}, '-cf'));
    const file = join(tempDir('rel-trunc-tar'), 'mini-0.2.tar');
    writeFileSync(file, good.subarray(0, 3000));
    const r = await dry(file);
    expect(r.exitCode, show(r)).toBe(2);
    expect(r.stderr).toMatch(/--source \S+ is a file that is damaged or truncated \(Truncated input/);
    clean(r);
  });

  it('a decompression bomb (200 MiB of zeros in 200 KiB): refused while reading, nothing unpacked', async () => {
    const file = join(tempDir('rel-bomb'), 'mini-0.2.tar.gz');
    // One tar entry of 200 MiB of zeros, gzipped: tar's ratio bound (1000) stops it.
    const tar = Buffer.concat([
      tarHeader('mini-0.2/Makefile', 8),
      Buffer.from('VERSION=1'.padEnd(512, '\n').slice(0, 512)),
      tarHeader('mini-0.2/zeros', 200 * 1024 * 1024),
    ]);
    writeFileSync(file, Buffer.concat([gzipSync(tar), gzipSync(Buffer.alloc(200 * 1024 * 1024), { level: 9 })]));
    expect(readFileSync(file).length).toBeLessThan(400_000);
    const r = await dry(file);
    expect(r.exitCode, show(r)).toBe(2);
    expect(r.stderr).toMatch(
      /--source \S+ unpacks to more than 1000 times its compressed size: a decompression bomb, or not a source archive: pass a tar archive/,
    );
    clean(r);
  });

  it('an archive over ARMKIT_UNPACK_MAX (compressible less than 1000 times): refused at the bound', async () => {
    const file = await fixtureTar('mini-0.2.tar.gz', (dir) => {
      writeFileSync(join(dir, 'numbers.txt'), Array.from({ length: 400_000 }, (_, i) => String(i)).join('\n'));
    });
    const r = await dry(file, { ARMKIT_UNPACK_MAX: '1M' });
    expect(r.exitCode, show(r)).toBe(2);
    expect(r.stderr).toMatch(
      /--source \S+ unpacks to more than 1 MiB \(at mini-0\.2\/numbers\.txt\): armkit stops there \(a decompression bomb\?; ARMKIT_UNPACK_MAX raises the bound\)/,
    );
    clean(r);
  });

  it('an HTML page saved as .tar.gz', async () => {
    const file = join(tempDir('rel-html'), 'cryptodev-linux-1.14.tar.gz');
    writeFileSync(file, '<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body>Not Found</body></html>\n');
    const r = await dry(file);
    expect(r.exitCode, show(r)).toBe(2);
    expect(r.stderr).toContain(`--source ${file} is an HTML page (a download that returned an error page?), not a tar archive: pass a tar archive`);
    clean(r);
  });

  it('an empty file', async () => {
    const file = join(tempDir('rel-empty-file'), 'mini-0.2.tar.gz');
    writeFileSync(file, '');
    const r = await dry(file);
    expect(r.exitCode, show(r)).toBe(2);
    expect(r.stderr).toContain(`--source ${file} is an empty file: pass a tar archive`);
    clean(r);
  });

  it('an empty directory', async () => {
    const dir = tempDir('rel-empty-dir');
    const r = await dry(dir);
    expect(r.exitCode, show(r)).toBe(2);
    expect(r.stderr).toContain(`--source ${dir} is a directory without a Makefile: armkit builds a module with "make build" in its source tree.`);
    clean(r);
  });

  it('a tarball holding a FIFO: refused before rpmbuild would create it as root', async () => {
    const file = await fixtureTar('mini-0.2.tar.gz', async (dir) => {
      await execa('mkfifo', [join(dir, 'pipe')]);
    });
    const r = await dry(file);
    expect(r.exitCode, show(r)).toBe(2);
    expect(r.stderr).toContain(
      `--source ${file} holds device nodes or FIFOs (mini-0.2/pipe (FIFO)): no source or package armkit unpacks needs them, and armkit never creates them: pass a tar archive`,
    );
    clean(r);
  });

  it('a tarball holding a character device node', async () => {
    const file = join(tempDir('rel-dev'), 'mini-0.2.tar.gz');
    const data = Buffer.from('VERSION = 0.2\nbuild:\n\ttrue\n');
    const body = Buffer.concat([
      tarHeader('mini-0.2/Makefile', data.length),
      data,
      Buffer.alloc(512 - data.length),
      tarHeader('mini-0.2/console', 0, '3'),
      Buffer.alloc(1024),
    ]);
    writeFileSync(file, gzipSync(body));
    const r = await dry(file);
    expect(r.exitCode, show(r)).toBe(2);
    expect(r.stderr).toContain('holds device nodes or FIFOs (mini-0.2/console (CharacterDevice))');
    clean(r);
  });
});

/** A ustar header (type 0 a file, 3 a character device). */
function tarHeader(name: string, size: number, type = '0'): Buffer {
  const b = Buffer.alloc(512);
  b.write(name, 0, 100, 'latin1');
  b.write('0000644\0', 100, 8, 'latin1');
  b.write('0000000\0', 108, 8, 'latin1');
  b.write('0000000\0', 116, 8, 'latin1');
  b.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 12, 'latin1');
  b.write(`${(1_700_000_000).toString(8).padStart(11, '0')}\0`, 136, 12, 'latin1');
  b.write('        ', 148, 8, 'latin1');
  b.write(type, 156, 1, 'latin1');
  b.write('ustar\0', 257, 6, 'latin1');
  b.write('00', 263, 2, 'latin1');
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return b;
}

describe('recipes, options and names that cannot mean what they say', () => {
  const recipe = readFileSync(join(ROOT, 'recipes/cryptodev.yaml'), 'utf8');
  const withRecipe = (text: string, name = 'cryptodev.yaml') => {
    const dir = tempDir('rel-recipes');
    writeFileSync(join(dir, name), text);
    return dir;
  };

  it('an impossible kernel range in a recipe: exit 3 naming the file and field (it was 2, "no source supports")', async () => {
    const dir = withRecipe(recipe.replace('kernels: "<6.11.0"', 'kernels: ">=7 <6"'));
    const r = await armkit(['build', 'cryptodev', '--recipes', dir, '--arch', 'aarch64', '--kernel', 'debian:latest', '--dry-run']);
    expect(r.exitCode, show(r)).toBe(3);
    expect(r.stderr).toContain(
      `Recipe ${join(dir, 'cryptodev.yaml')} is invalid: sources.0.kernels: no kernel version satisfies this range (is it written the wrong way round?)`,
    );
    clean(r);
  });

  it('two sources pinned to one version: exit 3 (it was 0)', async () => {
    const dir = withRecipe(recipe.replace('version: "1.14^20251105git08644db"', 'version: "1.14"'));
    const r = await armkit(['build', 'cryptodev', '--recipes', dir, '--arch', 'aarch64', '--kernel', 'debian:latest', '--dry-run']);
    expect(r.exitCode, show(r)).toBe(3);
    expect(r.stderr).toContain('sources.1.version: version "1.14" is pinned twice (sources.0 and sources.1); give each version one source');
    clean(r);
  });

  it('an impossible OpenSSL range in a spec recipe: exit 3', async () => {
    const dir = withRecipe(
      readFileSync(join(ROOT, 'recipes/openssl.yaml'), 'utf8').replace('versions: ">=3.0.0 <4.0.0"', 'versions: ">=4.0.0 <3.0.0"'),
      'openssl.yaml',
    );
    const r = await armkit(['spec', 'openssl', '--recipes', dir, '--spec', FEDORA_STYLE, '--out', tempDir('rel-range-out')]);
    expect(r.exitCode, show(r)).toBe(3);
    expect(r.stderr).toMatch(/series\.\d+\.versions: no OpenSSL version satisfies this range/);
    clean(r);
  });

  it('a misspelt recipe name: exit 2 with the name meant', async () => {
    const r = await armkit(['build', 'cryptdev', '--arch', 'aarch64', '--kernel', 'debian:latest', '--dry-run']);
    expect(r.exitCode, show(r)).toBe(2);
    expect(r.stderr).toMatch(/No recipe named "cryptdev" in .*: did you mean "cryptodev"\?/);
    clean(r);
  });

  it('--recipes DIR that does not exist: exit 2, not ignored', async () => {
    const r = await armkit(['build', 'cryptodev', '--recipes', '/nonexistent-armkit-recipes', '--arch', 'aarch64', '--kernel', 'debian:latest', '--dry-run']);
    expect(r.exitCode, show(r)).toBe(2);
    expect(r.stderr).toContain('--recipes /nonexistent-armkit-recipes: no such directory.');
    clean(r);
  });

  it.each([
    [['build', 'cryptodev', '--no-such-flag', '--json'], "unknown option '--no-such-flag'"],
    [['biuld', 'cryptodev', '--json'], "unknown command 'biuld'"],
    [['build', 'cryptodev', '--mode', 'sideways', '--json'], "option '--mode <mode>' argument 'sideways' is invalid"],
  ])('a usage error with --json prints one JSON document on stdout: %j', async (args, message) => {
    const r = await armkit(args);
    expect(r.exitCode, show(r)).toBe(2);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ ok: false, error: { kind: 'usage', exitCode: 2 } });
    expect(doc.error.message).toContain(message);
  });

  it.skipIf(!amd64)('a header tree without Module.symvers whose kernel checks symbol versions: exit 5 with the consequence', async () => {
    const headers = join(tempDir('rel-symvers'), 'linux-headers');
    cpSync(`/usr/src/linux-headers-${amd64}`, headers, { recursive: true, verbatimSymlinks: true });
    const symvers = join(headers, 'Module.symvers');
    if (existsSync(symvers)) writeFileSync(symvers, '');
    await execa('rm', ['-f', symvers]);
    const r = await armkit(['build', 'cryptodev', '--kernel', headers, '--source', FIXTURE_MODULE, '--dry-run']);
    expect(r.exitCode, show(r)).toBe(5);
    expect(r.stderr).toContain(`Kernel headers in ${headers} have no Module.symvers, and their kernel checks symbol versions (CONFIG_MODVERSIONS).`);
    expect(r.stderr).toMatch(/that kernel refuses it/);
    clean(r);
  });

  it.skipIf(!amd64)('a source without the license files the recipe names: built, and the warning says its packages carry none', async () => {
    const src = join(tempDir('rel-nolicense'), 'mymodule');
    cpSync(FIXTURE_MODULE, src, { recursive: true });
    await execa('rm', [join(src, 'COPYING')]);
    const r = await armkit(['build', 'cryptodev', '--kernel', amd64!, '--source', src, '--dry-run']);
    expect(r.exitCode, show(r)).toBe(0);
    expect(r.stdout).toContain('The source has none of the license files the recipe names (COPYING): its packages carry no license file.');
    expect(r.stdout).not.toMatch(/^%license/m);
  });
});

describe('armkit test with a manifest.json it cannot read: one sentence, never a SyntaxError or TypeError', () => {
  /** A build directory whose manifest is `text` (no packages needed: the manifest is read first). */
  const buildWith = (text: string | undefined) => {
    const dir = join(tempDir('rel-manifest'), 'cryptodev', '1.14', 'aarch64', '6.1.0-57-arm64');
    mkdirSync(dir, { recursive: true });
    if (text !== undefined) writeFileSync(join(dir, 'manifest.json'), text);
    return dir;
  };

  it.each([
    ['cut off (not JSON): exit 5', '{ "schema": 2, "arch": ', 5, /is not a manifest armkit can read: it is not JSON/],
    ['incomplete (fields missing): exit 5', '{ "schema": 2, "arch": "aarch64" }', 5, /is not a manifest armkit can read: recipe: /],
    ['from an older armkit (schema 1): exit 5', '{ "schema": 1, "arch": "aarch64" }', 5, /it is schema 1, written by an older armkit; this one reads schema 2/],
    ['absent: exit 2', undefined, 2, /holds no manifest\.json from "armkit build"/],
  ])('%s', async (_what, text, code, message) => {
    const dir = buildWith(text);
    const r = await armkit(['test', 'cryptodev', '--arch', 'aarch64', '--from', dir, '--dry-run']);
    expect(r.exitCode, show(r)).toBe(code);
    expect(r.stderr).toMatch(message);
    clean(r);
  });
});

describe('programs missing before any preflight get their install command (exit 4)', () => {
  it('spec openssl --srpm without rpm2cpio', async () => {
    const srpm = join(tempDir('rel-srpm'), 'openssl-3.0.9-2.src.rpm');
    writeFileSync(srpm, 'not read: rpm2cpio is missing\n');
    const r = await armkit(['spec', 'openssl', '--srpm', srpm, '--out', tempDir('rel-srpm-out')], { env: { PATH: pathWithout(/^rpm2cpio$/) } });
    expect(r.exitCode, show(r)).toBe(4);
    expect(r.stderr).toContain(
      'armkit: error: rpm2cpio not found: install it with "apt-get install rpm2cpio" or "dnf install rpm" (or run "armkit doctor --fix").',
    );
    clean(r);
  });

  it('build openssl --srpm --dry-run without rpm2cpio (the spec is read before the plan)', async () => {
    const srpm = join(tempDir('rel-srpm2'), 'openssl-3.0.9-2.src.rpm');
    writeFileSync(srpm, 'not read\n');
    const r = await armkit(['build', 'openssl', '--srpm', srpm, '--dry-run'], { env: { PATH: pathWithout(/^rpm2cpio$/) } });
    expect(r.exitCode, show(r)).toBe(4);
    expect(r.stderr).toContain('rpm2cpio not found: install it with "apt-get install rpm2cpio"');
    clean(r);
  });

  it('spec openssl with rpmspec but without rpm (its macro probe)', async () => {
    const r = await armkit(['spec', 'openssl', '--spec', FEDORA_STYLE, '--out', tempDir('rel-norpm-out')], { env: { PATH: pathWithout(/^rpm$/) } });
    expect(r.exitCode, show(r)).toBe(4);
    expect(r.stderr).toContain('rpm not found: install it with "apt-get install rpm" or "dnf install rpm"');
    clean(r);
  });
});

describe('download faults, from a loopback server', () => {
  let server: Server;
  let base: string;
  let tarball: string;
  let sha: string;
  const slowHits: string[] = [];

  beforeAll(async () => {
    ({ tarball, sha } = await fixtureTarball());
    server = createServer((req, res) => {
      if (req.url === '/loop.tar.gz') {
        res.writeHead(302, { location: '/loop.tar.gz' }).end();
      } else if (req.url === '/cut.tar.gz') {
        res.writeHead(200, { 'content-length': '100000' });
        res.write(Buffer.alloc(1000));
        setTimeout(() => res.socket?.destroy(), 50);
      } else if (req.url === '/missing.tar.gz') {
        res.writeHead(404).end();
      } else if (req.url === '/slow.tar.gz') {
        // The file in eight parts over 1.6 s: two armkit processes downloading it overlap.
        slowHits.push(req.url);
        const body = readFileSync(tarball);
        res.writeHead(200, { 'content-length': String(body.length) });
        const part = Math.ceil(body.length / 8);
        let i = 0;
        const send = () => {
          res.write(body.subarray(i * part, (i + 1) * part));
          i += 1;
          if (i < 8) setTimeout(send, 200);
          else res.end();
        };
        send();
      } else res.writeHead(404).end();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server?.close());

  const recipesFor = (path: string, sha256 = sha) => recipeServedFrom(`${base}${path}`, sha256);

  it.skipIf(!amd64).each([
    ['a redirect loop', '/loop.tar.gz', /Could not download http:\/\/127\.0\.0\.1:\d+\/loop\.tar\.gz: redirect count exceeded\./],
    [
      'a connection closed mid-download',
      '/cut.tar.gz',
      /The download of http:\/\/127\.0\.0\.1:\d+\/cut\.tar\.gz broke off \(.*\): the server closed the connection early\. Run the build again to retry\./,
    ],
    ['HTTP 404', '/missing.tar.gz', /Could not download http:\/\/127\.0\.0\.1:\d+\/missing\.tar\.gz: HTTP 404 Not Found\./],
  ])('%s: exit 1 with the reason and what to do offline, nothing kept', async (_what, path, message) => {
    const cache = tempDir('rel-dl-fault');
    const out = tempDir('rel-dl-out');
    const r = await armkit(['build', 'cryptodev', '--recipes', recipesFor(path), '--kernel', amd64!, '--out', out], { cacheDir: cache });
    expect(r.exitCode, show(r)).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain('download it elsewhere and pass it with --source FILE');
    expect(r.stderr).not.toContain('fetch failed');
    expect(r.stderr).not.toContain('terminated');
    expect(readdirSync(out)).toEqual([]);
    const sources = join(cache, 'sources', sha.slice(0, 12));
    expect(existsSync(sources) ? readdirSync(sources) : []).toEqual([]);
    clean(r);
  });

  it.skipIf(!amd64)('interrupted mid-download (SIGINT): exit 130, "Interrupted while downloading", no partial file kept', async () => {
    const cache = cacheWithHeaders();
    slowHits.length = 0;
    const args = ['build', 'cryptodev', '--recipes', recipesFor('/slow.tar.gz'), '--kernel', amd64!, '--out', tempDir('rel-dl-int')];
    const child = execa(process.execPath, [join(ROOT, 'bin/armkit.js'), ...args], {
      env: { ...plainEnv(), ARMKIT_CACHE_DIR: cache, CI: 'true' },
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
    });
    for (let waited = 0; slowHits.length === 0 && waited < 30_000; waited += 20) await new Promise((done) => setTimeout(done, 20));
    expect(slowHits.length, 'the download began').toBe(1);
    // Part of the body has arrived (the server sends an eighth every 200 ms).
    await new Promise((done) => setTimeout(done, 300));
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode, String(r.stderr)).toBe(130);
    expect(String(r.stderr)).toContain('Interrupted while downloading');
    const sources = join(cache, 'sources', sha.slice(0, 12));
    expect(existsSync(sources) ? readdirSync(sources) : []).toEqual([]);
  });

  it.skipIf(!amd64)('two builds downloading the same source into one cache at once: both succeed, no false checksum mismatch', async () => {
    const cache = cacheWithHeaders();
    const recipes = recipesFor('/slow.tar.gz');
    const args = (arch: string, kernel: string) => [
      'build',
      'cryptodev',
      '--recipes',
      recipes,
      '--arch',
      arch,
      '--kernel',
      kernel,
      '--out',
      tempDir(`rel-dl2-${arch}`),
    ];
    slowHits.length = 0;
    const [one, two] = await Promise.all([armkit(args('x86_64', amd64!), { cacheDir: cache }), armkit(args('aarch64', 'debian:latest'), { cacheDir: cache })]);
    expect(one.exitCode, show(one)).toBe(0);
    expect(two.exitCode, show(two)).toBe(0);
    expect(`${one.stderr}${two.stderr}`).not.toContain('Checksum mismatch');
    // Both downloaded (each through a .part file of its own), or the second found the first's verified file.
    expect(slowHits.length).toBeGreaterThanOrEqual(1);
    expect(readdirSync(join(cache, 'sources', sha.slice(0, 12)))).toEqual(['mini-0.1.tar.gz']);
  });
});

describe("specs whose distribution macros this host's rpm lacks", () => {
  it('an OpenMandriva-style spec (%mklibname, %{cross_compiling}, an %include rpm does not ship): written, exit 0, the macros named', async () => {
    const out = tempDir('rel-om-out');
    const r = await armkit(['spec', 'openssl', '--spec', OPENMANDRIVA_STYLE, '--out', out]);
    expect(r.exitCode, show(r)).toBe(0);
    expect(r.stderr).toMatch(
      /armkit: warning: \S+openmandriva-style-3\.0\.9\.spec does not parse with this host's rpm, the original as well as the patched spec: this rpm lacks /,
    );
    for (const lacking of ['%mklibname', '%cross_compiling', '%include /usr/lib/rpm/macros.d/macros.armkit-openmandriva-only'])
      expect(r.stderr).toContain(lacking);
    expect(r.stderr).toContain('the original and the patched spec both parse, and the patched one has enable-devcryptoeng: the patch is not to blame');
    expect(r.stderr).toContain('The final check belongs on the target: run "rpmspec -P openssl.spec" there, where these macros are defined.');
    const spec = readFileSync(join(out, 'openssl/3.0.9/spec/openssl.spec'), 'utf8');
    expect(spec).toContain('enable-devcryptoeng');
    expect(spec).toContain('%define libcrypto %mklibname crypto %{major}');
  });

  it('--json reports how it was checked', async () => {
    const r = await armkit(['spec', 'openssl', '--spec', OPENMANDRIVA_STYLE, '--out', tempDir('rel-om-json'), '--json']);
    expect(r.exitCode, show(r)).toBe(0);
    expect(JSON.parse(r.stdout).parse).toMatchObject({
      checked: true,
      status: 'compared',
      standIns: expect.arrayContaining(['mklibname', 'cross_compiling']),
      includes: ['/usr/lib/rpm/macros.d/macros.armkit-openmandriva-only'],
    });
  });

  it('--strict makes it an error (exit 5) and writes nothing', async () => {
    const out = tempDir('rel-om-strict');
    const r = await armkit(['spec', 'openssl', '--spec', OPENMANDRIVA_STYLE, '--out', out, '--strict']);
    expect(r.exitCode, show(r)).toBe(5);
    expect(r.stderr).toMatch(/armkit: error: --strict: \S+ does not parse with this host's rpm/);
    expect(r.stderr).toContain('Without --strict armkit writes the patched spec with this warning.');
    expect(readdirSync(out)).toEqual([]);
    clean(r);
  });

  it('only an %include this rpm does not ship: the same, naming the file', async () => {
    const dir = tempDir('rel-include');
    const file = join(dir, 'openssl.spec');
    writeFileSync(
      file,
      readFileSync(FEDORA_STYLE, 'utf8').replace('%define soversion 3', '%define soversion 3\n%include %{_rpmconfigdir}/macros.d/macros.armkit-absent'),
    );
    const r = await armkit(['spec', 'openssl', '--spec', file, '--out', join(dir, 'out')]);
    expect(r.exitCode, show(r)).toBe(0);
    expect(r.stderr).toContain('this rpm lacks %include /usr/lib/rpm/macros.d/macros.armkit-absent');
    expect(existsSync(join(dir, 'out/openssl/3.0.9/spec/openssl.spec'))).toBe(true);
  });

  it('a spec that does not parse on its own, for no missing macro: exit 5 with rpmspec’s words, nothing written', async () => {
    const dir = tempDir('rel-broken');
    const file = join(dir, 'openssl.spec');
    writeFileSync(file, readFileSync(FEDORA_STYLE, 'utf8').replace('%description libs', '%if 1\n%description libs'));
    const out = join(dir, 'out');
    const r = await armkit(['spec', 'openssl', '--spec', file, '--out', out]);
    expect(r.exitCode, show(r)).toBe(5);
    expect(r.stderr).toMatch(/rpmspec -P cannot parse openssl\.spec here, the original as well as the patched spec, and not for a macro this rpm lacks/);
    expect(r.stderr).toMatch(/Unclosed %if|%if/);
    expect(existsSync(out)).toBe(false);
    clean(r);
  });

  it('a patch that breaks a spec the original parses is the patch’s fault: a verification error', async () => {
    const original = readFileSync(FEDORA_STYLE, 'utf8');
    const broken = original.replace('%build', '%build\n%if 1');
    const error = await verifyPatchedSpec(original, broken, 'openssl.spec', createRunner(), ['enable-devcryptoeng']).catch((e) => e);
    expect(error).toMatchObject({ kind: 'verification' });
    expect(error.message).toMatch(/^The patched openssl\.spec does not parse, while the original does: rpmspec -P exited with 1\.$/);
  });

  it('the same under stand-ins: the original parses with them, the patched one does not', async () => {
    const original = readFileSync(OPENMANDRIVA_STYLE, 'utf8');
    const broken = original.replace('%build', '%build\n%if 1');
    const error = await verifyPatchedSpec(original, broken, 'openssl.spec', createRunner(), ['enable-devcryptoeng']).catch((e) => e);
    expect(error).toMatchObject({ kind: 'verification' });
    expect(error.message).toMatch(
      /^The patched openssl\.spec does not parse with stand-ins for what this rpm lacks \(.*%mklibname.*\), while the original does/,
    );
  });
});

describe('a failure here leaves out/ as it was', () => {
  it('a spec refused with --strict, after a good one was written', async () => {
    const out = tempDir('rel-keep');
    const good = await armkit(['spec', 'openssl', '--spec', FEDORA_STYLE, '--out', out]);
    expect(good.exitCode, show(good)).toBe(0);
    const before = snapshot(out);
    const r = await armkit(['spec', 'openssl', '--spec', OPENMANDRIVA_STYLE, '--out', out, '--strict']);
    expect(r.exitCode, show(r)).toBe(5);
    expect(snapshot(out)).toEqual(before);
  });
});

/** A loopback port with nothing listening: apt, told to use it as its proxy, cannot reach any archive. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** A build of the fixture for aarch64 in the suite's cache (Debian's headers come from there), published to a fresh out/. */
async function aarch64Build(): Promise<string> {
  const out = tempDir('rel-arm-out');
  const r = await armkit([
    'build',
    'cryptodev',
    '--arch',
    'aarch64',
    '--kernel',
    'debian:latest',
    '--source',
    FIXTURE_MODULE,
    '--version',
    FIXTURE_VERSION,
    '--out',
    out,
  ]);
  expect(r.exitCode, show(r)).toBe(0);
  return out;
}

/** A cache holding only a copy of the suite's Debian index for arm64, refreshed `hoursAgo` (nothing else: headers and guest files must be fetched). */
function cacheWithIndex(hoursAgo: number): { cache: string; stamp: string } {
  const cache = tempDir('rel-index');
  mkdirSync(join(cache, 'apt'));
  cpSync(join(TEST_CACHE, 'apt', 'arm64'), join(cache, 'apt', 'arm64'), { recursive: true });
  const stamp = join(cache, 'apt', 'arm64', 'updated');
  const then = new Date(Date.now() - hoursAgo * 3600_000);
  utimesSync(stamp, then, then);
  return { cache, stamp };
}

describe("Debian's archive out of reach (apt pointed at a loopback port with nothing listening)", () => {
  const debianBuild = (cache: string, out: string, port: number) =>
    armkit(['build', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:latest', '--source', FIXTURE_MODULE, '--version', FIXTURE_VERSION, '--out', out], {
      cacheDir: cache,
      env: { http_proxy: `http://127.0.0.1:${port}` },
    });

  it('on an empty cache: exit 1, the archive could not be reached and how to retry, never "Debian has no linux-headers"', async () => {
    const cache = tempDir('rel-offline');
    const out = tempDir('rel-offline-out');
    const r = await debianBuild(cache, out, await closedPort());
    expect(r.exitCode, show(r)).toBe(1);
    expect(r.stderr).toContain(
      "armkit: error: Debian's archive could not be reached: apt-get update for arm64 fetched no package index, so armkit cannot look up the kernel headers.",
    );
    expect(r.stderr).toContain('then run the command again (armkit retries the download)');
    expect(r.stderr).not.toContain('Debian has no');
    expect(r.stderr).not.toContain('check the flavour');
    // Nothing marks the empty index as fresh: the next run tries the archive again.
    expect(existsSync(join(cache, 'apt', 'arm64', 'updated'))).toBe(false);
    expect(readdirSync(out)).toEqual([]);
    clean(r);
  });

  it('with an index from yesterday: a warning, then the headers download says the archive could not be reached (exit 1), out/ untouched', async () => {
    await aarch64Build(); // the suite's cache has the index to copy
    const { cache, stamp } = cacheWithIndex(30);
    const before = statSync(stamp).mtimeMs;
    const out = tempDir('rel-stale-out');
    const r = await debianBuild(cache, out, await closedPort());
    expect(r.exitCode, show(r)).toBe(1);
    expect(r.stderr).toMatch(
      /armkit: warning: Debian's archive could not be reached \(apt-get update could not fetch .*\): using armkit's index from 30 h ago; the next run tries again\./,
    );
    expect(r.stderr).toMatch(
      /armkit: error: Debian's archive could not be reached to download linux-headers-\S+:arm64 \S+ \S+: check the network and the mirror in \/etc\/apt\/sources\.list\*, then run the command again \(armkit retries the download\)\./,
    );
    expect(r.stderr).not.toMatch(/armkit: error: Command failed/);
    expect(statSync(stamp).mtimeMs).toBe(before);
    expect(readdirSync(out)).toEqual([]);
    expect(
      existsSync(join(cache, 'kernels', 'debian', 'arm64'))
        ? readdirSync(join(cache, 'kernels', 'debian', 'arm64')).filter((d) => !d.endsWith('.partial'))
        : [],
    ).toEqual([]);
    clean(r);
  });
});

describe('armkit test --dry-run reads and never writes or downloads (a loopback proxy counts what apt asks for)', () => {
  let proxy: Server;
  let port: number;
  let asked = 0;
  let out: string;

  beforeAll(async () => {
    proxy = createServer((_req, res) => {
      asked += 1;
      res.writeHead(503).end();
    });
    await new Promise<void>((done) => proxy.listen(0, '127.0.0.1', done));
    port = (proxy.address() as AddressInfo).port;
    out = await aarch64Build();
  });
  afterAll(() => proxy?.close());

  it('on an empty cache: exit 4, says which index it could not look up, the cache stays empty, nothing asked of the network', async () => {
    const cache = tempDir('rel-test-dry');
    asked = 0;
    const r = await armkit(['test', 'cryptodev', '--arch', 'aarch64', '--out', out, '--dry-run'], {
      cacheDir: cache,
      env: { http_proxy: `http://127.0.0.1:${port}` },
    });
    expect(r.exitCode, show(r)).toBe(4);
    expect(r.stderr).toContain(
      `armkit: error: --dry-run reads armkit's Debian package index for arm64, and it is not in the cache (${join(cache, 'apt', 'arm64', 'lists')}): a dry run downloads nothing.`,
    );
    expect(r.stderr).toContain('Run the same command once without --dry-run (it downloads the index)');
    expect(r.stdout).toBe('');
    expect(readdirSync(cache)).toEqual([]);
    expect(asked).toBe(0);
    clean(r);
  });

  it('with an index but no guest files: prints their downloads, downloads nothing, changes nothing in the cache', async () => {
    const { cache } = cacheWithIndex(30);
    const before = snapshot(cache);
    asked = 0;
    const r = await armkit(['test', 'cryptodev', '--arch', 'aarch64', '--out', out, '--dry-run'], {
      cacheDir: cache,
      env: { http_proxy: `http://127.0.0.1:${port}` },
    });
    expect(r.exitCode, show(r)).toBe(0);
    expect(r.stdout).toMatch(/apt-get .* download busybox-static:arm64/);
    expect(r.stdout).toMatch(/apt-get .* download linux-image-\S+:arm64/);
    expect(r.stderr).toContain("armkit's Debian package index for arm64 is 30 h old; the dry run reads it as it is");
    expect(asked).toBe(0);
    expect(snapshot(cache)).toEqual(before);
    expect(existsSync(join(cache, 'guest'))).toBe(false);
  });
});

describe('options that only mean something beside another one are usage errors, never ignored', () => {
  const kmod = amd64 ? ['build', 'cryptodev', '--kernel', amd64, '--source', FIXTURE_MODULE, '--dry-run'] : [];
  const srpm = join(tempDir('rel-opt-srpm'), 'openssl-3.0.9-2.src.rpm');
  writeFileSync(srpm, 'refused before it is read\n');
  const openssl = ['build', 'openssl', '--srpm', srpm, '--dry-run'];

  it.skipIf(!amd64).each([
    [['--chroot', 'fedora-41-x86_64'], '--chroot applies only with --engine mock or copr (a local build uses no chroot).'],
    [['--copr-project', 'me/p'], '--copr-project applies only with --engine copr.'],
    [['--engine', 'mock', '--copr-project', 'me/p'], '--copr-project applies only with --engine copr.'],
    [['--remote-timeout', '60'], '--remote-timeout applies only with --engine copr (the only engine whose build runs elsewhere).'],
    [['--timeout', '5'], '--timeout applies only with --test (it bounds the guest that proves the packages).'],
    [['--kernel-image', '/boot/vmlinuz'], '--kernel-image applies only with --test (it is the kernel the guest boots).'],
  ])('a kernel-module build with %j: exit 2', async (extra, message) => {
    const r = await armkit([...kmod, ...extra]);
    expect(r.exitCode, show(r)).toBe(2);
    expect(r.stderr).toContain(`armkit: error: ${message}`);
    expect(r.stdout).toBe('');
  });

  it.each([
    [['--chroot', 'fedora-41-x86_64'], '--chroot applies only with --engine mock or copr'],
    [['--engine', 'mock', '--cryptodev-from', '/tmp'], '--cryptodev-from applies only with --engine local'],
  ])('an openssl build with %j: exit 2', async (extra, message) => {
    const r = await armkit([...openssl, ...extra]);
    expect(r.exitCode, show(r)).toBe(2);
    expect(r.stderr).toContain(`armkit: error: ${message}`);
  });

  it('spec openssl --strict --no-verify: exit 2 (nothing to be strict about), nothing written', async () => {
    const out = tempDir('rel-strict-nv');
    const r = await armkit(['spec', 'openssl', '--spec', FEDORA_STYLE, '--out', out, '--strict', '--no-verify']);
    expect(r.exitCode, show(r)).toBe(2);
    expect(r.stderr).toContain('armkit: error: --strict applies only to the rpmspec -P check, which --no-verify turns off: pass one of the two.');
    expect(readdirSync(out)).toEqual([]);
  });

  it('the same with --json: one JSON document on stdout', async () => {
    const r = await armkit(['spec', 'openssl', '--spec', FEDORA_STYLE, '--strict', '--no-verify', '--json']);
    expect(r.exitCode, show(r)).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { kind: 'usage', exitCode: 2, message: expect.stringContaining('--strict applies only') } });
  });
});

describe('hostile names where they cannot reach rpm or the shell', () => {
  it.skipIf(!amd64)('an --out holding %(...) and $(...) in a real build: built there, nothing runs', async () => {
    const base = tempDir('rel-hostile-out');
    const cwd = join(base, 'cwd');
    mkdirSync(cwd);
    const out = join(base, 'o%(touch PWNED)$(touch PWNED2)`touch PWNED3`');
    const r = await armkit(['build', 'cryptodev', '--kernel', amd64!, '--source', FIXTURE_MODULE, '--version', FIXTURE_VERSION, '--out', out, '--force'], {
      cwd,
      cacheDir: tempDir('rel-hostile-cache'),
    });
    expect(r.exitCode, show(r)).toBe(0);
    expect(readdirSync(join(out, 'cryptodev', FIXTURE_VERSION, 'x86_64', amd64!))).toContain('manifest.json');
    const pwned = [cwd, base, ROOT].flatMap((d) => readdirSync(d).filter((n) => /^PWNED\d?$/.test(n)));
    expect(pwned).toEqual([]);
  });

  it('a spec recipe whose template climbs out with ..: exit 3 naming the field (EJS is JavaScript, so it is never read)', async () => {
    const dir = tempDir('rel-tpl');
    const evil = join(dir, 'evil.ejs');
    writeFileSync(evil, "<% require('fs').writeFileSync('PWNED', '') %>");
    writeFileSync(join(dir, 'openssl.yaml'), readFileSync(join(ROOT, 'recipes/openssl.yaml'), 'utf8').replace(/template: \S+/g, 'template: ../evil.ejs'));
    const r = await armkit(['spec', 'openssl', '--recipes', dir, '--spec', FEDORA_STYLE, '--out', join(dir, 'out')], { cwd: dir });
    expect(r.exitCode, show(r)).toBe(3);
    expect(r.stderr).toMatch(/Recipe \S+openssl\.yaml is invalid: series\.\d+\.template: must be a template path under templates\/ \(no \.\.\)/);
    expect(existsSync(join(dir, 'PWNED'))).toBe(false);
    expect(existsSync(join(dir, 'out'))).toBe(false);
    clean(r);
  });
});

describe('empty option values ("--arch $UNSET") are usage errors, never the default', () => {
  it.each([
    [['build', 'cryptodev', '--arch', '', '--kernel', 'debian:latest', '--dry-run'], "option '--arch <arches>' argument is empty"],
    [['install', 'cryptodev', '--arch', '', '--dry-run'], "option '--arch <arch>' argument is empty"],
    [['test', 'cryptodev', '--arch', 'aarch64', '--from', '', '--dry-run'], "option '--from <dir>' argument is empty"],
    [['build', 'cryptodev', '--out', ' ', '--dry-run'], "option '--out <dir>' argument is empty"],
    [['spec', 'openssl', '--recipes', '', '--spec', FEDORA_STYLE], "option '--recipes <dir>' argument is empty"],
  ])('%j: a usage error (exit 2), not the default', async (args, message) => {
    const r = await armkit(args);
    expect(r.exitCode, show(r)).toBe(2);
    expect(r.stderr).toContain(`error: ${message}: give it a value, or leave the option out`);
    expect(r.stdout).toBe('');
  });

  it('with --json: one JSON document saying so', async () => {
    const r = await armkit(['build', 'cryptodev', '--kernel', '', '--dry-run', '--json']);
    expect(r.exitCode, show(r)).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: false,
      error: { kind: 'usage', message: "option '--kernel <kernels>' argument is empty: give it a value, or leave the option out" },
    });
  });

  it('lists of nothing (--arch " , ", --kernel ","): exit 2 naming what to give', async () => {
    const arch = await armkit(['build', 'cryptodev', '--arch', ' , ', '--kernel', 'debian:latest', '--dry-run']);
    expect(arch.exitCode, show(arch)).toBe(2);
    expect(arch.stderr).toContain('armkit: error: --arch " , ": name an architecture (aarch64, armv7hl, armv5tel, x86_64) or all');
    const kernel = await armkit(['build', 'cryptodev', '--arch', 'aarch64', '--kernel', ',', '--dry-run']);
    expect(kernel.exitCode, show(kernel)).toBe(2);
    expect(kernel.stderr).toContain('armkit: error: --kernel ",": name a kernel (RELEASE, DIR, debian:latest[-FLAVOUR] or debian:ABI-FLAVOUR)');
  });
});

describe('a --srpm that is no RPM: named for what it is (exit 5), never "Command failed: rpm2cpio"', () => {
  const garbage = () => {
    const file = join(tempDir('rel-garbage'), 'openssl-3.0.9-2.src.rpm');
    writeFileSync(file, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)));
    return file;
  };

  it.each([
    ['spec openssl', (f: string) => ['spec', 'openssl', '--srpm', f, '--out', tempDir('rel-garbage-out')]],
    ['build openssl --dry-run', (f: string) => ['build', 'openssl', '--srpm', f, '--dry-run']],
  ])('%s: exit 5, the file named for what it is', async (_what, args) => {
    const file = garbage();
    const r = await armkit(args(file));
    expect(r.exitCode, show(r)).toBe(5);
    expect(r.stderr).toContain(
      `armkit: error: ${file} is not an RPM package armkit can unpack (argument is not an RPM package): pass the distribution's openssl source RPM (.src.rpm).`,
    );
    expect(r.stderr).not.toContain('Command failed');
    clean(r);
  });
});

describe('armkit cache with a file where the cache directory should be', () => {
  it('cache ls and cache prune: exit 2 naming the file (it was "0 build(s)"), the file left as it was', async () => {
    const file = join(tempDir('rel-cache-file'), 'cache');
    writeFileSync(file, 'not a cache\n');
    for (const args of [
      ['cache', 'ls', '--cache-dir', file],
      ['cache', 'prune', '--cache-dir', file, '--all'],
    ]) {
      const r = await armkit(args);
      expect(r.exitCode, show(r)).toBe(2);
      expect(r.stderr).toContain(`armkit: error: Cannot create the cache directory ${file}/builds: ${file} is a file, not a directory;`);
      expect(r.stderr).not.toContain('0 build(s)');
      clean(r);
    }
    expect(readFileSync(file, 'utf8')).toBe('not a cache\n');
  });
});
