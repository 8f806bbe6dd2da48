/**
 * Issue 11's faults at the level of the modules that meet them (docs/RELIABILITY.md lists each case): directories
 * armkit cannot make (/proc, /sys, a file in the way) fail at once with a sentence and a kind; archives with device
 * nodes, FIFOs, damage or too much in them are refused and never unpacked in part; recipes with an impossible range
 * or one version pinned twice are recipe errors; the macros a spec uses that this rpm may lack are found.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { findArch } from '../../src/arch.js';
import { ArchiveProblem, extractTar, readTar, unpackLimit } from '../../src/archive.js';
import { ArmkitError } from '../../src/errors.js';
import { assertDirCreatable, dirError, ensureDir, writeError } from '../../src/fsutil.js';
import { PrivateApt } from '../../src/kernel/debian.js';
import { createRunner, type Runner } from '../../src/proc/runner.js';
import { parseRecipe } from '../../src/recipes/load.js';
import { opensslRecipeSchema } from '../../src/recipes/openssl.js';
import { kmodRecipeSchema } from '../../src/recipes/schema.js';
import { withInstallHints } from '../../src/rpmspec/hints.js';
import { macroUses, standInDefines } from '../../src/rpmspec/verify.js';
import type { Step } from '../../src/step.js';
import { FILE_STEPS } from '../../src/steps/files.js';
import { catchArmkit, catchArmkitAsync, fakeHost, forbiddenRunner, tempDir } from './helpers.js';

const ROOT = join(import.meta.dirname, '../..');

/** One ustar header block for an entry (type: '0' file, '3' char device, '4' block device, '5' dir, '6' FIFO). */
function header(name: string, type: string, size = 0): Buffer {
  const b = Buffer.alloc(512);
  const put = (text: string, at: number, len: number) => b.write(text.slice(0, len), at, len, 'latin1');
  const octal = (n: number, len: number) => put(`${n.toString(8).padStart(len - 1, '0')}\0`, 0, len);
  put(name, 0, 100);
  b.write(`${(type === '5' ? 0o755 : 0o644).toString(8).padStart(7, '0')}\0`, 100, 8, 'latin1');
  b.write('0000000\0', 108, 8, 'latin1');
  b.write('0000000\0', 116, 8, 'latin1');
  b.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 12, 'latin1');
  b.write(`${(1_700_000_000).toString(8).padStart(11, '0')}\0`, 136, 12, 'latin1');
  b.write('        ', 148, 8, 'latin1');
  b.write(type, 156, 1, 'latin1');
  b.write('ustar\0', 257, 6, 'latin1');
  b.write('00', 263, 2, 'latin1');
  if (type === '3' || type === '4') {
    b.write('0000001\0', 329, 8, 'latin1');
    b.write('0000003\0', 337, 8, 'latin1');
  }
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  void octal;
  return b;
}

/** A tar archive of the given entries (content for files), gzipped unless told otherwise. */
function tarball(dir: string, name: string, entries: Array<{ path: string; type?: string; content?: string | Buffer }>, gzip = true): string {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const data = typeof e.content === 'string' ? Buffer.from(e.content) : (e.content ?? Buffer.alloc(0));
    blocks.push(header(e.path, e.type ?? '0', data.length));
    if (data.length > 0) blocks.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  const raw = Buffer.concat(blocks);
  const file = join(dir, name);
  writeFileSync(file, gzip ? gzipSync(raw) : raw);
  return file;
}

const MODULE = [
  { path: 'mod-1.0/', type: '5' },
  { path: 'mod-1.0/Makefile', content: 'VERSION = 1.0\nbuild:\n\ttrue\n' },
];

function every(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d)) {
      out.push(`${rel}${name}`);
      if (lstatSync(join(d, name)).isDirectory()) walk(join(d, name), `${rel}${name}/`);
    }
  };
  walk(dir, '');
  return out;
}

