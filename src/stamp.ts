/**
 * Up-to-date stamps: after a build, armkit records the command line and the state (size, modification time,
 * inode) of every file the build's result depends on: the recipe, the templates, the source, the kernel tree's
 * identity files, the Debian index it resolved the kernel with, the toolchain, armkit itself and the published
 * manifest. The same command run again while none of them changed has nothing to do, and says so before armkit
 * loads anything else (an unchanged rebuild costs Node's start and a few stat calls). Anything that does not
 * match, or any doubt, falls through to the full build, whose build cache still spares make and rpmbuild.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const STAMP_VERSION = 1;

export interface FileState {
  path: string;
  /** `size:mtimeMs:ino`, or "absent". */
  state: string;
}

export interface Stamp {
  version: number;
  /** What the command printed: stderr lines for people, the --json document. */
  messages: string[];
  json?: unknown;
  files: FileState[];
  /** The stamp stops applying after this time (the Debian index's refresh age). */
  validUntil: number;
}

export function fileState(path: string): string {
  try {
    const st = statSync(path);
    return `${st.size}:${st.mtimeMs}:${st.ino}`;
  } catch {
    return 'absent';
  }
}

/** Options that change what a command prints or does after building, not what it builds. */
const OUTPUT_ONLY = new Set(['--json', '--test', '--timings', '--verbose']);
const OUTPUT_ONLY_WITH_VALUE = new Set(['--timeout', '--kernel-image']);

/** The build command line without its output and test options: one stamp serves `build` and `build --test`. */
export function stampArgs(args: string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (OUTPUT_ONLY.has(a)) continue;
    if (OUTPUT_ONLY_WITH_VALUE.has(a)) {
      i += 1;
      continue;
    }
    if ([...OUTPUT_ONLY_WITH_VALUE].some((o) => a.startsWith(`${o}=`))) continue;
    kept.push(a);
  }
  return kept;
}

/** The stamp's name: the build command line, the working directory and the environment that can change a build. */
export function stampKey(argv: string[], cwd: string, env: NodeJS.ProcessEnv): string {
  argv = stampArgs(argv);
  const relevant = ['PATH', 'ARMKIT_CACHE_DIR', 'XDG_CACHE_HOME', 'HOME', 'ARMKIT_BUILD_CACHE_MAX'].map((k) => `${k}=${env[k] ?? ''}`);
  return createHash('sha256')
    .update(JSON.stringify([STAMP_VERSION, argv, cwd, relevant]))
    .digest('hex');
}

export function stampFile(cacheDir: string, key: string): string {
  return join(cacheDir, 'stamps', `${key.slice(0, 32)}.json`);
}

/** The stamp for this command when every file it names is as it was, else undefined. */
export function currentStamp(file: string, now = Date.now()): Stamp | undefined {
  let stamp: Stamp;
  try {
    stamp = JSON.parse(readFileSync(file, 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
  if (stamp.version !== STAMP_VERSION || !(now < stamp.validUntil) || !Array.isArray(stamp.files) || stamp.files.length === 0) return undefined;
  return stamp.files.every((f) => fileState(f.path) === f.state) ? stamp : undefined;
}

export function writeStamp(file: string, stamp: Omit<Stamp, 'version' | 'files'> & { paths: string[] }): void {
  const { paths, ...rest } = stamp;
  const record: Stamp = { version: STAMP_VERSION, ...rest, files: [...new Set(paths)].map((path) => ({ path, state: fileState(path) })) };
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(`${file}.${process.pid}`, `${JSON.stringify(record)}\n`);
  renameSync(`${file}.${process.pid}`, file);
}
