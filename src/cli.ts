/**
 * argv → command → exit code. The only place that exits. Commands are imported when used, so `armkit --help`
 * loads commander and nothing else.
 */
import { CommanderError } from 'commander';
import { red, setupColor } from './color.js';
import { ArmkitError, EXIT_CODES } from './errors.js';
import { adoptDeferredExtraCa } from './extra-ca.js';
import { buildProgram, cliState, controller } from './program.js';

function reportError(error: ArmkitError, options: { stderr?: boolean } = {}): void {
  if (cliState.json) {
    process.stdout.write(
      `${JSON.stringify({ ok: false, error: { kind: error.kind, exitCode: error.exitCode, message: error.message, details: error.details, logFile: error.logFile }, ...(error.payload !== undefined ? { result: error.payload } : {}) }, null, 2)}\n`,
    );
  }
  if (options.stderr === false) return;
  const lines = [`armkit: ${red('error:')} ${error.message}`, ...error.details.map((d) => `  ${d}`)];
  if (error.logFile) lines.push(`  full log: ${error.logFile}`);
  process.stderr.write(`${lines.join('\n')}\n`);
}

/** Exit codes of the signals armkit stops for: 128 + the signal's number, as a shell reports them. */
const SIGNAL_EXIT: Record<string, number> = { SIGINT: EXIT_CODES.interrupted, SIGTERM: 143, SIGHUP: 129 };
/** How long the running step may take to stop before armkit kills what is left and exits anyway. */
const STOP_BOUND_MS = 10_000;

export async function main(argv: string[]): Promise<number> {
  // Before anything reads the environment: the programs armkit runs see NODE_EXTRA_CA_CERTS as the user set it.
  adoptDeferredExtraCa();
  setupColor();
  const { killAllNow, terminateAll } = await import('./proc/groups.js');
  const { removeScratch } = await import('./scratch.js');
  let caught: string | undefined;
  const finish = (code: number): never => {
    killAllNow();
    removeScratch();
    process.exit(code);
  };
  for (const signal of Object.keys(SIGNAL_EXIT)) {
    process.on(signal, () => {
      if (caught) finish(SIGNAL_EXIT[caught]!);
      caught = signal;
      process.stderr.write(
        `\narmkit: ${signal === 'SIGINT' ? 'interrupted' : `stopped by ${signal}`}; stopping the running command and what it started (out/ is left as it was)\n`,
      );
      controller.abort();
      setTimeout(() => finish(SIGNAL_EXIT[signal]!), STOP_BOUND_MS).unref();
    });
  }
  // Nothing armkit started outlives it, however it exits.
  process.on('exit', killAllNow);
  const stopped = async () => {
    await terminateAll();
    removeScratch();
    return SIGNAL_EXIT[caught!]!;
  };
  try {
    await buildProgram().parseAsync(argv);
    return caught ? await stopped() : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here too, with exit code 0. commander has printed its message; with
      // --json the one document on stdout says it too.
      if (error.exitCode !== 0 && argv.includes('--json')) {
        cliState.json = true;
        reportError(new ArmkitError('usage', error.message.replace(/^error: /, '')), { stderr: false });
      }
      return error.exitCode === 0 ? 0 : EXIT_CODES.usage;
    }
    if (caught) {
      reportError(error instanceof ArmkitError && error.kind === 'interrupted' ? error : new ArmkitError('interrupted', 'Interrupted.'));
      return stopped();
    }
    if (error instanceof ArmkitError) {
      reportError(error);
      return error.exitCode;
    }
    process.stderr.write(`armkit: internal error: ${(error as Error).stack ?? String(error)}\n`);
    return 70;
  }
}

// Not a top-level await: the bundle is CommonJS (src/compile-cache.ts). Until main() settles the exit code is an
// internal error's: a command whose work ends with nothing left to wait for, unfinished, must not exit 0 (an ES
// module's unsettled top-level await exits 13 for the same reason).
const UNFINISHED = 70;
let settled = false;
process.exitCode = UNFINISHED;
process.on('exit', (code) => {
  if (!settled && code === UNFINISHED) process.stderr.write('armkit: internal error: the command stopped before it finished\n');
});
void main(process.argv).then((code) => {
  settled = true;
  process.exitCode = code;
});
