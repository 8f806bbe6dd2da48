/**
 * The Copr engine: the source RPM submitted to Fedora's build service (native builders per chroot), watched
 * until it ends and its results downloaded. Its step kind lives here: `copr-cli build --nowait` prints the build
 * id, which the watch and download commands then name.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ArmkitError } from '../errors.js';
import { comment, globPath, shellQuote as q } from '../proc/quote.js';
import { tail } from '../proc/runner.js';
import type { StepKinds } from '../step.js';
import { type Engine, srpmStep } from './engine.js';

export const coprEngine: Engine = {
  name: 'copr',
  unsupported(job) {
    if (!job.chroot) return `Fedora no longer builds for ${job.arch.rpm}: pass --chroot with a Copr chroot that does`;
    if (!job.coprProject) return '--engine copr needs --copr-project OWNER/PROJECT (a Copr project you may build in)';
    return undefined;
  },
  requiredPrograms: () => ['rpmbuild', 'rpm', 'copr-cli'],
  plan(job) {
    const srpm = join(job.topdir, 'SRPMS', `${job.srpmName}.src.rpm`);
    return {
      steps: [
        srpmStep(job),
        {
          kind: 'copr-build',
          title: `Copr build in ${job.coprProject} (${job.chroot})`,
          project: job.coprProject!,
          chroot: job.chroot!,
          srpm,
          dest: job.results,
          log: 'copr.log',
          ...(job.waitSeconds ? { waitSeconds: job.waitSeconds } : {}),
        },
      ],
      artifacts: [join(job.results, job.chroot!, '*.rpm')],
      binaries: join(job.results, job.chroot!),
      requires: ['rpmbuild', 'rpm', 'copr-cli'],
      warnings: [],
    };
  },
};

/** copr-cli reads its API token from ~/.config/copr: say so before anything is built. */
export function assertCoprConfig(home = homedir()): void {
  const config = join(home, '.config', 'copr');
  if (existsSync(config)) return;
  throw new ArmkitError('prerequisite', `copr-cli has no API token: ${config} does not exist.`, {
    details: [
      'Log in at https://copr.fedorainfracloud.org, open API in the menu (https://copr.fedorainfracloud.org/api/), and save the text it shows as ~/.config/copr.',
    ],
  });
}

/** How long armkit waits for a Copr build by default (builds queue for a while on busy days). */
export const DEFAULT_WAIT_SECONDS = 6 * 3600;

/** Where a Copr build's page, with its logs, is. */
export function coprBuildUrl(project: string, id: string): string {
  return `https://copr.fedorainfracloud.org/coprs/${project}/build/${id}/`;
}

export const COPR_STEPS: Pick<StepKinds, 'copr-build'> = {
  'copr-build': {
    async run(step, ctx) {
      const submit = await ctx.runner.capture(['copr-cli', 'build', '--nowait', '-r', step.chroot, step.project, step.srpm]);
      const id = /Created builds?:\s*(\d+)/.exec(submit.stdout)?.[1];
      if (submit.exitCode !== 0 || !id) {
        throw new ArmkitError('step-failed', `copr-cli build did not start a build in ${step.project} (${step.chroot}).`, {
          details: tail(`${submit.stdout}\n${submit.stderr}`),
        });
      }
      const url = coprBuildUrl(step.project, id);
      ctx.note(`Copr build ${id}: ${url}`);
      const log = join(ctx.logsDir, step.log);
      const watched = await ctx.runner.attempt(['copr-cli', 'watch-build', id], {
        logFile: log,
        echo: ctx.verbose,
        timeoutSeconds: step.waitSeconds ?? DEFAULT_WAIT_SECONDS,
      });
      if (watched.timedOut) {
        throw new ArmkitError(
          'step-failed',
          `Copr build ${id} did not finish within ${step.waitSeconds ?? DEFAULT_WAIT_SECONDS} s; it goes on on Copr: ${url}`,
          {
            details: [`Fetch its results later with "copr-cli download-build -r ${step.chroot} ${id}".`],
            logFile: log,
          },
        );
      }
      if (watched.exitCode !== 0) {
        throw new ArmkitError('step-failed', `Copr build ${id} failed: its logs are at ${url}`, { details: watched.tail, logFile: log });
      }
      await ctx.runner.run(['copr-cli', 'download-build', '-r', step.chroot, '--dest', step.dest, id], { logFile: log, echo: ctx.verbose });
      return { buildId: id, url };
    },
    shell: (step, logsDir) =>
      [
        `id=$(copr-cli build --nowait -r ${q(step.chroot)} ${q(step.project)} ${globPath(step.srpm)} | sed -n 's/^Created builds*: *//p')  ${comment('the build id')}`,
        `copr-cli watch-build "$id" >> ${q(join(logsDir, step.log))} 2>&1`,
        `copr-cli download-build -r ${q(step.chroot)} --dest ${q(step.dest)} "$id" >> ${q(join(logsDir, step.log))} 2>&1`,
      ].join('\n'),
    programs: () => ['copr-cli'],
  },
};
