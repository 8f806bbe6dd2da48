/**
 * The one way armkit runs an external program: argv arrays (never a shell string), each command in a process
 * group of its own (src/run/groups.ts) that an interrupt or timeout ends as a whole, full output to a log file,
 * and on failure an error carrying the command's last lines and the log's path.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ArmkitError } from '../errors.js';
import { register, release, terminateGroup } from './groups.js';
import { shellQuote } from './quote.js';

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Receives stdout and stderr as they come. */
  logFile?: string;
  stdinFile?: string;
  /** stdout goes here instead of the log. */
  stdoutFile?: string;
  /** Also copy the output to armkit's stderr (--verbose). */
  echo?: boolean;
  /** Stop the program (its whole group) after this many seconds. */
  timeoutSeconds?: number;
}

/** How a command ended, for callers that judge it themselves (a guest's QEMU). */
export interface RunOutcome {
  exitCode: number | undefined;
  signal: string | undefined;
  timedOut: boolean;
  /** The last lines it printed (stderr only when stdout went to a file). */
  tail: string[];
}

export interface CaptureResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface Runner {
  /** Runs to completion; a non-zero exit throws a step-failed ArmkitError. */
  run(argv: string[], options?: RunOptions): Promise<void>;
  /** Runs to completion and reports how it ended; only an interrupt or a missing program throws. */
  attempt(argv: string[], options?: RunOptions): Promise<RunOutcome>;
  /** Runs a probe and hands back its output whatever the exit code. */
  capture(argv: string[], options?: Pick<RunOptions, 'cwd' | 'env'>): Promise<CaptureResult>;
}

const TAIL_LINES = 25;

export function tail(text: string, lines = TAIL_LINES): string[] {
  const all = text.replace(/\s+$/, '').split('\n');
  return all.slice(-lines);
}

type Execa = typeof import('execa').execa;
type Child = ReturnType<Execa>;

/**
 * Starts a command as the leader of a new process group and ties the group's life to the abort signal and the
 * timeout: either ends every member, not only the leader.
 */
function supervise(child: Child, signal: AbortSignal | undefined, timeoutSeconds: number | undefined): { timedOut: () => boolean; done: () => void } {
  const pgid = child.pid;
  let timedOut = false;
  if (pgid === undefined) return { timedOut: () => false, done: () => {} };
  register(pgid);
  const stop = () => void terminateGroup(pgid);
  signal?.addEventListener('abort', stop, { once: true });
  const timer = timeoutSeconds
    ? setTimeout(() => {
        timedOut = true;
        stop();
      }, timeoutSeconds * 1000)
    : undefined;
  return {
    timedOut: () => timedOut,
    done: () => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', stop);
      release(pgid);
    },
  };
}

// execa is imported on first use: a dry run or --help never pays for loading it.
export function createRunner(signal?: AbortSignal): Runner {
  const interrupted = (file: string) => new ArmkitError('interrupted', `Interrupted while running ${file}.`);

  async function attempt(argv: string[], options: RunOptions = {}): Promise<RunOutcome> {
    const [file, ...args] = argv;
    if (!file) throw new Error('runner: empty argv');
    if (signal?.aborted) throw interrupted(file);
    let log: ReturnType<typeof createWriteStream> | undefined;
    if (options.logFile) {
      mkdirSync(dirname(options.logFile), { recursive: true });
      // Appended: several commands of one step (or plan) may share a log, as the dry-run script's >> does.
      log = createWriteStream(options.logFile, { flags: 'a' });
      log.write(`$ ${argv.map(shellQuote).join(' ')}\n${options.cwd ? `# in ${options.cwd}\n` : ''}`);
    }
    const { execa } = await import('execa');
    const child = execa(file, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      // Output streams to the log as it comes; only a bounded tail is kept for the error message, so a
      // program writing hundreds of megabytes (dpkg-deb --fsys-tarfile) costs no memory.
      all: !options.stdoutFile,
      buffer: false,
      reject: false,
      stdin: options.stdinFile ? { file: options.stdinFile } : 'ignore',
      stdout: options.stdoutFile ? { file: options.stdoutFile } : 'pipe',
    });
    const watch = supervise(child, signal, options.timeoutSeconds);
    const output = options.stdoutFile ? child.stderr : child.all;
    let recent = '';
    output?.on('data', (chunk: Buffer) => {
      recent = (recent + chunk.toString()).slice(-16384);
    });
    if (log) output?.pipe(log, { end: false });
    if (options.echo) output?.pipe(process.stderr, { end: false });
    const result = await child;
    watch.done();
    if (log) await new Promise<void>((done) => log!.end(done));
    if (signal?.aborted) throw interrupted(file);
    if (result.code === 'ENOENT') {
      throw new ArmkitError('prerequisite', `${file} not found: it is needed to run: ${argv.map(shellQuote).join(' ')}`);
    }
    return { exitCode: result.exitCode, signal: result.signal, timedOut: watch.timedOut(), tail: tail(recent) };
  }

  return {
    attempt,

    async run(argv, options = {}) {
      const outcome = await attempt(argv, options);
      const file = argv[0]!;
      if (outcome.timedOut) {
        throw new ArmkitError('step-failed', `${file} did not finish within ${options.timeoutSeconds} s and was stopped.`, {
          details: outcome.tail,
          logFile: options.logFile,
        });
      }
      if (outcome.exitCode !== 0) {
        const status = outcome.exitCode !== undefined ? `exit code ${outcome.exitCode}` : (outcome.signal ?? 'failure');
        throw new ArmkitError('step-failed', `Command failed (${status}): ${argv.map(shellQuote).join(' ')}`, {
          details: outcome.tail,
          logFile: options.logFile,
        });
      }
    },

    async capture(argv, options = {}) {
      const [file, ...args] = argv;
      if (!file) throw new Error('runner: empty argv');
      if (signal?.aborted) throw interrupted(file);
      const { execa } = await import('execa');
      const child = execa(file, args, { cwd: options.cwd, env: options.env, detached: true, reject: false, stdin: 'ignore' });
      const watch = supervise(child, signal, undefined);
      const result = await child;
      watch.done();
      if (signal?.aborted) throw interrupted(file);
      if (result.code === 'ENOENT') throw new ArmkitError('prerequisite', `${file} not found.`);
      return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
    },
  };
}
