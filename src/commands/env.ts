/** What every command gets from the CLI: this host's facts, the runner of external commands, warnings, armkit's version, now. */
import type { Host } from '../host.js';
import type { Runner } from '../proc/runner.js';
import type { ExecuteOptions } from '../run/execute.js';
import type { StepKinds } from '../step.js';

export interface Env {
  host: Host;
  runner: Runner;
  /** A runner stopped by another signal: each build of a set can be stopped on its own (--fail-fast). */
  runnerFor(signal: AbortSignal): Runner;
  warn(message: string): void;
  armkitVersion: string;
  now: Date;
}

/**
 * How a command's plans run: the step kinds (loaded by the caller, only when something runs), this host and runner,
 * --verbose, --no-wait (commander's `wait: false`) and the command's abort signal.
 */
export function executeOptions(kinds: StepKinds, env: Env, options: { verbose?: boolean; wait?: boolean }, signal?: AbortSignal): ExecuteOptions {
  return {
    kinds,
    runner: env.runner,
    host: env.host,
    verbose: Boolean(options.verbose),
    ...(signal ? { signal } : {}),
    warn: env.warn,
    ...(options.wait === false ? { noWait: true } : {}),
  };
}
