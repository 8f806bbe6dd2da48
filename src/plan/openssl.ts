/**
 * Plan for `armkit build openssl`: the distribution's own source RPM unpacked, its spec patched for the cryptodev
 * engine (src/rpmspec), then built by the chosen engine (src/engines: local rpmbuild, mock or Copr) and published.
 * Pure: the patch result and the facts probed from the source RPM are inputs.
 */
import { join } from 'node:path';
import type { Arch } from '../arch.js';
import type { EngineName, Mode } from '../engines/engine.js';
import { ENGINES } from '../engines/index.js';
import type { ManifestFacts } from '../manifest.js';
import type { PatchResult } from '../rpmspec/openssl.js';
import type { Plan, Step } from '../step.js';

export interface OpensslBuildInput {
  arch: Arch;
  mode: Mode;
  crossPrefix?: string;
  engine: EngineName;
  /** The input source RPM. */
  srpm: string;
  /** Spec files inside it, removed from SOURCES (the patched spec goes to SPECS). */
  specsInSrpm: string[];
  specName: string;
  patched: PatchResult;
  /** name-version-release of the new source RPM, as rpm expands it with %{dist} empty. */
  srpmNvr: string;
  /** [name, body] of the Fedora macros this host's rpm lacks (none on Fedora). */
  hostMacros: Array<[string, string]>;
  /** An armkit cryptodev build's devel RPM: unpacked, its usr/include is the compiler's CPATH (local engine). */
  cryptodevDevel?: string;
  diff: string;
  nodeps: boolean;
  chroot?: string;
  coprProject?: string;
  /** How long to wait for a Copr build before giving up on it (it goes on there). */
  waitSeconds?: number;
  hostArch: Arch | undefined;
  work: string;
  outDir: string;
  armkitVersion: string;
}

export function planOpensslBuild(input: OpensslBuildInput): Plan {
  const { arch, patched, work } = input;
  const top = join(work, 'rpmbuild');
  const logsDir = join(work, 'logs');
  const sources = join(top, 'SOURCES');
  const spec = join(top, 'SPECS', input.specName);
  const dest = join(input.outDir, 'openssl', patched.version, arch.rpm);
  const payload = join(work, 'srpm.cpio');
  const warnings: string[] = [];

  const steps: Step[] = [
    { kind: 'remove', title: 'Clear the work directory', path: work },
    { kind: 'mkdir', title: 'Create the log directory', path: logsDir },
    { kind: 'mkdir', title: 'Create rpmbuild/SOURCES', path: sources },
    { kind: 'exec', title: `Unpack ${input.srpm.split('/').pop()}`, argv: ['rpm2cpio', input.srpm], stdoutFile: payload, log: 'unpack.log' },
    {
      kind: 'exec',
      title: 'Extract its sources',
      argv: ['cpio', '-idm', '--quiet', '--no-absolute-filenames'],
      cwd: sources,
      stdinFile: payload,
      log: 'unpack.log',
    },
    { kind: 'remove', title: 'Drop the payload', path: payload },
    ...input.specsInSrpm.map((s): Step => ({ kind: 'remove', title: `Drop the original ${s} from SOURCES`, path: join(sources, s) })),
    { kind: 'write', title: `Write the patched ${input.specName}`, path: spec, content: patched.text },
    { kind: 'write', title: 'Keep the spec diff with the logs', path: join(logsDir, `${input.specName}.diff`), content: input.diff },
  ];
  if (patched.config) {
    steps.push({
      kind: 'write',
      title: `Write ${patched.config.file} (engine configuration)`,
      path: join(sources, patched.config.file),
      content: patched.config.content,
    });
  }

  let env: Record<string, string> | undefined;
  if (input.engine === 'local') {
    const include = input.cryptodevDevel ? join(work, 'cryptodev-devel', 'usr', 'include') : undefined;
    if (input.cryptodevDevel) {
      const devel = join(work, 'cryptodev-devel');
      steps.push(
        { kind: 'mkdir', title: 'Create the header directory', path: devel },
        {
          kind: 'exec',
          title: `Unpack crypto/cryptodev.h from ${input.cryptodevDevel.split('/').pop()}`,
          argv: ['rpm2cpio', input.cryptodevDevel],
          stdoutFile: join(devel, '.payload.cpio'),
          log: 'unpack.log',
        },
        {
          kind: 'exec',
          title: 'Extract the header',
          argv: ['cpio', '-idm', '--quiet', '--no-absolute-filenames'],
          cwd: devel,
          stdinFile: join(devel, '.payload.cpio'),
          log: 'unpack.log',
        },
      );
    }
    if (input.mode === 'cross') {
      const p = input.crossPrefix!;
      // OpenSSL's Configure takes the compiler and binutils from the environment, which rpmbuild passes through.
      env = { CC: `${p}gcc`, CXX: `${p}g++`, AR: `${p}ar`, RANLIB: `${p}ranlib`, NM: `${p}nm`, ...(include ? { CPATH: include } : {}) };
      warnings.push(
        `A cross build of a distribution's openssl.spec runs its %build on this host with ${p}gcc: it goes as far as the spec's own assumptions about the build host allow. mock or copr build it on ${arch.rpm} instead.`,
      );
    } else if (include) {
      env = { CPATH: include };
    }
  }
  const engine = ENGINES[input.engine].plan({
    kind: 'spec',
    arch,
    mode: input.mode,
    crossPrefix: input.crossPrefix,
    topdir: top,
    spec,
    srpmName: input.srpmNvr,
    defines: [],
    hostDefines: input.hostMacros,
    ...(env ? { env } : {}),
    nodeps: input.nodeps,
    results: join(work, 'results'),
    chroot: input.chroot,
    coprProject: input.coprProject,
    ...(input.waitSeconds ? { waitSeconds: input.waitSeconds } : {}),
    hostArch: input.hostArch,
  });
  steps.push(...engine.steps);

  const manifest: ManifestFacts = {
    recipe: 'openssl',
    kind: 'spec',
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
    armkit: input.armkitVersion,
  };
  steps.push({ kind: 'publish', title: `Publish to ${dest}`, artifacts: engine.artifacts, logsDir, dest, manifest, sourceArchive: input.srpm });

  const localTools = input.engine === 'local' ? (input.mode === 'cross' ? [`${input.crossPrefix}gcc`] : ['gcc', 'make', 'perl']) : [];
  return {
    summary: `openssl ${patched.version} (${patched.engine} engine) for ${arch.rpm} with ${input.engine === 'local' ? `rpmbuild (${input.mode})` : input.engine}`,
    logsDir,
    warnings: [...warnings, ...engine.warnings],
    requires: [...engine.requires, 'rpm2cpio', 'cpio', ...localTools, ...(input.engine === 'local' ? ['patch'] : [])],
    locks: [work, dest],
    steps,
  };
}
