/**
 * Runs one of armkit's CommonJS bundles (dist/*.cjs) with V8's code cache, as Node 22's
 * module.enableCompileCache() does for any module; Node 20, armkit's floor, has no such thing. The functions an
 * earlier run of the same command compiled are read back instead of parsed and compiled again: 50 to 75 ms of every
 * start here, a third or more of the time armkit adds around the rpmbuild it runs.
 *
 * Where: $NODE_COMPILE_CACHE/armkit, else <tmpdir>/armkit-compile-cache-<uid>; NODE_DISABLE_COMPILE_CACHE=1 turns
 * it off (both Node's own variables, with the meaning Node gives them). It is never under armkit's cache
 * directory, which a dry run leaves as it found it. One file per bundle and command (build, test, ...): each holds
 * what that command compiled, so `armkit --version` run first does not leave a build with a cache of almost nothing.
 *
 * Code read from the cache runs as armkit, so the cache is used only in a directory that is armkit's user's own,
 * not a link, and that no one else can write; anything else runs the bundle without it. Every failure to read or
 * write the cache does the same: it costs time, never the command.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { Script } from 'node:vm';

export interface CompileCacheOutcome {
  /** The bundle's module.exports. */
  exports: unknown;
  /** The cache file this run read or will write; undefined when caching is off or its directory is unsafe. */
  cacheFile?: string;
  /** Whether V8 took the cached code (false: none yet, or stale, or damaged; the run then writes a new one). */
  used: boolean;
}

/** The cache directory, or undefined when NODE_DISABLE_COMPILE_CACHE turns caching off. */
export function compileCacheDir(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? 0): string | undefined {
  if (env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  return env.NODE_COMPILE_CACHE ? join(resolve(env.NODE_COMPILE_CACHE), 'armkit') : join(tmpdir(), `armkit-compile-cache-${uid}`);
}

/** Which command's cache: the first argument when it is a command's name, else one shared slot. */
export function commandSlot(argv: string[]): string {
  const first = argv[2];
  return first && /^[a-z][a-z-]{0,31}$/.test(first) ? first : '_';
}

/** Makes the directory (0700) and says whether code may be read from it: ours, a real directory, no one else's to write. */
export function safeCacheDir(dir: string, uid = process.getuid?.() ?? 0): boolean {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    return st.isDirectory() && st.uid === uid && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/**
 * The cache file's name: the bundle, the command, and what makes compiled code stale: the bundle's size, times
 * and inode (V8 itself checks only the source's length), Node's version and architecture (V8 checks its own
 * version and flags). The change time, which no copy keeps and no one can set, tells a rebuilt bundle of the same
 * length from the old one even where the inode number is reused and the modification time kept (cp -p, tar).
 */
function cacheName(bundle: string, slot: string): string {
  const st = statSync(bundle, { bigint: true });
  return `${basename(bundle)}-${slot}-${st.size}-${st.mtimeNs}-${st.ctimeNs}-${st.dev}-${st.ino}-${process.version}-${process.arch}.v8`;
}

// V8 checks a code cache's version, flags and source length, not its payload: a damaged file would run. So each
// file starts with a mark and the payload's sha256, checked before V8 sees it, as Node's own compile cache does.
const MAGIC = Buffer.from('armkit-v8-cache\n');
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();

/** Reads the cache file, refusing a link, a file someone else owns or may write, and one whose checksum is wrong. */
function readCache(file: string, uid: number): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    const st = fstatSync(fd);
    if (!st.isFile() || st.uid !== uid || (st.mode & 0o022) !== 0) return undefined;
    const data = readFileSync(fd);
    const payload = data.subarray(MAGIC.length + 32);
    const whole = data.subarray(0, MAGIC.length).equals(MAGIC) && data.subarray(MAGIC.length, MAGIC.length + 32).equals(sha256(payload));
    return whole ? payload : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes the cache whole or not at all: a private temporary file renamed into place, so readers never see half. */
function writeCache(file: string, data: Buffer): void {
  const partial = `${file}.${process.pid}.partial`;
  try {
    writeFileSync(partial, Buffer.concat([MAGIC, sha256(data), data]), { flag: 'wx', mode: 0o600 });
    renameSync(partial, file);
  } catch {
    rmSync(partial, { force: true });
  }
}

/**
 * Compiles and runs `bundle` as a CommonJS module, with the cached code for `slot` when there is a usable one.
 * When there is not, the code compiled by the end of this run (V8 compiles functions as they are first called) is
 * written at exit, for the next run of the same command.
 */
export function runBundle(bundle: string, slot: string, env: NodeJS.ProcessEnv = process.env): CompileCacheOutcome {
  const file = resolve(bundle);
  // --enable-source-maps maps stack traces of modules Node loads itself, not of a vm.Script: then Node loads it.
  if (process.sourceMapsEnabled) return { exports: createRequire(file)(file), used: false };
  const source = readFileSync(file, 'utf8');
  const uid = process.getuid?.() ?? 0;
  const dir = compileCacheDir(env, uid);
  const cacheFile = dir && safeCacheDir(dir, uid) ? join(dir, cacheName(file, slot)) : undefined;
  const cachedData = cacheFile ? readCache(cacheFile, uid) : undefined;
  // Node's own CommonJS wrapper, so the bundle sees what a required module sees; on a line of its own, so the
  // bundle's lines and columns (its source map's) are where stack traces say.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {\n${source}\n})`, { filename: file, lineOffset: -1, cachedData });
  const used = cachedData !== undefined && !script.cachedDataRejected;
  if (cacheFile && !used) process.once('exit', () => writeCache(cacheFile, script.createCachedData()));
  const module = { exports: {} as unknown };
  (script.runInThisContext() as (...args: unknown[]) => void).call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  return { exports: module.exports, cacheFile, used };
}
