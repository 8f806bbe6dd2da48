/**
 * The mock engine: the source RPM rebuilt in a Fedora chroot (`mock -r CONFIG --rebuild`), emulated with
 * qemu-user through `--forcearch` when the host is another architecture. The job's defines reach the chroot's
 * rpmbuild with mock's own --define.
 */
import { join } from 'node:path';
import { defineArgs, type Engine, srpmStep } from './engine.js';

export const mockEngine: Engine = {
  name: 'mock',
  unsupported(job) {
    if (!job.chroot) return `Fedora no longer builds for ${job.arch.rpm}: pass --chroot with a mock config that does (e.g. fedora-36-armhfp)`;
    return undefined;
  },
  requiredPrograms: () => ['rpmbuild', 'rpm', 'mock'],
  plan(job) {
    // Emulating a foreign architecture in the chroot needs qemu-user-static registered with binfmt_misc.
    const forcearch = job.hostArch !== job.arch ? ['--forcearch', job.arch.rpm] : [];
    const srpm = join(job.topdir, 'SRPMS', `${job.srpmName}.src.rpm`);
    return {
      steps: [
        srpmStep(job),
        {
          kind: 'exec',
          title: `mock -r ${job.chroot} --rebuild ${job.srpmName}.src.rpm`,
          argv: ['mock', '-r', job.chroot!, ...forcearch, '--resultdir', job.results, ...defineArgs(job.defines), '--rebuild', srpm],
          log: 'mock.log',
        },
      ],
      artifacts: [join(job.results, '*.rpm')],
      binaries: job.results,
      requires: ['rpmbuild', 'rpm', 'mock'],
      warnings: [],
    };
  },
};
