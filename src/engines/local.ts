/**
 * The local engine: rpmbuild on this host, natively or with a cross toolchain. `rpmbuild --target` changes the
 * arch and macros, not the tools: a cross build gets the cross strip and objdump (brp-strip fails on foreign
 * objects with the host's) and the job's environment (a spec recipe's Configure takes CC from it).
 */
import { join } from 'node:path';
import { RPM_BUILD_PROGRAMS } from '../prereqs.js';
import { defineArgs, type Engine } from './engine.js';

export const localEngine: Engine = {
  name: 'local',
  unsupported: () => undefined,
  requiredPrograms: () => RPM_BUILD_PROGRAMS,
  plan(job) {
    const argv = [
      'rpmbuild',
      '-ba',
      '--target',
      job.arch.rpm,
      '--define',
      `_topdir ${job.topdir}`,
      ...defineArgs([...(job.hostDefines ?? []), ...job.defines]),
    ];
    if (job.mode === 'cross') argv.push('--define', `__strip ${job.crossPrefix}strip`, '--define', `__objdump ${job.crossPrefix}objdump`);
    if (job.nodeps) argv.push('--nodeps');
    argv.push(job.spec);
    return {
      steps: [
        {
          kind: 'exec',
          title: `rpmbuild ${job.srpmName} for ${job.arch.rpm} (${job.mode === 'cross' ? `cross, ${job.crossPrefix}` : 'native'})`,
          argv,
          ...(job.env ? { env: job.env } : {}),
          log: 'rpmbuild.log',
        },
      ],
      artifacts: [join(job.topdir, 'RPMS', job.arch.rpm, '*.rpm'), join(job.topdir, 'RPMS', 'noarch', '*.rpm'), join(job.topdir, 'SRPMS', '*.src.rpm')],
      binaries: join(job.topdir, 'RPMS', job.arch.rpm),
      requires: RPM_BUILD_PROGRAMS,
      warnings: [],
    };
  },
};
