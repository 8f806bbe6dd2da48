/**
 * src/compile-cache.ts: armkit's bundles run with V8's code cache. Each test runs a small CommonJS bundle of its
 * own through runBundle in a Node process of its own (V8 also keeps compiled code in memory for the life of a
 * process, which would hide what the file cache does), with the cache in a temp directory (NODE_COMPILE_CACHE).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { commandSlot, compileCacheDir, safeCacheDir } from '../../src/compile-cache.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { tempDir } from './helpers.js';

const BUNDLE = [
  '"use strict";',
  "const { join } = require('node:path');",
  'function twice(x) { return x * 2; }',
  'module.exports = { answer: twice(21), where: join(__dirname, "x"), file: __filename, strict: (function () { return this; })() === undefined,',
  '  fail() { throw new Error("from the bundle"); } };',
].join('\n');

// The loader as the build makes it (dist/compile-cache.cjs), from the source under test.
let loader: string;
beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'armkit-compile-cache-loader-'));
  loader = join(dir, 'compile-cache.cjs');
  buildSync({ entryPoints: [join(PACKAGE_ROOT, 'src/compile-cache.ts')], outfile: loader, bundle: true, format: 'cjs', platform: 'node', logLevel: 'error' });
  return () => rmSync(dir, { recursive: true, force: true });
});

interface Outcome {
  used: boolean;
  cacheFile?: string;
  exports: Record<string, unknown>;
  stack: string;
}

function setup(source = BUNDLE) {
  const dir = tempDir('armkit-compile-cache-');
  const bundle = join(dir, 'b.cjs');
  writeFileSync(bundle, source);
  const env = { PATH: process.env.PATH ?? '', NODE_COMPILE_CACHE: join(dir, 'cache') };
  const run = (slot = 'build', extra: Record<string, string> = {}): Outcome => {
    const script = [
      `const { runBundle } = require(${JSON.stringify(loader)});`,
      `const r = runBundle(${JSON.stringify(bundle)}, ${JSON.stringify(slot)});`,
      'let stack = ""; try { r.exports.fail(); } catch (e) { stack = e.stack; }',
      'console.log(JSON.stringify({ used: r.used, cacheFile: r.cacheFile, exports: r.exports, stack }));',
    ].join('\n');
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...env, ...extra } });
    expect(child.status, child.stderr).toBe(0);
    return JSON.parse(child.stdout) as Outcome;
  };
  return { dir, bundle, run, cacheDir: join(dir, 'cache', 'armkit') };
}

describe('runBundle', () => {
  it('runs the bundle as a CommonJS module (require, __dirname, __filename, strict), writes the cache at exit, uses it next time', () => {
    const t = setup();
    const first = t.run();
    expect(first.exports).toMatchObject({ answer: 42, where: join(t.dir, 'x'), file: t.bundle, strict: true });
    expect(first.used).toBe(false);
    expect(first.cacheFile).toMatch(new RegExp(`^${t.cacheDir}/b\\.cjs-build-`));
    expect(statSync(first.cacheFile!).mode & 0o777).toBe(0o600);
    expect(statSync(t.cacheDir).mode & 0o777).toBe(0o700);
    expect(readdirSync(t.cacheDir)).toEqual([first.cacheFile!.split('/').pop()]);
    const written = statSync(first.cacheFile!).mtimeMs;

    const second = t.run();
    expect(second.used).toBe(true);
    expect(second.exports).toMatchObject({ answer: 42 });
    // A cache that was used is not written again.
    expect(readdirSync(t.cacheDir)).toHaveLength(1);
    expect(statSync(first.cacheFile!).mtimeMs).toBe(written);
  });

  it('keeps one cache per command, and a changed bundle gets a new one', () => {
    const t = setup();
    const build = t.run('build');
    const test = t.run('test');
    expect(build.cacheFile).not.toBe(test.cacheFile);
    expect(t.run('build').used).toBe(true);
    writeFileSync(t.bundle, `${BUNDLE}\n// changed\n`);
    const changed = t.run('build');
    expect(changed.cacheFile).not.toBe(build.cacheFile);
    expect(changed.used).toBe(false);
  });

  it('a rebuilt bundle of the same length, the same modification time and the same inode runs its new code', () => {
    const t = setup();
    // A whole second, so that putting it back below gives the very same nanoseconds.
    utimesSync(t.bundle, 1_700_000_000, 1_700_000_000);
    expect(t.run().exports).toMatchObject({ answer: 42 });
    expect(t.run().used).toBe(true);
    const before = statSync(t.bundle, { bigint: true });
    // V8 checks only the source's length: this one has the old length, and its old times are put back.
    const rebuilt = BUNDLE.replace('x * 2', 'x * 3');
    expect(rebuilt.length).toBe(BUNDLE.length);
    writeFileSync(t.bundle, rebuilt);
    utimesSync(t.bundle, 1_700_000_000, 1_700_000_000);
    const now = statSync(t.bundle, { bigint: true });
    expect([now.ino, now.size, now.mtimeNs]).toEqual([before.ino, before.size, before.mtimeNs]);
    const after = t.run();
    expect(after.exports).toMatchObject({ answer: 63 });
    expect(after.used).toBe(false);
  });

  it('with --enable-source-maps Node loads the bundle itself (its stack traces map), with no cache', () => {
    const t = setup();
    const mapped = t.run('build', { NODE_OPTIONS: '--enable-source-maps' });
    expect(mapped).toMatchObject({ used: false, exports: { answer: 42, file: t.bundle, strict: true } });
    expect(existsSync(t.cacheDir) ? readdirSync(t.cacheDir) : []).toEqual([]);
  });

  it('a damaged cache (garbage, or one byte of the payload flipped) is not used, the bundle still runs, and the cache is written anew', () => {
    const t = setup();
    const file = t.run().cacheFile!;
    const good = readFileSync(file);
    writeFileSync(file, Buffer.alloc(4096, 7));
    const garbage = t.run();
    expect(garbage.used).toBe(false);
    expect(garbage.exports).toMatchObject({ answer: 42 });
    expect(t.run().used).toBe(true);
    // V8 itself would take this one: its payload has no checksum of its own.
    const flipped = Buffer.from(good);
    flipped[flipped.length - 20]! ^= 0xff;
    writeFileSync(file, flipped);
    expect(t.run().used).toBe(false);
    expect(t.run().used).toBe(true);
  });

  it('reads no cache through a link, nor one anyone else may write', () => {
    const t = setup();
    const file = t.run().cacheFile!;
    const copy = join(t.dir, 'copy.v8');
    writeFileSync(copy, readFileSync(file), { mode: 0o600 });
    chmodSync(file, 0o666);
    expect(t.run().used).toBe(false);

    // A link to a good cache of the same text, in place of the second bundle's own cache.
    const t2 = setup();
    const named = t2.run().cacheFile!;
    rmSync(named);
    symlinkSync(copy, named);
    expect(t2.run().used).toBe(false);
  });

  it('reads no cache from a directory that is a link, even to a good cache of its own', () => {
    const t = setup();
    t.run();
    const real = join(t.dir, 'real-cache');
    renameSync(t.cacheDir, real);
    symlinkSync(real, t.cacheDir);
    const through = t.run();
    expect(through.used).toBe(false);
    expect(through.cacheFile).toBeUndefined();
    expect(through.exports).toMatchObject({ answer: 42 });
  });

  it('runs without a cache in a directory others may write, and when NODE_DISABLE_COMPILE_CACHE is set', () => {
    const t = setup();
    t.run();
    chmodSync(t.cacheDir, 0o777);
    const open = t.run();
    expect(open.cacheFile).toBeUndefined();
    expect(open.exports).toMatchObject({ answer: 42 });
    expect(safeCacheDir(t.cacheDir)).toBe(false);

    const t2 = setup();
    const off = t2.run('build', { NODE_DISABLE_COMPILE_CACHE: '1' });
    expect(off.cacheFile).toBeUndefined();
    expect(off.exports).toMatchObject({ answer: 42 });
    expect(existsSync(t2.cacheDir)).toBe(false);
  });

  it("stack traces name the bundle's own lines (the wrapper adds none)", () => {
    const t = setup();
    expect(t.run().stack).toContain(`${t.bundle}:5:`);
  });
});

describe('where and for which command', () => {
  it("NODE_COMPILE_CACHE/armkit, else a directory of the user's own under tmpdir; off with NODE_DISABLE_COMPILE_CACHE", () => {
    expect(compileCacheDir({ NODE_COMPILE_CACHE: '/var/cache/x' }, 1000)).toBe('/var/cache/x/armkit');
    expect(compileCacheDir({}, 1000)).toMatch(/\/armkit-compile-cache-1000$/);
    expect(compileCacheDir({ NODE_DISABLE_COMPILE_CACHE: '1', NODE_COMPILE_CACHE: '/x' }, 0)).toBeUndefined();
  });

  it('the slot is the command name, else one shared slot', () => {
    expect(commandSlot(['node', 'armkit', 'build', 'cryptodev'])).toBe('build');
    expect(commandSlot(['node', 'armkit', '--version'])).toBe('_');
    expect(commandSlot(['node', 'armkit'])).toBe('_');
    expect(commandSlot(['node', 'armkit', '../../etc/passwd'])).toBe('_');
  });
});

describe('the armkit CLI', () => {
  it('its bundles hold no import(): a vm.Script has no module loader for one (built-ins load through src/builtin.ts)', () => {
    const dist = join(PACKAGE_ROOT, 'dist');
    const bundles = readdirSync(dist).filter((f) => f.endsWith('.cjs'));
    expect(bundles.sort()).toEqual(['armkit.cjs', 'compile-cache.cjs', 'fast.cjs']);
    expect(bundles.filter((f) => /\bimport\(/.test(readFileSync(join(dist, f), 'utf8')))).toEqual([]);
  });

  it('writes its cache on the first run of a command and answers the same on the next, from the cache', () => {
    const dir = tempDir('armkit-cli-compile-cache-');
    const env = { ...process.env, NODE_COMPILE_CACHE: dir, CI: 'true' };
    const show = () => spawnSync(process.execPath, [join(PACKAGE_ROOT, 'bin/armkit.js'), 'recipe', 'show', 'cryptodev', '--json'], { encoding: 'utf8', env });
    const first = show();
    expect(first.status, first.stderr).toBe(0);
    const files = readdirSync(join(dir, 'armkit')).sort();
    expect(files.some((f) => f.startsWith('armkit.cjs-recipe-'))).toBe(true);
    expect(files.some((f) => f.startsWith('fast.cjs-fast-'))).toBe(true);
    // The files' inodes: a cache V8 rejected would be written anew, under the same name.
    const inodes = () => files.map((f) => statSync(join(dir, 'armkit', f)).ino);
    const written = inodes();
    const second = show();
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(readdirSync(join(dir, 'armkit')).sort()).toEqual(files);
    expect(inodes(), 'the second run used the caches, so it wrote none').toEqual(written);
  });
});
