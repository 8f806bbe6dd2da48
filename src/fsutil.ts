/**
 * The directories armkit writes into (out/, the cache, work and log directories) and the files it writes there.
 * Node's recursive mkdirSync loops for ever where mkdir fails with ENOENT under a directory that exists (/proc,
 * /sys), so armkit never uses it: ensureDir makes each missing component on its own, and every failure is an
 * ArmkitError that names the directory, the reason and what to do, with the exit code of its kind (4 when the
 * place cannot be written, 2 when a file stands where a directory must be).
 */
import { accessSync, constants, lstatSync, mkdirSync, readlinkSync, statfsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ArmkitError } from './errors.js';

/** File systems of the kernel's own (statfs f_type) that take no directories of armkit's. */
const VIRTUAL_FS: Record<number, string> = {
  40864: 'proc',
  1650812274: 'sysfs',
  7377: 'devpts',
  2613483: 'cgroup',
  1667723888: 'cgroup2',
  1684170528: 'debugfs',
  1953653091: 'tracefs',
  1935894131: 'securityfs',
  3405662737: 'bpf',
  1634035564: 'pstore',
  1650812272: 'configfs',
  3730735588: 'efivarfs',
  4185718668: 'selinuxfs',
  1702057283: 'fusectl',
  1112100429: 'binfmt_misc',
  1853056627: 'nsfs',
};

const DEFAULT_ADVICE = 'choose a directory on a disk that armkit can write to';

export interface DirOptions {
  /** What the directory is, for the message: "the output directory (--out)". */
  what?: string;
  /** What to do instead, as the end of the sentence: "pass another --out". */
  advice?: string;
}

const code = (error: unknown) => (error as NodeJS.ErrnoException)?.code;

/** The deepest existing path on the way to `path`, and the components below it that do not exist yet. */
function nearestExisting(path: string, options: DirOptions): { existing: string; missing: string[] } {
  const missing: string[] = [];
  let at = path;
  for (;;) {
    try {
      statSync(at);
      return { existing: at, missing };
    } catch (error) {
      // ENOTDIR: a file stands somewhere above; the walk up finds it.
      if (code(error) !== 'ENOENT' && code(error) !== 'ENOTDIR') throw dirError(error, at, path, options);
    }
    const parent = dirname(at);
    if (parent === at) return { existing: at, missing };
    missing.unshift(at);
    at = parent;
  }
}

function sentence(path: string, options: DirOptions): string {
  return `Cannot create ${options.what ? `${options.what} ` : ''}${path}`;
}

/** An errno error met while making `at` (on the way to `path`) as an ArmkitError of its kind. */
export function dirError(error: unknown, at: string, path: string, options: DirOptions = {}): ArmkitError {
  const advice = options.advice ?? DEFAULT_ADVICE;
  const head = sentence(path, options);
  switch (code(error)) {
    case 'ENOTDIR':
    case 'EEXIST':
      return new ArmkitError('usage', `${head}: ${at} is a file, not a directory; ${advice}, or move the file away.`, { cause: error });
    case 'EACCES':
    case 'EPERM':
      return new ArmkitError('prerequisite', `${head}: no permission to write in ${at}; ${advice} (or run armkit as a user who may write there).`, {
        cause: error,
      });
    case 'EROFS':
      return new ArmkitError('prerequisite', `${head}: ${at} is on a read-only file system; ${advice}.`, { cause: error });
    case 'ENOSPC':
    case 'EDQUOT':
      return new ArmkitError('prerequisite', `${head}: the disk holding ${at} is full; free some space there, or ${advice}.`, { cause: error });
    case 'ENOENT':
      // mkdir said "no such directory" of a parent that exists: a file system that takes no new directories.
      return new ArmkitError('prerequisite', `${head}: ${at} takes no new directories (a virtual file system such as /proc or /sys?); ${advice}.`, {
        cause: error,
      });
    default:
      return new ArmkitError('step-failed', `${head}: ${(error as Error)?.message ?? String(error)}; ${advice}.`, { cause: error });
  }
}

/** The kernel's name for the virtual file system `dir` is on, or undefined for a real one. */
function virtualFs(dir: string): string | undefined {
  try {
    return VIRTUAL_FS[statfsSync(dir).type];
  } catch {
    return undefined;
  }
}

/**
 * Checks, writing nothing, that `path` is a directory armkit can write in or one it can create: a dry run may call
 * it. Its nearest existing ancestor must be a directory, on a real file system, writable by this process.
 */
export function assertDirCreatable(path: string, options: DirOptions = {}): { existing: string; missing: string[] } {
  const absolute = resolve(path);
  const found = nearestExisting(absolute, options);
  const { existing } = found;
  const advice = options.advice ?? DEFAULT_ADVICE;
  if (!statSync(existing).isDirectory()) {
    throw new ArmkitError('usage', `${sentence(absolute, options)}: ${existing} is a file, not a directory; ${advice}, or move the file away.`);
  }
  const fs = virtualFs(existing);
  if (fs) {
    throw new ArmkitError(
      'prerequisite',
      `${sentence(absolute, options)}: ${existing} is on ${fs}, a virtual file system of the kernel that takes no directories of armkit's; ${advice}.`,
    );
  }
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw dirError(error, existing, absolute, options);
  }
  return found;
}

/** Makes `path` and its missing parents, one component at a time, or says in a sentence why it cannot. */
export function ensureDir(path: string, options: DirOptions = {}): void {
  const absolute = resolve(path);
  const { missing } = assertDirCreatable(absolute, options);
  for (const dir of missing) {
    try {
      mkdirSync(dir);
    } catch (error) {
      // Another process made it meanwhile.
      if (code(error) === 'EEXIST' && statSync(dir, { throwIfNoEntry: false })?.isDirectory()) continue;
      // A link whose target is gone stands where the directory goes.
      if (code(error) === 'EEXIST' && lstatSync(dir, { throwIfNoEntry: false })?.isSymbolicLink()) {
        throw new ArmkitError(
          'usage',
          `${sentence(absolute, options)}: ${dir} is a link to ${readlinkSync(dir)}, which does not exist; ${options.advice ?? DEFAULT_ADVICE}, or remove the link.`,
          { cause: error },
        );
      }
      throw dirError(error, dirname(dir), absolute, options);
    }
  }
}

/** An errno error met while writing `file` as an ArmkitError of its kind; any other error as it is. */
export function writeError(error: unknown, file: string, advice = DEFAULT_ADVICE): unknown {
  switch (code(error)) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new ArmkitError('prerequisite', `The disk is full: ${file} could not be written. Free some space there, or ${advice}.`, { cause: error });
    case 'EACCES':
    case 'EPERM':
      return new ArmkitError('prerequisite', `No permission to write ${file}; ${advice}.`, { cause: error });
    case 'EROFS':
      return new ArmkitError('prerequisite', `${file} is on a read-only file system; ${advice}.`, { cause: error });
    case 'ENOTDIR':
    case 'EISDIR':
      return new ArmkitError('usage', `${file} could not be written: a file or directory stands in its way; ${advice}.`, { cause: error });
    case 'EIO':
      return new ArmkitError('step-failed', `${file} could not be written (input/output error: a failing disk?); ${advice}.`, { cause: error });
    default:
      return error;
  }
}
