/**
 * Runs a plan's steps as listr2 tasks. Progress goes to stderr (stdout is for --json and dry-run scripts): an
 * interactive renderer on a terminal, one line per step otherwise (CI, pipes, --verbose).
 */
import { Listr, ListrLogger, PRESET_TIMER, ProcessOutput } from 'listr2';
import { ArmkitError } from '../errors.js';
import type { Manifest } from '../artifacts/publish.js';
import type { CheckResult } from '../guest/report.js';
import type { Host } from '../host.js';
import { ARCHES } from '../arch.js';
import { assertPrograms } from '../prereqs.js';
import type { Plan } from '../plan/step.js';
import type { Runner } from './runner.js';
import { runStep, type StepContext } from './steps.js';

export interface ExecuteOptions {
  runner: Runner;
  host: Host;
  verbose: boolean;
  /** No progress output at all (tests, --json with --quiet). */
  quiet?: boolean;
  signal?: AbortSignal;
  warn(message: string): void;
}

export interface ExecuteResult {
  manifest?: Manifest;
  guestResults?: CheckResult[];
}

/** File-system and network failures inside a step become errors with a kind, naming the step. */
export function asArmkitError(error: unknown, title: string): unknown {
  if (error instanceof ArmkitError) return error;
  const code = (error as NodeJS.ErrnoException)?.code;
  if (typeof code !== 'string') return error;
  const message = `${title}: ${(error as Error).message}`;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new ArmkitError('prerequisite', `${message}.`, { details: ['armkit needs write access there (a directory left by a build run as root?).'], cause: error });
  }
  if (code === 'ENOSPC') return new ArmkitError('prerequisite', `${message}: the disk is full.`, { cause: error });
  return new ArmkitError('step-failed', `${message}.`, { cause: error });
}

/** A terminal that can redraw: a TTY on stderr, not CI, and a known width (a pty without a size reports 0). */
export function interactive(): boolean {
  return Boolean(process.stderr.isTTY) && !process.env.CI && (process.stderr.columns ?? 0) > 0;
}

export async function execute(plan: Plan, options: ExecuteOptions): Promise<ExecuteResult> {
  assertPrograms(options.host, plan.requires, ARCHES);
  for (const warning of plan.warnings) options.warn(warning);
  const ctx: StepContext = { plan, runner: options.runner, verbose: options.verbose, signal: options.signal, note: () => {} };
  const output = new ProcessOutput(process.stderr, process.stderr);
  const logger = new ListrLogger({ processOutput: output });
  const tasks = new Listr(
    plan.steps.map((step) => ({
      title: step.title,
      task: async (_: unknown, task: { output: string }) => {
        if (options.signal?.aborted) throw new ArmkitError('interrupted', 'Interrupted.');
        ctx.note = (message) => {
          task.output = message;
        };
        try {
          await runStep(step, ctx);
        } catch (error) {
          throw asArmkitError(error, step.title);
        }
      },
    })),
    {
      concurrent: false,
      exitOnError: true,
      registerSignalListeners: false,
      renderer: options.quiet ? 'silent' : options.verbose || !interactive() ? 'simple' : 'default',
      fallbackRenderer: 'simple',
      rendererOptions: { logger, timer: PRESET_TIMER, collapseSubtasks: false },
      fallbackRendererOptions: { logger, timer: PRESET_TIMER },
    } as ConstructorParameters<typeof Listr>[1],
  );
  await tasks.run();
  return { manifest: ctx.manifest, guestResults: ctx.guestResults };
}