describe('directories armkit cannot make fail at once, with a sentence and a kind', () => {
  const out = { what: 'the output directory (--out)', advice: 'pass another --out' };

  it('under /proc: a prerequisite (exit 4) naming the virtual file system, at once, nothing made', () => {
    const started = Date.now();
    const error = catchArmkit(() => ensureDir('/proc/armkit-reliability/x/y', out));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(error.kind).toBe('prerequisite');
    expect(error.exitCode).toBe(4);
    expect(error.message).toBe(
      "Cannot create the output directory (--out) /proc/armkit-reliability/x/y: /proc is on proc, a virtual file system of the kernel that takes no directories of armkit's; pass another --out.",
    );
  });

  it('under an existing directory of /proc (/proc/self) and under /sys: the same refusal', () => {
    expect(catchArmkit(() => ensureDir('/proc/self/armkit')).message).toMatch(/\/proc\/self is on proc, a virtual file system/);
    const sys = catchArmkit(() => ensureDir('/sys/armkit-reliability'));
    expect(sys.kind).toBe('prerequisite');
    expect(sys.message).toMatch(/\/sys is on sysfs/);
  });

  it('a regular file where a directory must be, or above it: a usage error (exit 2) naming the file', () => {
    const dir = tempDir();
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    for (const path of [file, join(file, 'sub', 'dir')]) {
      const error = catchArmkit(() => ensureDir(path, out));
      expect(error.kind).toBe('usage');
      expect(error.message).toBe(
        `Cannot create the output directory (--out) ${path}: ${file} is a file, not a directory; pass another --out, or move the file away.`,
      );
    }
  });

  it('a link whose target is gone where a directory must be: a usage error naming the link and its target', () => {
    const dir = tempDir();
    const link = join(dir, 'apt');
    symlinkSync(join(dir, 'gone'), link);
    const error = catchArmkit(() => ensureDir(join(link, 'arm64', 'lists'), out));
    expect(error.kind).toBe('usage');
    expect(error.message).toBe(
      `Cannot create the output directory (--out) ${join(link, 'arm64', 'lists')}: ${link} is a link to ${join(dir, 'gone')}, which does not exist; pass another --out, or remove the link.`,
    );
  });

  it('makes every missing component of a real path, and a second call changes nothing', () => {
    const dir = join(tempDir(), 'a', 'b', 'c');
    ensureDir(dir);
    ensureDir(dir);
    expect(lstatSync(dir).isDirectory()).toBe(true);
  });

  it('assertDirCreatable checks without writing (what a dry run may do)', () => {
    const dir = join(tempDir(), 'not', 'yet');
    expect(assertDirCreatable(dir).missing).toEqual([join(dir, '..'), dir]);
    expect(existsSync(join(dir, '..'))).toBe(false);
    expect(() => assertDirCreatable('/proc/armkit-dry')).toThrow(/virtual file system/);
  });

  it.each([
    ['EACCES', 'prerequisite', /no permission to write in \/x/],
    ['EPERM', 'prerequisite', /no permission to write in \/x/],
    ['EROFS', 'prerequisite', /\/x is on a read-only file system/],
    ['ENOSPC', 'prerequisite', /the disk holding \/x is full/],
    ['ENOENT', 'prerequisite', /\/x takes no new directories/],
    ['ENOTDIR', 'usage', /\/x is a file, not a directory/],
    ['EIO', 'step-failed', /Cannot create \/x\/y: boom/],
  ])('mkdir failing with %s is a %s error in a sentence', (code, kind, message) => {
    const error = dirError(Object.assign(new Error('boom'), { code }), '/x', '/x/y');
    expect(error.kind).toBe(kind);
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/\.$/);
  });

  it.each([
    ['ENOSPC', 'prerequisite', /^The disk is full: \/o\/f could not be written\. Free some space there/],
    ['EDQUOT', 'prerequisite', /^The disk is full/],
    ['EROFS', 'prerequisite', /read-only file system/],
    ['EACCES', 'prerequisite', /No permission to write \/o\/f/],
    ['EISDIR', 'usage', /stands in its way/],
  ])('writing a file failing with %s is a %s error', (code, kind, message) => {
    const error = writeError(Object.assign(new Error('boom'), { code }), '/o/f') as ArmkitError;
    expect(error).toBeInstanceOf(ArmkitError);
    expect(error.kind).toBe(kind);
    expect(error.message).toMatch(message);
  });
});

