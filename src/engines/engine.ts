/**
 * The engine contract: where a recipe's RPMs are built. Every engine takes the same job (an rpmbuild tree with
 * the spec and its sources) and returns the steps that build the source RPM and the binary RPMs, the programs
 * they need and where the packages land. The planners of both recipe kinds call `ENGINES[name].plan(job)`; no
 * planner knows which engine it has. (Electron Forge's makers have the same shape: requiredExternalBinaries,
 * isSupportedOnCurrentPlatform, make.)
 */
import type { Arch } from '../arch.js';
import type { Host } from '../host.js';
import type { Step } from '../step.js';

export type EngineName = 'local' | 'mock' | 'copr';
export const ENGINE_NAMES: readonly EngineName[] = ['local', 'mock', 'copr'];
export type Mode = 'native' | 'cross';
export type RecipeKind = 'kmod' | 'spec';

export interface BuildJob {
  kind: RecipeKind;
  arch: Arch;
  mode: Mode;
  /** CROSS_COMPILE prefix (cross mode). */
  crossPrefix?: string;
  /** The rpmbuild tree: SPECS/ holds `spec`, SOURCES/ its sources. */
  topdir: string;
  spec: string;
  /** name-version-release of the source RPM the spec makes (with %{dist} empty). */
  srpmName: string;
  /** --define NAME VALUE pairs the spec's build needs wherever it runs (kernel_dir, reproducibility). */
  defines: Array<[string, string]>;
  /** --define pairs only this host's rpmbuild needs: stand-ins for the Fedora macros its rpm lacks. */
  hostDefines?: Array<[string, string]>;
  /** Environment of the binary build (the cross compiler for a spec recipe's Configure). */
  env?: Record<string, string>;
  /** Skip BuildRequires checks: the host's rpm database does not list its packages (Debian). */
  nodeps: boolean;
  /** Directory for results an engine downloads or collects (mock's resultdir, Copr's download). */
  results: string;
  /** mock config or Copr chroot. */
  chroot?: string;
  coprProject?: string;
  /** How long to wait for a remote build before giving up on it (it goes on remotely). */
  waitSeconds?: number;
  hostArch: Arch | undefined;
}

export interface EngineOutput {
  steps: Step[];
  /** Globs of every file the build makes (binary RPMs and the source RPM), for publishing. */
  artifacts: string[];
  /** Directory the binary RPMs for the target architecture land in. */
  binaries: string;
  /** Programs the steps run, directly or through rpmbuild (checked before anything runs). */
  requires: string[];
  warnings: string[];
}

export interface Engine {
  name: EngineName;
  /** Why this engine cannot build the job on this host, or undefined when it can. */
  unsupported(job: Pick<BuildJob, 'kind' | 'arch' | 'chroot' | 'coprProject'>, host: Host): string | undefined;
  /** The programs it runs: what doctor and the preflight check. */
  requiredPrograms(job: Pick<BuildJob, 'mode' | 'crossPrefix'>): string[];
  plan(job: BuildJob): EngineOutput;
}

/**
 * `--define NAME VALUE` arguments. rpm expands `%` in a macro's body each time it is used, so values from users
 * (paths) are checked plain before planning; bodies with macros are armkit's own (the Fedora macro stand-ins).
 */
export function defineArgs(defines: Array<[string, string]>): string[] {
  return defines.flatMap(([name, value]) => {
    if (/[\n\r]/.test(value)) throw new Error(`internal: --define ${name} holds a newline`);
    return ['--define', `${name} ${value}`];
  });
}

/** The source RPM step every engine starts from: rpmbuild -bs with %{dist} empty, so its name is the job's. */
export function srpmStep(job: BuildJob): Step {
  return {
    kind: 'exec',
    title: `rpmbuild -bs: ${job.srpmName}.src.rpm`,
    argv: [
      'rpmbuild',
      '-bs',
      '--define',
      `_topdir ${job.topdir}`,
      ...defineArgs([...(job.hostDefines ?? []), ...job.defines]),
      '--define',
      'dist %{nil}',
      ...(job.nodeps ? ['--nodeps'] : []),
      job.spec,
    ],
    log: 'rpmbuild-srpm.log',
  };
}
