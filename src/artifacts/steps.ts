/** The step kinds of armkit's artifacts: verified downloads and checksums, and the atomic publish into out/. */
import { dirname, join } from 'node:path';
import { comment, globPath, shellQuote as q } from '../proc/quote.js';
import type { StepKinds } from '../step.js';
import { fetchVerified, verifyFile } from './fetch.js';
import { publish } from './publish.js';

export const ARTIFACT_STEPS: Pick<StepKinds, 'fetch' | 'verify' | 'publish'> = {
  fetch: {
    async run(step, ctx) {
      if (await fetchVerified(step.url, step.dest, step.sha256, ctx.signal)) ctx.note('cached, sha256 verified');
    },
    shell: (step) =>
      [
        `if ! echo ${q(`${step.sha256}  ${step.dest}`)} | sha256sum -c --status - 2>/dev/null; then`,
        `  mkdir -p ${q(dirname(step.dest))} && curl -fL -o ${q(`${step.dest}.part`)} ${q(step.url)}`,
        `  echo ${q(`${step.sha256}  ${step.dest}.part`)} | sha256sum -c - && mv ${q(`${step.dest}.part`)} ${q(step.dest)}`,
        'fi',
      ].join('\n'),
    programs: () => [],
  },
  verify: {
    async run(step) {
      await verifyFile(step.path, step.sha256);
    },
    shell: (step) => `echo ${q(`${step.sha256}  ${step.path}`)} | sha256sum -c -`,
    programs: () => [],
  },
  publish: {
    run: (step) => publish(step),
    shell: (step) =>
      [
        // armkit swaps the whole directory in one rename; the script replaces it too.
        `rm -rf ${q(step.dest)} && mkdir -p ${q(step.dest)} && cp ${step.artifacts.map(globPath).join(' ')} ${q(step.dest)}/`,
        `cp -r ${q(step.logsDir)} ${q(join(step.dest, 'logs'))}`,
        comment(`armkit then writes ${join(step.dest, 'manifest.json')} (name, version, release, arch, size, sha256 of each file)`),
      ].join('\n'),
    // The packages' names and versions are read from their headers in-process (rpm-file.ts).
    programs: () => [],
  },
};
