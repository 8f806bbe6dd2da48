/**
 * The one way armkit runs an external program: argv arrays (never a shell string), each command in a process
 * group of its own (src/run/groups.ts) that an interrupt or timeout ends as a whole, full output to a log file,
 * and on failure an error carrying the command's last lines and the log's path.
 */
import { spawn } from 'node:child_process';
import { closeSync, createWriteStream, mkdirSync, openSync } from 'node:fs';
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

/** The pieces of a spawned child this module uses. */
type Child = ReturnType<typeof spawn>;

/**
 * Ties a command's process group to the abort signal and the timeout: either ends every member, not only the
 * leader.
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

/** Waits for a child to end; an ENOENT (no such program) is reported as `missing`. */
function ended(child: Child): Promise<{ code: number | null; signal: NodeJS.Signals | null; missing: boolean }> {
  return new Promise((done) => {
    let failed: NodeJS.ErrnoException | undefined;
    child.once('error', (error: NodeJS.ErrnoException) => {
      failed = error;
      if (child.pid === undefined) done({ code: null, signal: null, missing: error.code === 'ENOENT' });
    });
    child.once('close', (code, sig) => done({ code, signal: sig, missing: failed?.code === 'ENOENT' }));
    // A daemon the command started may keep its output pipes open: once the command itself has exited, its
    // output has a moment to drain, then the pipes are let go.
    child.once('exit', (code, sig) => {
      setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        done({ code, signal: sig, missing: false });
      }, 2000).unref();
    });
  });
}

/** The spawn environment: armkit's own, plus the step's variables. */
const withEnv = (env?: Record<string, string>) => (env ? { ...process.env, ...env } : process.env);

// child_process directly: it costs nothing to load, and armkit's start-up is most of an unchanged build's time.
export function createRunner(signal?: AbortSignal): Runner {
  const interrupted = (file: string) => new ArmkitError('interrupted', `Interrupted while running ${file}.`);
  const notFound = (file: string, argv: string[]) =>
    new ArmkitError('prerequisite', `${file} not found: it is needed to run: ${argv.map(shellQuote).join(' ')}`);

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
    const fds: number[] = [];
    const open = (path: string, flags: string) => {
      const fd = openSync(path, flags);
      fds.push(fd);
      return fd;
    };
    let child: Child;
    try {
      child = spawn(file, args, {
        cwd: options.cwd,
        env: withEnv(options.env),
        detached: true,
        stdio: [options.stdinFile ? open(options.stdinFile, 'r') : 'ignore', options.stdoutFile ? open(options.stdoutFile, 'w') : 'pipe', 'pipe'],
      });
    } finally {
      for (const fd of fds) closeSync(fd);
    }
    const watch = supervise(child, signal, options.timeoutSeconds);
    // Output streams to the log as it comes; only a bounded tail is kept for the error message, so a program
    // writing hundreds of megabytes (dpkg-deb --fsys-tarfile) costs no memory.
    let recent = '';
    const take = (chunk: Buffer) => {
      recent = (recent + chunk.toString()).slice(-16384);
      log?.write(chunk);
      if (options.echo) process.stderr.write(chunk);
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
    const end = await ended(child);
    watch.done();
    if (log) await new Promise<void>((done) => log!.end(done));
    if (signal?.aborted) throw interrupted(file);
    if (end.missing) throw notFound(file, argv);
    return { exitCode: end.code ?? undefined, signal: end.signal ?? undefined, timedOut: watch.timedOut(), tail: tail(recent) };
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
      const child = spawn(file, args, { cwd: options.cwd, env: withEnv(options.env), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      const watch = supervise(child, signal, undefined);
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout?.on('data', (c: Buffer) => out.push(c));
      child.stderr?.on('data', (c: Buffer) => err.push(c));
      const end = await ended(child);
      watch.done();
      if (signal?.aborted) throw interrupted(file);
      if (end.missing) throw new ArmkitError('prerequisite', `${file} not found.`);
      const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString().replace(/\n$/, '');
      return { exitCode: end.code ?? -1, stdout: text(out), stderr: text(err) };
    },
  };
}