describe('archives armkit reads or unpacks are bounded and never create device nodes or FIFOs', () => {
  it.each([
    ['a FIFO', '6'],
    ['a character device', '3'],
    ['a block device', '4'],
  ])('%s: unpacking refuses the archive and creates none of it', async (_what, type) => {
    const dir = tempDir();
    const archive = tarball(dir, 'special.tar.gz', [...MODULE, { path: 'mod-1.0/node', type }]);
    const dest = join(dir, 'dest');
    mkdirSync(dest);
    const error = await extractTar(archive, dest, { strip: 1 }).catch((e) => e);
    expect(error).toBeInstanceOf(ArchiveProblem);
    expect(error.problem).toBe('special');
    expect(error.message).toMatch(/^holds device nodes or FIFOs \(mod-1\.0\/node \((FIFO|CharacterDevice|BlockDevice)\)\): .* armkit never creates them$/);
    expect(existsSync(join(dest, 'node'))).toBe(false);
    expect(every(dest).every((p) => !lstatSync(join(dest, p)).isFIFO() && !lstatSync(join(dest, p)).isCharacterDevice())).toBe(true);
  });

  it('the unpack step refuses the archive as a verification error (exit 5) naming it', async () => {
    const dir = tempDir();
    const archive = tarball(dir, 'src.tar.gz', [...MODULE, { path: 'mod-1.0/pipe', type: '6' }]);
    const step = { kind: 'unpack', title: 'Unpack', archive, dest: join(dir, 'tree') } as Extract<Step, { kind: 'unpack' }>;
    const ctx = { logsDir: dir, runner: forbiddenRunner, verbose: false, note: () => {} };
    const error = await catchArmkitAsync(() => FILE_STEPS.unpack.run(step, ctx));
    expect(error.kind).toBe('verification');
    expect(error.message).toBe(
      `${archive} holds device nodes or FIFOs (mod-1.0/pipe (FIFO)): no source or package armkit unpacks needs them, and armkit never creates them.`,
    );
    expect(existsSync(join(dir, 'tree', 'pipe'))).toBe(false);
    expect(readFileSync(join(dir, 'tree', 'Makefile'), 'utf8')).toContain('VERSION = 1.0');
  });

  it('the extract-tar step refuses the same, only the wanted members written', async () => {
    const dir = tempDir();
    const archive = tarball(
      dir,
      'data.tar',
      [
        { path: './usr/', type: '5' },
        { path: './usr/dev-null', type: '3' },
        { path: './usr/a', content: 'a' },
      ],
      false,
    );
    const step = { kind: 'extract-tar', title: 'Extract', archive, dest: join(dir, 'root'), include: ['usr/'] } as Extract<Step, { kind: 'extract-tar' }>;
    const ctx = { logsDir: dir, runner: forbiddenRunner, verbose: false, note: () => {} };
    const error = await catchArmkitAsync(() => FILE_STEPS['extract-tar'].run(step, ctx));
    expect(error.kind).toBe('verification');
    expect(error.message).toMatch(/holds device nodes or FIFOs \(\.\/usr\/dev-null \(CharacterDevice\)\)/);
    expect(every(join(dir, 'root'))).toEqual(['usr', 'usr/a']);
  });

  it('more than ARMKIT_UNPACK_MAX unpacked: stops there, reading or unpacking (a decompression bomb)', async () => {
    const dir = tempDir();
    const archive = tarball(dir, 'bomb.tar.gz', [...MODULE, { path: 'mod-1.0/zeros', content: Buffer.alloc(3 * 1024 * 1024) }]);
    expect(readFileSync(archive).length).toBeLessThan(20_000);
    const read = await readTar(archive, () => {}, { maxBytes: 1024 * 1024 }).catch((e) => e);
    expect(read).toMatchObject({ problem: 'too-large' });
    expect(read.message).toMatch(/^unpacks to more than 1 MiB \(at mod-1\.0\/zeros\): armkit stops there/);
    const dest = join(dir, 'dest');
    mkdirSync(dest);
    const unpacked = await extractTar(archive, dest, { strip: 1, maxBytes: 1024 * 1024 }).catch((e) => e);
    expect(unpacked).toMatchObject({ problem: 'too-large' });
    expect(existsSync(join(dest, 'zeros'))).toBe(false);
  });

  it('more entries than the bound: stops there', async () => {
    const dir = tempDir();
    const many = Array.from({ length: 50 }, (_, i) => ({ path: `mod-1.0/f${i}`, content: 'x' }));
    const archive = tarball(dir, 'many.tar.gz', [...MODULE, ...many]);
    await expect(readTar(archive, () => {}, { maxEntries: 20 })).rejects.toMatchObject({ problem: 'too-many' });
  });

  it('a gzip stream that unpacks to more than 1000 times its size stops at once, whatever the bound', async () => {
    const dir = tempDir();
    const archive = tarball(dir, 'ratio.tar.gz', [...MODULE, { path: 'mod-1.0/zeros', content: Buffer.alloc(40 * 1024 * 1024) }]);
    await expect(readTar(archive, () => {})).rejects.toMatchObject({
      problem: 'ratio',
      message: expect.stringMatching(/more than 1000 times its compressed size/),
    });
  });

  it.each([
    ['a truncated gzip stream', (b: Buffer) => b.subarray(0, Math.floor(b.length / 2)), 'damaged', /is damaged or truncated \(zlib: unexpected end of file\)/],
    ['a truncated tar', (b: Buffer) => b.subarray(0, 2600), 'damaged', /is damaged or truncated \(Truncated input/],
    ['a text file', () => Buffer.from('<!DOCTYPE html><html>Not Found</html>\n'), 'not-tar', /^is not a tar archive/],
    ['an empty file', () => Buffer.alloc(0), 'not-tar', /^is not a tar archive/],
  ])('%s is a problem named for what it is, nothing unpacked', async (_what, damage, problem, message) => {
    const dir = tempDir();
    const gz = _what.includes('gzip');
    const good = tarball(dir, 'good', [...MODULE, { path: 'mod-1.0/big', content: 'y'.repeat(5000) }], gz);
    const bad = join(dir, 'bad');
    writeFileSync(bad, damage(readFileSync(good)));
    const read = await readTar(bad, () => {}).catch((e) => e);
    expect(read).toBeInstanceOf(ArchiveProblem);
    expect(read.problem).toBe(problem);
    expect(read.message).toMatch(message);
    const dest = join(dir, 'dest');
    mkdirSync(dest);
    await expect(extractTar(bad, dest)).rejects.toBeInstanceOf(ArchiveProblem);
  });

  it('ARMKIT_UNPACK_MAX takes bytes or K, M, G; anything else is a usage error', () => {
    expect(unpackLimit({})).toBe(2 * 1024 ** 3);
    expect(unpackLimit({ ARMKIT_UNPACK_MAX: '500M' })).toBe(500 * 1024 ** 2);
    expect(unpackLimit({ ARMKIT_UNPACK_MAX: '4G' })).toBe(4 * 1024 ** 3);
    expect(unpackLimit({ ARMKIT_UNPACK_MAX: '1024' })).toBe(1024);
    const error = catchArmkit(() => unpackLimit({ ARMKIT_UNPACK_MAX: 'lots' }));
    expect(error.kind).toBe('usage');
    expect(error.message).toBe('ARMKIT_UNPACK_MAX=lots: expected a size such as 500M or 4G (bytes without a suffix).');
  });
});

describe('recipes that cannot mean what they say are recipe errors (exit 3)', () => {
  const shipped = readFileSync(join(ROOT, 'recipes/cryptodev.yaml'), 'utf8');

  it('an impossible kernel range names the field', () => {
    const text = shipped.replace(/kernels: "[^"]*"/, 'kernels: ">=7 <6"');
    const error = catchArmkit(() => parseRecipe(kmodRecipeSchema, text, 'cryptodev.yaml'));
    expect(error.kind).toBe('recipe');
    expect(error.exitCode).toBe(3);
    expect(error.message).toBe(
      'Recipe cryptodev.yaml is invalid: sources.0.kernels: no kernel version satisfies this range (is it written the wrong way round?)',
    );
  });

  it('two sources pinned to one version', () => {
    const first = /\n {2}- version: ([^\n]*)\n/.exec(shipped)!;
    const second = shipped.indexOf('\n  - version:', first.index + 1);
    const text = `${shipped.slice(0, second)}\n  - version: ${first[1]}\n${shipped.slice(shipped.indexOf('\n', second + 1) + 1)}`;
    const error = catchArmkit(() => parseRecipe(kmodRecipeSchema, text, 'cryptodev.yaml'));
    expect(error.kind).toBe('recipe');
    expect(error.message).toMatch(
      /^Recipe cryptodev\.yaml is invalid: sources\.1\.version: version "1\.14" is pinned twice \(sources\.0 and sources\.1\); give each version one source$/,
    );
  });

  it('an impossible OpenSSL range in the spec recipe', () => {
    const text = readFileSync(join(ROOT, 'recipes/openssl.yaml'), 'utf8').replace('versions: ">=1.1.1 <3.0.0"', 'versions: ">=3.0.0 <1.1.1"');
    const error = catchArmkit(() => parseRecipe(opensslRecipeSchema, text, 'openssl.yaml'));
    expect(error.kind).toBe('recipe');
    expect(error.message).toMatch(/series\.\d+\.versions: no OpenSSL version satisfies this range/);
  });
});

describe('what a spec needs from rpm', () => {
  it('finds the macros a spec calls, with or without arguments, and leaves out directives, its own macros and its tags', () => {
    const spec = [
      '%define major 3',
      '%define libcrypto %mklibname crypto %{major}',
      'Name: openssl',
      'Version: 3.0.9',
      '%description',
      '%package -n %{libcrypto}',
      '%build',
      '%if %{cross_compiling}',
      'echo %{?maybe} %{!?other:x} %{version} %{_libdir}/x',
      '%endif',
      '%files',
      '%doc README',
    ].join('\n');
    const uses = new Map(macroUses(spec).map((u) => [u.name, u]));
    expect(uses.get('mklibname')).toEqual({ name: 'mklibname', withArgs: true, conditionalOnly: false });
    expect(uses.get('cross_compiling')).toEqual({ name: 'cross_compiling', withArgs: false, conditionalOnly: false });
    expect(uses.get('maybe')?.conditionalOnly).toBe(true);
    expect(uses.get('_libdir')?.conditionalOnly).toBe(false);
    for (const name of ['major', 'libcrypto', 'version', 'name', 'if', 'endif', 'doc', 'build', 'files', 'package', 'define'])
      expect(uses.has(name)).toBe(false);
  });

  it('stand-ins: 0 for a value or condition, a name made of the arguments for a parametric macro', () => {
    expect(
      standInDefines([
        { name: 'cross_compiling', withArgs: false, conditionalOnly: false },
        { name: 'mklibname', withArgs: true, conditionalOnly: false },
      ]),
    ).toEqual(['--define', 'cross_compiling 0', '--define', expect.stringMatching(/^mklibname\(-\) %\{lua: .*armkit_standin_mklibname_.*\}$/)]);
  });

  it('a program missing where no preflight ran gets its install command (exit 4)', async () => {
    const path = process.env.PATH;
    process.env.PATH = tempDir();
    try {
      const error = await catchArmkitAsync(() =>
        withInstallHints(['rpm2cpio', 'cpio'], async () => {
          throw new ArmkitError('prerequisite', 'rpm2cpio not found.');
        }),
      );
      expect(error.kind).toBe('prerequisite');
      expect(error.message).toBe('rpm2cpio not found: install it with "apt-get install rpm2cpio" or "dnf install rpm" (or run "armkit doctor --fix").');
      expect(error.details).toEqual(['cpio not found: install it with "apt-get install cpio" or "dnf install cpio" (or run "armkit doctor --fix").']);
      // Any other failure is left as it was.
      const other = await catchArmkitAsync(() =>
        withInstallHints(['rpm2cpio'], async () => {
          throw new ArmkitError('step-failed', 'Command failed.');
        }),
      );
      expect(other.message).toBe('Command failed.');
    } finally {
      process.env.PATH = path;
    }
  });
});

describe("Debian's archive out of reach", () => {
  /** What apt-get update prints with the mirror out of reach: warnings only, and exit 0. */
  const OFFLINE_UPDATE = [
    "Err:1 http://deb.debian.org/debian bookworm InRelease\n  Temporary failure resolving 'deb.debian.org'",
    "W: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease  Temporary failure resolving 'deb.debian.org'",
    'W: Some index files failed to download. They have been ignored, or old ones used instead.',
  ].join('\n');
  /** The outside world: apt-get, answering as it does offline. */
  const offlineApt: Runner = { ...forbiddenRunner, capture: async () => ({ exitCode: 0, stdout: '', stderr: OFFLINE_UPDATE }) };
  const aptIn = (cache: string) => new PrivateApt(cache, findArch('aarch64'), fakeHost({ codename: 'bookworm' }));

  it('apt-get update exiting 0 with no index fetched is "could not be reached" and how to retry, never a missing package', async () => {
    const cache = tempDir();
    const error = await catchArmkitAsync(() => aptIn(cache).refresh(offlineApt, 1000, () => {}));
    expect(error.kind).toBe('step-failed');
    expect(error.message).toBe(
      "Debian's archive could not be reached: apt-get update for arm64 fetched no package index, so armkit cannot look up the kernel headers.",
    );
    expect(error.details.at(-1)).toBe('Check the network and the mirror in /etc/apt/sources.list*, then run the command again (armkit retries the download).');
    // No stamp: the next run tries again instead of trusting an empty index for six hours.
    expect(existsSync(join(cache, 'apt', 'arm64', 'updated'))).toBe(false);
  });

  it('with an older index: a warning that says so, the index used, and left stale so the next run tries again', async () => {
    const cache = tempDir();
    const lists = join(cache, 'apt', 'arm64', 'lists');
    mkdirSync(lists, { recursive: true });
    writeFileSync(join(lists, 'deb.debian.org_debian_dists_bookworm_main_binary-arm64_Packages'), '');
    const stamp = join(cache, 'apt', 'arm64', 'updated');
    writeFileSync(stamp, 'then\n');
    const old = new Date(Date.now() - 30 * 3600_000);
    utimesSync(stamp, old, old);
    const warnings: string[] = [];
    await aptIn(cache).refresh(offlineApt, 1000, (w) => warnings.push(w));
    expect(warnings).toEqual([
      "Debian's archive could not be reached (apt-get update could not fetch http://deb.debian.org/debian/dists/bookworm/InRelease): using armkit's index from 30 h ago; the next run tries again.",
    ]);
    expect(readFileSync(stamp, 'utf8')).toBe('then\n');
    expect(Math.abs(statSync(stamp).mtimeMs - old.getTime())).toBeLessThan(1000);
  });

  it('a package download that cannot reach the archive says so and how to retry, the command and its tail under it', async () => {
    const dir = tempDir();
    const apt = aptIn(dir);
    const step = apt.downloadStep('Download busybox-static:arm64', ['busybox-static:arm64'], dir, 'download.log');
    expect(step).toMatchObject({ kind: 'exec', argv: expect.arrayContaining(['download', 'busybox-static:arm64']) });
    // The same step, with apt-get replaced by a program that fails as apt-get does offline (the step's explanation is under test).
    const offline = {
      ...step,
      argv: ['sh', '-c', 'echo "E: Failed to fetch http://deb.debian.org/x.deb  Temporary failure resolving \'deb.debian.org\'" >&2; exit 100'],
    } as Extract<Step, { kind: 'exec' }>;
    const ctx = { logsDir: dir, runner: createRunner(), verbose: false, note: () => {} };
    const error = await catchArmkitAsync(() => FILE_STEPS.exec.run(offline, ctx));
    expect(error.kind).toBe('step-failed');
    expect(error.message).toBe(
      "Debian's archive could not be reached to download busybox-static:arm64: check the network and the mirror in /etc/apt/sources.list*, then run the command again (armkit retries the download).",
    );
    expect(error.details.join('\n')).toContain('Temporary failure resolving');
    expect(error.logFile).toBe(join(dir, 'download.log'));
    // Any other failure of the same step stays the command's own.
    const other = { ...offline, argv: ['sh', '-c', 'echo "E: Unable to locate package busybox-static" >&2; exit 100'] };
    const plain = await catchArmkitAsync(() => FILE_STEPS.exec.run(other, ctx));
    expect(plain.message).toMatch(/^Command failed \(exit code 100\): sh -c /);
  });
});
