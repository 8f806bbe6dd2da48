/** What every command gets from the CLI: this host's facts, the runner of external commands, warnings, armkit's version, now. */
import type { Host } from '../host.js';
import type { Runner } from '../proc/runner.js';

export interface Env {
  host: Host;
  runner: Runner;
  /** A runner stopped by another signal: each build of a set can be stopped on its own (--fail-fast). */
  runnerFor(signal: AbortSignal): Runner;
  warn(message: string): void;
  armkitVersion: string;
  now: Date;
}
