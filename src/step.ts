/**
 * The step vocabulary. A plan is an ordered list of steps: plain data, made without side effects. Each kind of
 * step has one entry in the registry (src/steps/index.ts) that runs it, prints it as shell and names the programs
 * it runs; the executor (src/run/execute.ts) and the dry-run printer (src/run/shell.ts) only read the registry,
 * so both read the same list the same way. A kind without an entry does not compile (StepKinds below).
 */
import type { Arch } from './arch.js';
import type { ArtifactRecord, ManifestFacts } from './manifest.js';
import type { Runner } from './proc/runner.js';

interface StepBase {
  /** One line for progress output. */
  title: string;
}

/** Runs a program. argv is never joined into a shell string. */
export interface ExecStep extends StepBase {
  kind: 'exec';
  argv: string[];
  cwd?: string;
  env?: Record<string, string>;
  /** Log file name (under the plan's log directory) that receives the full output. */
  log: string;
  /** Redirects: stdin from a file, stdout into a file (the log then gets stderr only). */
  stdinFile?: string;
  stdoutFile?: string;
  /**
   * Failures that have a cause worth naming: when the command fails and its output matches `pattern` (a regular
   * expression's source), the error is `message` (one sentence: what failed and what to do), with the command's
   * last lines under it, instead of "Command failed".
   */
  explain?: Array<{ pattern: string; message: string }>;
}

export interface MkdirStep extends StepBase {
  kind: 'mkdir';
  path: string;
}

/** Removes a path so a step starts from nothing (work directories, partial downloads). */
export interface RemoveStep extends StepBase {
  kind: 'remove';
  path: string;
}

/** Points a symbolic link at a target (replacing what was there): a fixed path for a directory that moves. */
export interface SymlinkStep extends StepBase {
  kind: 'symlink';
  path: string;
  target: string;
}

export interface RenameStep extends StepBase {
  kind: 'rename';
  from: string;
  to: string;
}

/** Downloads url to dest unless dest already has the sha256; then verifies it. */
export interface FetchStep extends StepBase {
  kind: 'fetch';
  url: string;
  dest: string;
  sha256: string;
}

export interface VerifyStep extends StepBase {
  kind: 'verify';
  path: string;
  sha256: string;
}

export interface CopyStep extends StepBase {
  kind: 'copy';
  from: string;
  to: string;
  mode?: number;
  /** A missing source is skipped instead of failing (kernel module directories vary by architecture). */
  optional?: boolean;
  /** Copy what a symlink points to, not the link (shared libraries into a guest). */
  dereference?: boolean;
}

/** Unpacks a .tar.* archive into dest, dropping its top directory. */
export interface UnpackStep extends StepBase {
  kind: 'unpack';
  archive: string;
  dest: string;
}

/** Packs a directory into a .tar.gz whose entries sit under `prefix/` (a local source tree made into Source0). */
export interface PackStep extends StepBase {
  kind: 'pack';
  dir: string;
  archive: string;
  prefix: string;
  /** Every entry's modification time (SOURCE_DATE_EPOCH, seconds): the same tree gives the same archive. */
  mtime?: number;
}

/** Writes a file whose content the planner already rendered (from a template). */
export interface WriteStep extends StepBase {
  kind: 'write';
  path: string;
  content: string;
  mode?: number;
}

/** Replaces text in a file; fails if the text is absent, so a changed upstream layout is noticed. */
export interface EditStep extends StepBase {
  kind: 'edit';
  path: string;
  search: string;
  replace: string;
}

/** Extracts every .deb in a directory into one root (dpkg-deb -x). */
export interface ExtractDebsStep extends StepBase {
  kind: 'extract-debs';
  dir: string;
  root: string;
}

/** Extracts the members of a tar archive whose paths start with one of `include` (dpkg-deb --fsys-tarfile output). */
export interface ExtractTarStep extends StepBase {
  kind: 'extract-tar';
  archive: string;
  dest: string;
  include: string[];
}

/** Packs a directory as a gzipped newc cpio archive: an initramfs. */
export interface PackInitramfsStep extends StepBase {
  kind: 'pack-initramfs';
  root: string;
  archive: string;
}

