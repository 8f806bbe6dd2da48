/**
 * Plan for `armkit build openssl`: the distribution's own source RPM, its spec patched for the cryptodev engine
 * (src/spec), a new source RPM, then binary RPMs from one of three engines: rpmbuild here (`local`), a Fedora
 * chroot (`mock`), or Fedora's build service (`copr`). Pure: the unpacked SRPM and the patch result are inputs.
 */
import { join } from 'node:path';
import type { Arch } from '../arch.js';
import type { PatchResult } from '../spec/openssl.js';
import type { Plan, Step } from './step.js';
import type { Mode } from './cryptodev.js';

export type BuildEngine = 'local' | 'mock' | 'copr';

export interface OpensslBuildInput {
  arch: Arch;
  mode: Mode;
  crossPrefix?: string;
  engine: BuildEngine;
  /** The input source RPM, for the manifest. */
  srpm: string;
  /** The SRPM's files other than its spec (sources, patches). */
  sourcesDir: string;
  specName: string;
  patched: PatchResult;
  /** name-version-release of the new source RPM, as rpm expands it with %{dist} empty. */
  srpmNvr: string;
  /** --define arguments for the Fedora macros this host's rpm lacks (empty on Fedora). */
  hostMacros: string[];
  /** A usr/include holding crypto/cryptodev.h for a local build, given to the compiler through CPATH. */
  includeDir?: string;
  diff: string;
  nodeps: boolean;
  /** mock config or Copr chroot (mock, copr). */
  chroot?: string;
  /** owner/project on Copr. */
  coprProject?: string;
  /** The host can run the target's binaries natively (mock then needs no --forcearch). */
  hostArch: Arch | undefined;
  work: string;
  outDir: string;
  armkitVersion: string;
}

export function planOpensslBuild(input: OpensslBuildInput): Plan {
  const { arch, patched, work } = input;
  const top = join(work, 'rpmbuild');
  const results = join(work, 'results');
  const logsDir = join(work, 'logs');
  const spec = join(top, 'SPECS', input.specName);
  const newSrpm = join(top, 'SRPMS', `${input.srpmNvr}.src.rpm`);
  const dest = join(input.outDir, 'openssl', patched.version, arch.rpm);
  const topdir = ['--define', `_topdir ${top}`];
  const warnings: string[] = [];
  const requires = ['rpmbuild', 'rpm'];

  const steps: Step[] = [
    { kind: 'remove', title: 'Clear the work directory', path: top },
    { kind: 'remove', title: 'Clear earlier results', path: results },
    { kind: 'remove', title: 'Clear earlier logs', path: logsDir },
    { kind: 'mkdir', title: 'Create the log directory', path: logsDir },
    { kind: 'copy', title: `Stage the sources of ${input.srpm.split('/').pop()}`, from: input.sourcesDir, to: join(top, 'SOURCES') },
    { kind: 'write', title: `Write the patched ${input.specName}`, path: spec, content: patched.text },
    { kind: 'write', title: 'Keep the spec diff with the logs', path: join(logsDir, `${input.specName}.diff`), content: input.diff },
  ];
  if (patched.config) {
    steps.push({ kind: 'write', title: `Write ${patched.config.file} (engine configuration)`, path: join(top, 'SOURCES', patched.config.file), content: patched.config.content });
  }
  steps.push({
    kind: 'exec',
    title: `rpmbuild -bs: ${input.srpmNvr}.src.rpm`,
    // %{dist} empty: the new source RPM's name does not depend on the host; the binary build expands it again.
    argv: ['rpmbuild', '-bs', ...topdir, ...input.hostMacros, '--define', 'dist %{nil}', ...(input.nodeps ? ['--nodeps'] : []), spec],
    log: 'rpmbuild-srpm.log',
  });

  let artifacts: string[];
  if (input.engine === 'local') {
    const argv = ['rpmbuild', '-bb', ...topdir, '--target', arch.rpm, ...input.hostMacros];
    let env: Record<string, string> | undefined;
    if (input.mode === 'cross') {
      const p = input.crossPrefix!;
      argv.push('--define', `__strip ${p}strip`, '--define', `__objdump ${p}objdump`);
      // OpenSSL's Configure takes the compiler and binutils from the environment, which rpmbuild passes through.
      env = { CC: `${p}gcc`, CXX: `${p}g++`, AR: `${p}ar`, RANLIB: `${p}ranlib`, NM: `${p}nm`, ...(input.includeDir ? { CPATH: input.includeDir } : {}) };
      requires.push(`${p}gcc`);
      warnings.push(`A cross build of a distribution's openssl.spec runs its %build on this host with ${p}gcc: it goes as far as the spec's own assumptions about the build host allow. mock or copr build it on ${arch.rpm} instead.`);
    } else {
      requires.push('gcc', 'make', 'perl');
      if (input.includeDir) env = { CPATH: input.includeDir };
    }
    if (input.nodeps) argv.push('--nodeps');
    argv.push(spec);
    steps.push({ kind: 'exec', title: `rpmbuild -bb for ${arch.rpm} (${input.mode})`, argv, ...(env ? { env } : {}), log: 'rpmbuild.log' });
    artifacts = [join(top, 'RPMS', arch.rpm, '*.rpm'), join(top, 'RPMS', 'noarch', '*.rpm'), newSrpm];
  } else if (input.engine === 'mock') {
    // Emulating a foreign architecture in the chroot needs qemu-user-static registered with binfmt_misc.
    const forcearch = input.hostArch !== arch ? ['--forcearch', arch.rpm] : [];
    steps.push({
      kind: 'exec',
      title: `mock -r ${input.chroot} --rebuild ${input.srpmNvr}.src.rpm`,
      argv: ['mock', '-r', input.chroot!, ...forcearch, '--resultdir', results, '--rebuild', newSrpm],
      log: 'mock.log',
    });
    requires.push('mock');
    artifacts = [join(results, '*.rpm')];
  } else {
    steps.push({ kind: 'copr-build', title: `Copr build in ${input.coprProject} (${input.chroot})`, project: input.coprProject!, chroot: input.chroot!, srpm: newSrpm, dest: results, log: 'copr.log' });
    requires.push('copr-cli');
    artifacts = [join(results, input.chroot!, '*.rpm')];
  }

  steps.push({
    kind: 'publish',
    title: `Publish to ${dest}`,
    artifacts,
    logsDir,
    dest,
    manifest: {
      recipe: 'openssl',
      package: patched.name,
      version: patched.version,
      ...(patched.epoch ? { epoch: patched.epoch } : {}),
      release: patched.release.after,
      arch: arch.rpm,
      mode: input.mode,
      engine: input.engine,
      ...(input.chroot ? { chroot: input.chroot } : {}),
      opensslEngine: { id: patched.engine, flags: patched.flags, check: patched.check, config: patched.config?.path ?? null },
      source: { kind: 'srpm', path: input.srpm, verified: false },
      sourceArchive: input.srpm,
      armkit: input.armkitVersion,
    },
  });

  return {
    summary: `openssl ${patched.version} (${patched.engine} engine) for ${arch.rpm} with ${input.engine === 'local' ? `rpmbuild (${input.mode})` : input.engine}`,
    logsDir,
    warnings,
    requires,
    steps,
  };
}
