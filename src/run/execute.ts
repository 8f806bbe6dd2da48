/**
 * Runs a plan's steps as listr2 tasks, each through its kind's entry in the registry it is given: the executor
 * knows no step kind. Progress goes to stderr (stdout is for --json and dry-run scripts): an interactive renderer
 * on a terminal, one line per step otherwise (CI, pipes, --verbose). It returns every step's result and time.
 */
import { Listr, ListrLogger, PRESET_TIMER, ProcessOutput } from 'listr2';
import { ArmkitError } from '../errors.js';
import type { Host } from '../host.js';
import { acquireLocks } from '../lock.js';
import { assertPrograms } from '../prereqs.js';
import type { Runner } from '../proc/runner.js';
import { type Plan, programsOf, type Step, type StepContext, type StepKind, type StepKinds } from '../step.js';

export interface ExecuteOptions {
  kinds: StepKinds;
  runner: Runner;
  /** A runner bound to another abort signal (each plan of a set can be stopped on its own). */
  runnerFor?: (signal: AbortSignal) => Runner;
  host: Host;
  verbose: boolean;
  /** No progress output at all (tests, --json with --quiet). */
  quiet?: boolean;
  signal?: AbortSignal;
  warn(message: string): void;
  /** Refuse instead of waiting when another armkit process holds a plan's lock. */
  noWait?: boolean;
}

/** What one step did: its result (a manifest, the guest's checks) and how long it took. */
export interface StepResult {
  kind: Step['kind'];
  title: string;
  seconds: number;
  result?: unknown;
}

export interface ExecuteResult {
  steps: StepResult[];
}

/** File-system and network failures inside a step become errors with a kind, naming the step. */
export function asArmkitError(error: unknown, title: string): unknown {
  if (error instanceof ArmkitError) return error;
  const code = (error as NodeJS.ErrnoException)?.code;
  if (typeof code !== 'string') return error;
  const message = `${title}: ${(error as Error).message}`;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new ArmkitError('prerequisite', `${message}.`, {
      details: ['armkit needs write access there (a directory left by a build run as root?).'],
      cause: error,
    });
  }
  if (code === 'ENOSPC') return new ArmkitError('prerequisite', `${message}: the disk is full.`, { cause: error });
  return new ArmkitError('step-failed', `${message}.`, { cause: error });
}

/** A terminal that can redraw: a TTY on stderr, not CI, and a known width (a pty without a size reports 0). */
export function interactive(): boolean {
  return Boolean(process.stderr.isTTY) && !process.env.CI && (process.stderr.columns ?? 0) > 0;
}

/** Runs one step through its kind and times it. */
export async function runStep(step: Step, ctx: StepContext, kinds: StepKinds): Promise<StepResult> {
  const started = process.hrtime.bigint();
  try {
    const result = await (kinds[step.kind] as StepKind<Step>).run(step, ctx);
    return { kind: step.kind, title: step.title, seconds: Number(process.hrtime.bigint() - started) / 1e9, ...(result !== undefined ? { result } : {}) };
  } catch (error) {
    throw asArmkitError(error, step.title);
  }
}

export function listrOptions(options: Pick<ExecuteOptions, 'quiet' | 'verbose'>, concurrent: boolean | number = false): ConstructorParameters<typeof Listr>[1] {
  const output = new ProcessOutput(process.stderr, process.stderr);
  const logger = new ListrLogger({ processOutput: output });
  return {
    concurrent,
    exitOnError: true,
    registerSignalListeners: false,
    renderer: options.quiet ? 'silent' : options.verbose || !interactive() ? 'simple' : 'default',
    fallbackRenderer: 'simple',
    rendererOptions: { logger, timer: PRESET_TIMER, collapseSubtasks: false },
    fallbackRendererOptions: { logger, timer: PRESET_TIMER },
  } as ConstructorParameters<typeof Listr>[1];
}

/** The listr2 tasks of one plan's steps; results are pushed onto `into` as each step ends. */
export function stepTasks(plan: Plan, options: ExecuteOptions, into: StepResult[]) {
  return plan.steps.map((step) => ({
    title: step.title,
    task: async (_: unknown, task: { output: string }) => {
      if (options.signal?.aborted) throw new ArmkitError('interrupted', 'Interrupted.');
      const ctx: StepContext = {
        logsDir: plan.logsDir,
        runner: options.runner,
        verbose: options.verbose,
        signal: options.signal,
        note: (message) => {
          task.output = message;
        },
      };
      into.push(await runStep(step, ctx, options.kinds));
    },
  }));
}

