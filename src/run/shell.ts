/**
 * Prints a plan as a shell script a user can paste: each step in the form its kind gives (exec steps exactly as
 * the executor runs them, armkit's own steps as the equivalent commands).
 */
import { comment } from '../proc/quote.js';
import { KERNEL_RELEASE, type Plan, programsOf, type Step, type StepKind, type StepKinds } from '../step.js';

export function stepToShell(step: Step, logsDir: string, kinds: StepKinds): string {
  return (kinds[step.kind] as StepKind<Step>).shell(step, logsDir);
}

export function planToShell(plan: Plan, kinds: StepKinds): string {
  const lines = [
    '#!/bin/sh',
    comment(`armkit plan: ${plan.summary}`),
    ...plan.warnings.map((w) => comment(`warning: ${w}`)),
    comment(`needs: ${programsOf(plan, kinds).join(' ')}`),
    'set -eu',
  ];
  for (const step of plan.steps) lines.push('', comment(step.title), stepToShell(step, plan.logsDir, kinds));
  // A kernel release only the build learns: the check-module step sets $KERNEL_RELEASE, every quoted use reads it.
  return `${lines.join('\n')}\n`.replaceAll(KERNEL_RELEASE, `'"\${KERNEL_RELEASE}"'`);
}
