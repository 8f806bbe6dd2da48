/** What commands print: results on stdout (JSON or a script), everything for humans on stderr. */

import { yellow } from '../color.js';
import type { ExecuteResult, PlanOutcome, StepResult } from '../run/execute.js';
import type { Plan } from '../step.js';

export function warn(message: string): void {
  process.stderr.write(`armkit: ${yellow('warning:')} ${message}\n`);
}

export function info(message: string): void {
  process.stderr.write(`${message}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, (key, v) => (key === 'arch' && v && typeof v === 'object' && 'rpm' in v ? v.rpm : v), 2)}\n`);
}

/** --dry-run: the script on stdout, or with --json the plan as data. */
export async function printPlan(plan: Plan, json: boolean): Promise<void> {
  if (json) return printJson({ ok: true, dryRun: true, plan });
  const [{ planToShell }, { STEP_KINDS }] = await Promise.all([import('../run/shell.js'), import('../steps/index.js')]);
  process.stdout.write(planToShell(plan, STEP_KINDS));
}

const secs = (s: number) => `${s < 10 ? s.toFixed(2) : s.toFixed(1)} s`;

/** --timings: where a build spent its time, the slowest steps first, with the share of the whole. */
export function timingLines(steps: StepResult[]): string[] {
  const total = steps.reduce((n, s) => n + s.seconds, 0);
  const width = Math.min(70, Math.max(...steps.map((s) => s.title.length), 4));
  return [
    `  ${'step'.padEnd(width)}  ${'time'.padStart(8)}  share`,
    ...[...steps]
      .sort((a, b) => b.seconds - a.seconds)
      .map(
        (s) =>
          `  ${s.title.slice(0, width).padEnd(width)}  ${secs(s.seconds).padStart(8)}  ${total > 0 ? `${((100 * s.seconds) / total).toFixed(0).padStart(3)}%` : '   -'}`,
      ),
    `  ${'all steps'.padEnd(width)}  ${secs(total).padStart(8)}`,
  ];
}

export function printTimings(label: string, result: ExecuteResult): void {
  info(`armkit: timings of ${label}`);
  for (const line of timingLines(result.steps)) info(line);
}

/** One row per build of a set: the table printed at the end. */
export interface SummaryRow {
  arch: string;
  kernel: string;
  result: 'built' | 'cached' | 'failed' | 'stopped';
  seconds: number;
  artifacts: string;
}

export function summaryRows(outcomes: PlanOutcome[], describe: (o: PlanOutcome) => { arch: string; kernel: string; artifacts: string }): SummaryRow[] {
  return outcomes.map((o) => ({
    ...describe(o),
    result: o.error ? (o.stopped ? 'stopped' : 'failed') : o.plan.cached ? 'cached' : 'built',
    seconds: o.seconds,
  }));
}

export function printSummary(rows: SummaryRow[]): void {
  const head = { arch: 'arch', kernel: 'kernel', result: 'result', seconds: 'time', artifacts: 'artifacts' };
  const cells = rows.map((r) => ({ arch: r.arch, kernel: r.kernel, result: r.result, seconds: secs(r.seconds), artifacts: r.artifacts }));
  const cols = ['arch', 'kernel', 'result', 'seconds', 'artifacts'] as const;
  const width = Object.fromEntries(cols.map((c) => [c, Math.max(head[c].length, ...cells.map((r) => r[c].length))]));
  const line = (r: Record<(typeof cols)[number], string>) => `  ${cols.map((c) => (c === 'artifacts' ? r[c] : r[c].padEnd(width[c]!))).join('  ')}`;
  info(line(head));
  for (const r of cells) info(line(r));
}
