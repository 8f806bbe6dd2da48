/** The step kinds of a guest test: pack the initramfs, boot QEMU, read the checks from the serial console. */
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArmkitError } from '../errors.js';
import { comment, shellQuote as q } from '../proc/quote.js';
import type { StepKinds } from '../step.js';
import { judgeBoot } from './boot.js';
import { packInitramfs } from './cpio.js';
import { formatResults, parseSerialLog, summarize } from './report.js';

export const GUEST_STEPS: Pick<StepKinds, 'pack-initramfs' | 'boot-guest' | 'guest-report'> = {
  'pack-initramfs': {
    async run(step) {
      packInitramfs(step.root, step.archive);
    },
    shell: (step) => `(cd ${q(step.root)} && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1) > ${q(step.archive)}`,
    programs: () => [],
  },
  'boot-guest': {
    async run(step, ctx) {
      const log = join(ctx.logsDir, step.log);
      const outcome = await ctx.runner.attempt(step.argv, { logFile: log, stdoutFile: step.serialLog, echo: ctx.verbose, timeoutSeconds: step.timeoutSeconds });
      const serial = existsSync(step.serialLog) ? readFileSync(step.serialLog, 'utf8') : '';
      const failure = judgeBoot(step.argv[0]!, outcome, serial, log);
      if (failure) throw failure;
      if (outcome.timedOut) ctx.note(`the guest did not power off within ${step.timeoutSeconds} s and was stopped`);
    },
    shell: (step, logsDir) =>
      `timeout ${step.timeoutSeconds} ${step.argv.map(q).join(' ')} > ${q(step.serialLog)} 2>> ${q(join(logsDir, step.log))} || true  ${comment('its exit status is no verdict')}`,
    programs: (step) => [step.argv[0]!],
  },
  'guest-report': {
    async run(step, ctx) {
      const text = existsSync(step.serialLog) ? readFileSync(step.serialLog, 'utf8') : '';
      const results = parseSerialLog(text, step.expected, step.skipped);
      if (step.publishTo) {
        mkdirSync(step.publishTo, { recursive: true });
        if (existsSync(step.serialLog)) cpSync(step.serialLog, join(step.publishTo, 'test-serial.log'));
        writeFileSync(join(step.publishTo, 'test-report.json'), `${JSON.stringify({ summary: summarize(results), results }, null, 2)}\n`);
      }
      ctx.note(summarize(results));
      const failed = results.filter((r) => r.status === 'fail');
      if (failed.length > 0) {
        throw new ArmkitError('verification', `${failed.length} check(s) failed in the guest: ${failed.map((r) => r.name).join(', ')}.`, {
          details: formatResults(results),
          logFile: step.serialLog,
          payload: { summary: summarize(results), results },
        });
      }
      return results;
    },
    shell: (step) =>
      [
        `grep -a '^ARMKIT:CHECK' ${q(step.serialLog)}  ${comment(`every one of: ${step.expected.join(' ')} must say pass`)}`,
        ...step.skipped.map((s) => comment(`could not run: ${s.name}: ${s.reason}`)),
      ].join('\n'),
    programs: () => [],
  },
};
