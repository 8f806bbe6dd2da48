/**
 * The step kinds of `armkit bench build`: `timed-build` runs a build (make clean, then the build) a few times
 * here and times each run; `guest-timings` reads the times a QEMU guest measured itself from its serial log.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArmkitError } from '../errors.js';
import { comment, shellQuote as q } from '../proc/quote.js';
import type { StepKinds } from '../step.js';

/** The seconds of each warm-up run and of each timed run. */
export interface BuildTimes {
  warmup: number[];
  runs: number[];
}

/** Run labels, in order: warmup-1.., then 1..N. */
export function runLabels(warmup: number, runs: number): string[] {
  return [...Array.from({ length: warmup }, (_, k) => `warmup-${k + 1}`), ...Array.from({ length: runs }, (_, k) => String(k + 1))];
}

/**
 * The times in a guest's serial log: one `ARMKIT:BUILD <label> <start> <end> <status>` line per run (start and
 * end from the guest's `date +%s.%N`). A missing run or one that failed is an error naming it.
 */
export function parseGuestTimings(serial: string, warmup: number, runs: number): BuildTimes {
  const seen = new Map<string, { seconds: number; status: number }>();
  for (const line of serial.split(/\r?\n/)) {
    const m = /ARMKIT:BUILD (\S+) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\d+)\s*$/.exec(line);
    if (m) seen.set(m[1]!, { seconds: Number(m[3]) - Number(m[2]), status: Number(m[4]) });
  }
  const times: BuildTimes = { warmup: [], runs: [] };
  for (const label of runLabels(warmup, runs)) {
    const run = seen.get(label);
    if (!run) throw new ArmkitError('step-failed', `The guest never reported build run ${label} (no "ARMKIT:BUILD ${label}" line on its serial console).`);
    if (run.status !== 0) throw new ArmkitError('step-failed', `The build in the guest failed (run ${label}: make exited with ${run.status}).`);
    (label.startsWith('warmup-') ? times.warmup : times.runs).push(run.seconds);
  }
  return times;
}

const tailOf = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').replace(/\s+$/, '').split('\n').slice(-20) : []);

export const BUILD_BENCH_STEPS: Pick<StepKinds, 'timed-build' | 'guest-timings'> = {
  'timed-build': {
    async run(step, ctx) {
      const times: BuildTimes = { warmup: [], runs: [] };
      const log = join(ctx.logsDir, step.log);
      for (const label of runLabels(step.warmup, step.runs)) {
        await ctx.runner.run(step.clean, { cwd: step.cwd, env: step.env, logFile: log, echo: ctx.verbose });
        ctx.note(`run ${label}`);
        const started = process.hrtime.bigint();
        await ctx.runner.run(step.argv, { cwd: step.cwd, env: step.env, logFile: log, echo: ctx.verbose });
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        (label.startsWith('warmup-') ? times.warmup : times.runs).push(seconds);
      }
      return times;
    },
    shell(step, logsDir) {
      const env = Object.entries(step.env ?? {})
        .map(([k, v]) => `${k}=${q(v)} `)
        .join('');
      const log = q(join(logsDir, step.log));
      const cd = step.cwd ? `cd ${q(step.cwd)} && ` : '';
      return [
        `for run in ${runLabels(step.warmup, step.runs).join(' ')}; do  ${comment('the warm-up runs are not counted')}`,
        `  (${cd}${env}${step.clean.map(q).join(' ')}) >> ${log} 2>&1`,
        '  start=$(date +%s.%N)',
        `  (${cd}${env}${step.argv.map(q).join(' ')}) >> ${log} 2>&1`,
        '  echo "$run $start $(date +%s.%N)"  # the seconds of the run: end - start',
        'done',
      ].join('\n');
    },
    programs: (step) => [...new Set([step.clean[0]!, step.argv[0]!])],
  },
  'guest-timings': {
    async run(step) {
      const serial = existsSync(step.serialLog) ? readFileSync(step.serialLog, 'utf8') : '';
      try {
        return parseGuestTimings(serial, step.warmup, step.runs);
      } catch (error) {
        if (error instanceof ArmkitError) throw new ArmkitError(error.kind, error.message, { details: tailOf(step.serialLog), logFile: step.serialLog });
        throw error;
      }
    },
    shell: (step) => `grep -a '^ARMKIT:BUILD' ${q(step.serialLog)}  ${comment('label start end status: the seconds of each run are end - start')}`,
    programs: () => [],
  },
};
