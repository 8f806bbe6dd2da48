/**
 * argv → command → exit code. The only place that exits. Commands are imported when used, so `armkit --help`
 * loads commander and nothing else.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { ArmkitError, EXIT_CODES } from './errors.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
const controller = new AbortController();
let jsonMode = false;

const collect = (value: string, previous: string[] = []) => [...previous, value];

async function env() {
  const [{ probeHost }, { createRunner }, { warn }] = await Promise.all([
    import('./host.js'),
    import('./run/runner.js'),
    import('./commands/output.js'),
  ]);
  return { host: probeHost(), runner: createRunner(controller.signal), warn, armkitVersion: pkg.version, now: new Date() };
}

function kmodOptions(command: Command): Command {
  command
    .option('--arch <arch>', 'target architecture: aarch64, armv7hl, armv5tel, x86_64 (default: this host)')
    .addOption(new Option('--mode <mode>', 'native or cross (default: native for the host architecture, else cross)').choices(['native', 'cross']))
    .option('--kernel <kernel>', 'kernel to build against: RELEASE (installed headers), DIR, debian:latest[-FLAVOUR] or debian:ABI-FLAVOUR')
    .option('--source <path>', 'local source tarball or directory instead of a download (a copy of a pinned archive is verified by sha256; anything else has no checksum)')
    .option('--version <version>', 'source version from the recipe (or the version to label --source with)');
  return runOptions(command);
}

/** Options every command that plans and runs steps shares. */
function runOptions(command: Command): Command {
  return command
    .option('--recipes <dir>', 'directory of recipes that override armkit\'s own (repeatable)', collect)
    .option('--cache-dir <dir>', 'download and work cache (default: $ARMKIT_CACHE_DIR, else $XDG_CACHE_HOME/armkit or ~/.cache/armkit)')
    .option('--dry-run', 'print the commands that would run, as a shell script, and change nothing')
    .option('--json', 'print one JSON document (the plan, or the result) on stdout')
    .option('--verbose', 'show every command\'s output as it runs');
}