/**
 * Boots a guest in QEMU, its serial console into `serialLog`. QEMU's exit status is no verdict on the checks (the
 * serial log is): the step fails only when QEMU could not start the guest, with QEMU's own words.
 */
export interface BootGuestStep extends StepBase {
  kind: 'boot-guest';
  argv: string[];
  serialLog: string;
  /** Log file name (under the plan's log directory) for QEMU's own messages. */
  log: string;
  /** Stop the guest after this long (one that never powers off). */
  timeoutSeconds: number;
}

/** Reads the guest's serial log and reports each check; fails when one failed or never reported. */
export interface GuestReportStep extends StepBase {
  kind: 'guest-report';
  serialLog: string;
  /** Checks the guest must report, in order. */
  expected: string[];
  /** Checks that could not run, with the reason: reported, never counted as passed. */
  skipped: Array<{ name: string; reason: string }>;
  /** Where to copy the serial log and the report (the packages' logs/ directory). */
  publishTo?: string;
}

/**
 * Submits a source RPM to Copr and fetches the results: `copr-cli build --nowait` prints the build id, which the
 * watch and download commands then name.
 */
export interface CoprBuildStep extends StepBase {
  kind: 'copr-build';
  project: string;
  chroot: string;
  srpm: string;
  dest: string;
  log: string;
  /** How long to wait for the build (default: six hours); it goes on on Copr after armkit stops waiting. */
  waitSeconds?: number;
}

/** Checks that a kernel header tree is for the target architecture and release. */
export interface CheckHeadersStep extends StepBase {
  kind: 'check-headers';
  dir: string;
  arch: Arch;
  release: string;
}

/** Checks a built kernel module: ELF machine of the target, vermagic naming the kernel release. */
export interface CheckModuleStep extends StepBase {
  kind: 'check-module';
  /** The .ko file, or an RPM whose payload holds exactly one module at `moduleInRpm`. */
  path: string;
  arch: Arch;
  /**
   * The kernel release the module must name; KERNEL_RELEASE when only the build knew it (a chroot's newest
   * kernel-devel): then it is read from the kmod package's name, after `packagePrefix`.
   */
  release: string;
  packagePrefix?: string;
  /** The module must carry a signature that this certificate's key made over it (module signing). */
  signature?: { certPem: string; signer: string };
  /** Path of the module inside the RPM's payload, when `path` is an RPM (KERNEL_RELEASE replaced as above). */
  moduleInRpm?: string;
  /** Scratch directory for unpacking the RPM payload. */
  scratch?: string;
}

/**
 * Signs a built module in place with the kernel's sign-file, with the hash the kernel's CONFIG_MODULE_SIG_HASH names
 * (read when the step runs: the header tree may be extracted by an earlier step), sha256 when it names none.
 */
export interface SignModuleStep extends StepBase {
  kind: 'sign-module';
  module: string;
  /** The sign-file program: the tree's scripts/sign-file, or one built for this host. */
  signFile: string;
  key: string;
  cert: string;
  kernelDir: string;
}

/** Moves the staged results into the output directory in one rename and writes manifest.json last. */
export interface PublishStep extends StepBase {
  kind: 'publish';
  /** Files to publish: absolute paths or globs (`*` within one path component). */
  artifacts: string[];
  logsDir: string;
  dest: string;
  /** Facts recorded in manifest.json besides the artifacts. */
  manifest: ManifestFacts;
  /** The source archive whose sha256 the manifest records when the facts do not have it yet. */
  sourceArchive?: string;
  /** What rpm said of these files before (a cached build's manifest): no need to ask it again. */
  known?: ArtifactRecord[];
  /**
   * When `dest` and the manifest hold KERNEL_RELEASE (a chroot's newest kernel-devel), the release is read from the
   * name of the published package that starts with this prefix (kmod-NAME-).
   */
  releaseFrom?: string;
}

/** Stands for a kernel release only the build itself learns (a chroot's newest kernel-devel). */
export const KERNEL_RELEASE = '@KERNEL_RELEASE@';

