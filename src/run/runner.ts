/**
 * The one way armkit runs an external program: argv arrays (never a shell string), full output to a log file,
 * and on failure an error carrying the command's last lines and the log's path.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ArmkitError } from '../errors.js';
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
  /** Stop the program after this many seconds. */
  timeoutSeconds?: number;
}

export interface CaptureResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface Runner {
  /** Runs to completion; a non-zero exit throws a step-failed ArmkitError. */
  run(argv: string[], options?: RunOptions): Promise<void>;
  /** Runs a probe and hands back its output whatever the exit code. */
  capture(argv: string[], options?: Pick<RunOptions, 'cwd' | 'env'>): Promise<CaptureResult>;
}

const TAIL_LINES = 25;

export function tail(text: string, lines = TAIL_LINES): string[] {
  const all = text.replace(/\s+$/, '').split('\n');
  return all.slice(-lines);
}

// execa is imported on first use: a dry run or --help never pays for loading it.
export function createRunner(signal?: AbortSignal): Runner {
  return {
    async run(argv, options = {}) {
      const [file, ...args] = argv;
      if (!file) throw new Error('runner: empty argv');
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
        // Output streams to the log as it comes; only a bounded tail is kept for the error message, so a
        // program writing hundreds of megabytes (dpkg-deb --fsys-tarfile) costs no memory.
        all: !options.stdoutFile,
        buffer: false,
        reject: false,
        stdin: options.stdinFile ? { file: options.stdinFile } : 'ignore',
        stdout: options.stdoutFile ? { file: options.stdoutFile } : 'pipe',
        cancelSignal: signal,
        forceKillAfterDelay: 3000,
        ...(options.timeoutSeconds ? { timeout: options.timeoutSeconds * 1000 } : {}),
      });
      const output = options.stdoutFile ? child.stderr : child.all;
      let recent = '';
      output?.on('data', (chunk: Buffer) => {
        recent = (recent + chunk.toString()).slice(-16384);
      });
      if (log) output?.pipe(log, { end: false });
      if (options.echo) output?.pipe(process.stderr, { end: false });
      const result = await child;
      if (log) await new Promise<void>((done) => log!.end(done));
      if (result.isCanceled) throw new ArmkitError('interrupted', `Interrupted while running ${file}.`);
      if (result.timedOut) {
        throw new ArmkitError('step-failed', `${file} did not finish within ${options.timeoutSeconds} s and was stopped.`, {
          details: tail(recent),
          logFile: options.logFile,
        });
      }
      if (result.failed) {
        const cmd = argv.map(shellQuote).join(' ');
        if (result.code === 'ENOENT') {
          throw new ArmkitError('prerequisite', `${file} not found: it is needed to run: ${cmd}`);
        }
        const status = result.exitCode !== undefined ? `exit code ${result.exitCode}` : (result.signal ?? 'failure');
        throw new ArmkitError('step-failed', `Command failed (${status}): ${cmd}`, {
          details: tail(recent),
          logFile: options.logFile,
        });
      }
    },

    async capture(argv, options = {}) {
      const [file, ...args] = argv;
      if (!file) throw new Error('runner: empty argv');
      const { execa } = await import('execa');
      const result = await execa(file, args, { cwd: options.cwd, env: options.env, reject: false, stdin: 'ignore', cancelSignal: signal });
      if (result.code === 'ENOENT') throw new ArmkitError('prerequisite', `${file} not found.`);
      return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
    },
  };
}
