/** What commands print: results on stdout (JSON or a script), everything for humans on stderr. */
import type { Plan } from '../plan/step.js';
import { planToShell } from '../run/shell.js';

export function warn(message: string): void {
  process.stderr.write(`armkit: warning: ${message}\n`);
}

export function info(message: string): void {
  process.stderr.write(`${message}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, (key, v) => (key === 'arch' && v && typeof v === 'object' && 'rpm' in v ? v.rpm : v), 2)}\n`);
}

/** --dry-run: the script on stdout, or with --json the plan as data. */
export function printPlan(plan: Plan, json: boolean): void {
  if (json) printJson({ ok: true, dryRun: true, plan });
  else process.stdout.write(planToShell(plan));
}