/**
 * Runs `openssl speed` (armkit bench crypto): for each block size (`-bytes`, one process each; none: openssl's own
 * sizes in one process) the runs of the step at the same time, each wrapped in `sh` so that `times` reports the CPU
 * (user and system) it used. Output per run and size in `outputDir`; while it runs, which processes hold
 * /dev/crypto open and which interrupts fire are recorded (the engine's evidence).
 */
export interface OpensslSpeedStep extends StepBase {
  kind: 'openssl-speed';
  runs: Array<{ label: string; argv: string[] }>;
  sizes: number[];
  outputDir: string;
  log: string;
  timeoutSeconds: number;
}

/**
 * Times a build (armkit bench build): `clean` then `argv`, first `warmup` times untimed, then `runs` times each
 * timed on its own. The result is the seconds of each run (BuildTimes).
 */
export interface TimedBuildStep extends StepBase {
  kind: 'timed-build';
  argv: string[];
  /** Run before every build, untimed, so each run compiles everything again. */
  clean: string[];
  cwd?: string;
  env?: Record<string, string>;
  warmup: number;
  runs: number;
  log: string;
}

/** Reads the build times a guest printed (`ARMKIT:BUILD label start end status` lines) from its serial log. */
export interface GuestTimingsStep extends StepBase {
  kind: 'guest-timings';
  serialLog: string;
  warmup: number;
  runs: number;
}

export type Step =
  | ExecStep
  | MkdirStep
  | RemoveStep
  | RenameStep
  | SymlinkStep
  | FetchStep
  | VerifyStep
  | CopyStep
  | UnpackStep
  | PackStep
  | WriteStep
  | EditStep
  | ExtractDebsStep
  | ExtractTarStep
  | PackInitramfsStep
  | BootGuestStep
  | GuestReportStep
  | CoprBuildStep
  | CheckHeadersStep
  | CheckModuleStep
  | SignModuleStep
  | PublishStep
  | OpensslSpeedStep
  | TimedBuildStep
  | GuestTimingsStep;

export interface Plan {
  /** What the plan makes, for humans: "cryptodev 1.14 for aarch64 (cross) against Linux 6.1.0-56-arm64". */
  summary: string;
  /** Directory that receives every exec step's log. */
  logsDir: string;
  /** Things the user should know before it runs (no checksum for --source, ...). */
  warnings: string[];
  /** Programs the plan runs, directly or through make and rpmbuild: checked before the first step. */
  requires: string[];
  /** Paths no other armkit process may use while the plan runs (its work directory, its out/ destination). */
  locks?: string[];
  /** The plan publishes a build from the cache instead of building. */
  cached?: boolean;
  steps: Step[];
}

export type StepOf<K extends Step['kind']> = Extract<Step, { kind: K }>;

/** What a step gets when it runs. */
export interface StepContext {
  /** Directory that receives every command's log. */
  logsDir: string;
  runner: Runner;
  verbose: boolean;
  signal?: AbortSignal;
  /** Tells the user something while a step runs (goes to the progress output). */
  note(message: string): void;
}

/** How one kind of step runs, prints itself and what it needs. */
export interface StepKind<S extends Step> {
  /** Carries the step out; what it returns is the step's result (a manifest, the guest's checks). */
  run(step: S, ctx: StepContext): Promise<unknown>;
  /** The same step as POSIX shell, for --dry-run: what a user can paste to do it by hand. */
  shell(step: S, logsDir: string): string;
  /** Programs the step itself runs (checked before the first step of a plan). */
  programs(step: S): string[];
}

/** Every kind, exactly once: a kind added to Step without an entry here is a compile error. */
export type StepKinds = { [K in Step['kind']]: StepKind<StepOf<K>> };

/** Every program a plan runs: what it names itself (through rpmbuild, make) and what its steps run. */
export function programsOf(plan: Plan, kinds: StepKinds): string[] {
  return [...new Set([...plan.requires, ...plan.steps.flatMap((s) => (kinds[s.kind] as StepKind<Step>).programs(s))])];
}
