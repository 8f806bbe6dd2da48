/**
 * Every external command armkit starts leads a process group of its own (spawned detached), so that stopping it
 * stops what it started too: rpmbuild's sh, make and the compilers, not only rpmbuild. This module knows the live
 * groups and ends them: on an interrupt, a timeout, or armkit's own exit.
 */
const live = new Set<number>();

/** Signals a whole group; false when it has no member left. */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    // EPERM: a member changed its credentials (a setuid helper); it still exists.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function register(pgid: number): void {
  live.add(pgid);
}

/** A command's leader exited; members that outlived it (daemonised children) are ended with it. */
export function release(pgid: number): void {
  live.delete(pgid);
  if (signalGroup(pgid, 0)) signalGroup(pgid, 'SIGKILL');
}

export function liveGroups(): number[] {
  return [...live];
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * SIGTERM to the group, then SIGKILL to whatever is left after `graceMs`. Resolves once the group is empty (or
 * after a bounded wait past SIGKILL, which cannot be ignored).
 */
export async function terminateGroup(pgid: number, graceMs = 3000): Promise<void> {
  if (!signalGroup(pgid, 'SIGTERM')) return;
  // A stopped member (Ctrl-Z) would never act on SIGTERM.
  signalGroup(pgid, 'SIGCONT');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await sleep(50);
    if (!signalGroup(pgid, 0)) return;
  }
  signalGroup(pgid, 'SIGKILL');
  for (let i = 0; i < 40 && signalGroup(pgid, 0); i++) await sleep(25);
}

export async function terminateAll(graceMs = 3000): Promise<void> {
  await Promise.all([...live].map((pgid) => terminateGroup(pgid, graceMs)));
}

/** Last resort at process exit: nothing may outlive armkit. Synchronous, as exit handlers must be. */
export function killAllNow(): void {
  for (const pgid of live) signalGroup(pgid, 'SIGKILL');
  live.clear();
}