/** Runs `body` holding the plan's locks (its work directory, its destination in out/). */
async function locked<T>(plan: Plan, options: ExecuteOptions, body: () => Promise<T>): Promise<T> {
  if (!plan.locks?.length) return body();
  const release = await acquireLocks(plan.locks, { noWait: options.noWait, signal: options.signal, onWait: options.warn, what: plan.summary });
  try {
    return await body();
  } finally {
    release();
  }
}

export async function execute(plan: Plan, options: ExecuteOptions): Promise<ExecuteResult> {
  assertPrograms(options.host, programsOf(plan, options.kinds));
  for (const warning of plan.warnings) options.warn(warning);
  const steps: StepResult[] = [];
  await locked(plan, options, () => new Listr(stepTasks(plan, options, steps), listrOptions(options)).run());
  return { steps };
}

/** How one plan of a set ended. */
export interface PlanOutcome {
  plan: Plan;
  steps: StepResult[];
  seconds: number;
  error?: ArmkitError;
  /** Stopped because another plan failed (--fail-fast) or armkit was interrupted, not failed by itself. */
  stopped?: boolean;
}

export interface SetOptions extends ExecuteOptions {
  /** Plans running at once. */
  jobs: number;
  /** Stop the other plans at the first failure; without it they finish. */
  failFast: boolean;
}

/**
 * Runs several plans as one listr2 tree, one sub-task per plan, `jobs` at a time. Every plan keeps its own logs;
 * a failure ends only its own plan unless failFast, which stops the rest (they report "stopped").
 */
export async function executeSet(plans: Plan[], options: SetOptions): Promise<PlanOutcome[]> {
  assertPrograms(options.host, [...new Set(plans.flatMap((p) => programsOf(p, options.kinds)))]);
  for (const warning of new Set(plans.flatMap((p) => p.warnings))) options.warn(warning);
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const outcomes: PlanOutcome[] = plans.map((plan) => ({ plan, steps: [], seconds: 0 }));
  const tasks = new Listr(
    outcomes.map((outcome) => ({
      title: outcome.plan.summary,
      task: async (_: unknown, task: { output: string }) => {
        const started = process.hrtime.bigint();
        const signal = stop.signal;
        // A runner of this plan's own, stopped with the set (fail-fast) as well as by an interrupt.
        const runner = options.runnerFor ? options.runnerFor(signal) : options.runner;
        const own: ExecuteOptions = { ...options, runner, signal };
        try {
          await locked(outcome.plan, own, async () => {
            for (const step of outcome.plan.steps) {
              if (signal.aborted) throw new ArmkitError('interrupted', 'Stopped.');
              task.output = step.title;
              const ctx: StepContext = {
                logsDir: outcome.plan.logsDir,
                runner,
                verbose: options.verbose,
                signal,
                note: (m) => (task.output = `${step.title}: ${m}`),
              };
              outcome.steps.push(await runStep(step, ctx, options.kinds));
            }
          });
        } catch (error) {
          const e = error instanceof ArmkitError ? error : (asArmkitError(error, outcome.plan.summary) as ArmkitError);
          outcome.error = e instanceof ArmkitError ? e : new ArmkitError('step-failed', String(error));
          outcome.stopped = signal.aborted && !options.signal?.aborted ? true : outcome.error.kind === 'interrupted';
          if (options.failFast && !outcome.stopped) stop.abort();
          throw outcome.error;
        } finally {
          outcome.seconds = Number(process.hrtime.bigint() - started) / 1e9;
        }
      },
    })),
    { ...listrOptions(options, Math.max(1, options.jobs)), exitOnError: false },
  );
  try {
    await tasks.run();
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  return outcomes;
}

/** The result of the one step of a kind, for the command that reads it (the publish step's manifest). */
export function resultOf(result: ExecuteResult, kind: Step['kind']): unknown {
  return result.steps.find((s) => s.kind === kind)?.result;
}