export function buildProgram(): Command {
  const program = new Command('armkit')
    .description('Recipes to RPM packages for ARM boards: cryptodev-linux kmods and cryptodev-enabled OpenSSL.')
    .version(pkg.version, '-V, --armkit-version', 'print armkit\'s version')
    .showHelpAfterError('(run "armkit --help" for usage)')
    .exitOverride()
    .addHelpText('after', '\nExit codes: 0 ok, 1 a build step failed, 2 usage, 3 invalid recipe, 4 missing prerequisite,\n5 verification failed (checksum, headers or module for the wrong arch/release), 130 interrupted.');

  kmodOptions(
    program
      .command('build')
      .description('build a recipe into RPMs under out/<recipe>/<version>/<arch>/')
      .argument('<recipe>', 'recipe name, e.g. cryptodev'),
  )
    .option('--out <dir>', 'output root', 'out')
    .option('--test', 'then prove the packages in a QEMU guest of the target kernel (armkit test)')
    .option('--timeout <seconds>', 'with --test: stop the guest after this long', '120')
    .option('--kernel-image <file>', 'with --test: kernel to boot (default: the one the packages were built for)')
    .option('--srpm <file>', 'openssl: the distribution\'s source RPM to patch and rebuild')
    .addOption(new Option('--engine <engine>', 'openssl: where the binary RPMs are built').choices(['local', 'mock', 'copr']).default('local'))
    .option('--chroot <name>', 'openssl with mock/copr: the mock config or Copr chroot (default: fedora-rawhide-ARCH)')
    .option('--copr-project <owner/project>', 'openssl with copr: the Copr project to build in')
    .option('--cryptodev-from <dir>', 'openssl, local engine: armkit cryptodev build whose devel RPM has crypto/cryptodev.h (default: the newest in out/)')
    .option('--release-suffix <suffix>', 'openssl: suffix that marks the rebuilt Release (default: .cryptodev1)')
    .action(async (recipe: string, options) => {
      jsonMode = Boolean(options.json);
      const { buildCommand } = await import('./commands/build.js');
      await buildCommand(recipe, options, await env(), controller.signal);
    });

  kmodOptions(
    program
      .command('install')
      .description('build natively and install onto this system (module, header, modules-load.d, depmod, modprobe)')
      .argument('<recipe>', 'recipe name, e.g. cryptodev'),
  )
    .option('--destdir <dir>', 'stage the files under DIR instead (no root needed, nothing loaded)')
    .action(async (recipe: string, options) => {
      jsonMode = Boolean(options.json);
      const { installCommand } = await import('./commands/install.js');
      await installCommand(recipe, options, await env(), controller.signal);
    });

  const testCmd = program
    .command('test')
    .description('boot the target kernel in QEMU and prove the built packages: autoload, /dev/crypto, known answers, unload')
    .argument('<recipe>', 'recipe name, e.g. cryptodev')
    .option('--arch <arch>', 'target architecture (default: this host)')
    .option('--kernel <kernel>', 'test the build made for this kernel (its release or the --kernel form it was built with)')
    .option('--from <dir>', 'build output to test (default: the newest out/<recipe>/*/<arch>/)')
    .option('--out <dir>', 'output root to search', 'out')
    .option('--kernel-image <file>', 'kernel to boot instead of the one the packages were built for (a vmlinuz or a kernel RPM)')
    .option('--openssl', 'also check the OpenSSL engine with the newest armkit-built openssl RPMs (out/openssl/*/ARCH)')
    .option('--openssl-from <dir>', 'the armkit-built openssl RPMs to check (implies --openssl)')
    .option('--timeout <seconds>', 'stop the guest after this long', '120');
  runOptions(testCmd).action(async (recipe: string, options) => {
    jsonMode = Boolean(options.json);
    const { testCommand } = await import('./commands/test.js');
    await testCommand(recipe, options, await env(), controller.signal);
  });

  program
    .command('spec')
    .description("patch a distribution's openssl.spec for the cryptodev engine: writes the spec and a diff")
    .argument('<recipe>', 'recipe name: openssl')
    .option('--spec <file>', 'the openssl.spec to patch')
    .option('--srpm <file>', 'a source RPM whose spec to patch')
    .option('--release-suffix <suffix>', 'suffix that marks the rebuilt Release (default: .cryptodev1)')
    .option('--recipes <dir>', 'directory of recipes that override armkit\'s own (repeatable)', collect)
    .option('--out <dir>', 'directory for the patched spec and the diff', 'out')
    .option('--no-verify', 'do not check the result with rpmspec -P, which runs the shell commands of the spec\'s own %(...) expansions (for a spec you do not trust)')
    .option('--json', 'print the result as one JSON document on stdout')
    .action(async (recipe: string, options) => {
      jsonMode = Boolean(options.json);
      const { specCommand } = await import('./commands/spec.js');
      await specCommand(recipe, options, await env());
    });

  program
    .command('doctor')
    .description('list what this host lacks for the commands it will run, with the install commands')
    .option('--arch <arch>', 'target architecture(s): ARCH[,ARCH...] or all (default: this host)')
    .addOption(new Option('--mode <mode>', 'native or cross').choices(['native', 'cross']))
    .option('--for <uses>', 'what the host will do: build, install, test, spec, openssl, suite (armkit\'s test suite), comma-separated, or all (default: build, with test as optional)')
    .option('--fix', 'install what is missing, the optional parts too (apt-get or dnf; needs root)')
    .option('--json', 'print the checks as JSON on stdout')
    .action(async (options) => {
      jsonMode = Boolean(options.json);
      const { doctorCommand } = await import('./commands/doctor.js');
      await doctorCommand(options, await env());
    });

  return program;
}

function reportError(error: ArmkitError): void {
  if (jsonMode) {
    process.stdout.write(
      `${JSON.stringify({ ok: false, error: { kind: error.kind, exitCode: error.exitCode, message: error.message, details: error.details, logFile: error.logFile }, ...(error.payload !== undefined ? { result: error.payload } : {}) }, null, 2)}\n`,
    );
  }
  const lines = [`armkit: error: ${error.message}`, ...error.details.map((d) => `  ${d}`)];
  if (error.logFile) lines.push(`  full log: ${error.logFile}`);
  process.stderr.write(`${lines.join('\n')}\n`);
}

/** Exit codes of the signals armkit stops for: 128 + the signal's number, as a shell reports them. */
const SIGNAL_EXIT: Record<string, number> = { SIGINT: EXIT_CODES.interrupted, SIGTERM: 143, SIGHUP: 129 };
/** How long the running step may take to stop before armkit kills what is left and exits anyway. */
const STOP_BOUND_MS = 10_000;

export async function main(argv: string[]): Promise<number> {
  const { killAllNow, terminateAll } = await import('./run/groups.js');
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
      process.stderr.write(`\narmkit: ${signal === 'SIGINT' ? 'interrupted' : `stopped by ${signal}`}; stopping the running command and what it started (out/ is left as it was)\n`);
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
      // --help and --version end through here too, with exit code 0.
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

process.exitCode = await main(process.argv);
