/** Runs a guest test plan and reports its checks: the one ending of armkit test's two check sets (test.ts, test-kmod.ts). */
import { join } from 'node:path';
import { ArmkitError } from '../errors.js';
import { type CheckResult, formatResults, summarize } from '../guest/report.js';
import { execute, resultOf } from '../run/execute.js';
import type { Plan } from '../step.js';
import { STEP_KINDS } from '../steps/index.js';
import { type Env, executeOptions } from './env.js';
import { info, printJson, printPlan, printTimings } from './output.js';
import type { TestOptions } from './test-options.js';

/** --dry-run prints the plan; otherwise it runs, and the checks are printed (or one JSON document), the serial log named. */
export async function runGuestTest(
  plan: Plan,
  from: string,
  headline: string,
  options: TestOptions,
  env: Env,
  signal?: AbortSignal,
): Promise<CheckResult[] | undefined> {
  if (options.dryRun) {
    await printPlan(plan, Boolean(options.json));
    return undefined;
  }
  const serialLog = join(from, 'logs', 'test-serial.log');
  info(headline);
  try {
    const result = await execute(plan, executeOptions(STEP_KINDS, env, options, signal));
    if (options.timings) printTimings(plan.summary, result);
    const guestResults = (resultOf(result, 'guest-report') ?? []) as CheckResult[];
    if (options.json) printJson({ ok: true, summary: summarize(guestResults), results: guestResults, serialLog });
    else {
      for (const line of formatResults(guestResults)) info(line);
      info(`armkit: ${summarize(guestResults)}; serial log: ${serialLog}`);
    }
    return guestResults;
  } catch (error) {
    if (error instanceof ArmkitError && error.kind === 'verification' && error.payload) info(`armkit: serial log: ${serialLog}`);
    throw error;
  }
}
