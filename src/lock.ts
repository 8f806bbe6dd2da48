/**
 * Locks on paths (a work directory, an out/ destination): two armkit processes never build in one work directory
 * or publish into one destination at once. A lock is a file (in LOCK_DIR, named by the path's hash) naming its holder (pid and the start
 * time of that process, so a reused pid is not mistaken for it). The second process waits, saying for what, or
 * refuses with --no-wait; a lock whose holder is gone (killed with -9, a crashed machine) is taken over.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ArmkitError } from './errors.js';
import { scratch } from './scratch.js';

interface Holder {
  pid: number;
  /** Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot. */
  start: string;
  what: string;
}

function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function alive(holder: Holder): boolean {
  if (holder.pid === process.pid) return false;
  const start = startTime(holder.pid);
  return start !== undefined && start === holder.start;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

export interface LockOptions {
  /** Refuse instead of waiting when another process holds a lock. */
  noWait?: boolean;
  signal?: AbortSignal;
  /** Told once per lock that must be waited for. */
  onWait(message: string): void;
  what: string;
}

/**
 * Where lock files live: one folder for every armkit process of this machine, whatever its cache directory, and
 * never in out/ (which changes only when a build succeeds).
 */
export const LOCK_DIR = join(tmpdir(), 'armkit-locks');

export function lockFile(path: string): string {
  return join(LOCK_DIR, `${createHash('sha256').update(resolve(path)).digest('hex').slice(0, 32)}.lock`);
}

/** Takes one lock; resolves to its release. */
async function take(path: string, options: LockOptions): Promise<() => void> {
  const file = lockFile(path);
  mkdirSync(LOCK_DIR, { recursive: true, mode: 0o1777 });
  const me: Holder = { pid: process.pid, start: startTime(process.pid) ?? '', what: options.what };
  let told = false;
  for (;;) {
    try {
      writeFileSync(file, `${JSON.stringify(me)}\n`, { flag: 'wx' });
      const forget = scratch(file);
      return () => {
        rmSync(file, { force: true });
        forget();
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder: Holder | undefined;
    try {
      holder = JSON.parse(readFileSync(file, 'utf8')) as Holder;
    } catch {
      holder = undefined; // half-written by a process that died writing it, or just removed
    }
    if (!holder || !alive(holder)) {
      // Stale: move it aside first, so two processes taking it over do not both succeed.
      const aside = `${file}.stale-${process.pid}`;
      try {
        renameSync(file, aside);
        rmSync(aside, { force: true });
      } catch {
        // Someone else took it over or released it: try again.
      }
      continue;
    }
    const message = `${path} is in use by armkit (pid ${holder.pid}: ${holder.what})`;
    if (options.noWait) throw new ArmkitError('prerequisite', `${message}; --no-wait: not waiting for it.`);
    if (!told) {
      options.onWait(`waiting: ${message}`);
      told = true;
    }
    if (options.signal?.aborted) throw new ArmkitError('interrupted', 'Interrupted while waiting for a lock.');
    await sleep(200);
  }
}

/** Takes every lock in a fixed order (so two processes never hold one each and wait for the other's). */
export async function acquireLocks(paths: string[], options: LockOptions): Promise<() => void> {
  const releases: Array<() => void> = [];
  try {
    for (const path of [...new Set(paths)].sort()) releases.push(await take(path, options));
  } catch (error) {
    for (const release of releases.reverse()) release();
    throw error;
  }
  return () => {
    for (const release of releases.reverse()) release();
  };
}
