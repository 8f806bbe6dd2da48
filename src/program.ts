/**
 * The program armkit's CLI parses: every command with its options (commander), each command's module imported
 * when it runs. src/cli.ts runs it; tests import it to check what generated files ask of armkit (src/ci/).
 * Importing this module runs nothing.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { red } from './color.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
/** Stops every command's processes: src/cli.ts aborts it on SIGINT, SIGTERM and SIGHUP. */
export const controller = new AbortController();
/** Whether the running command was asked for --json: src/cli.ts then reports errors as one JSON document. */
export const cliState = { json: false };

const collect = (value: string, previous: string[] = []) => [...previous, value];

async function env() {
  const [{ probeHost }, { createRunner }, { warn }] = await Promise.all([import('./host.js'), import('./proc/runner.js'), import('./commands/output.js')]);
  // A build set's runners stop with armkit too: their signal follows the interrupt.
  const runnerFor = (signal: AbortSignal) => createRunner(AbortSignal.any([controller.signal, signal]));
  return { host: probeHost(), runner: createRunner(controller.signal), runnerFor, warn, armkitVersion: pkg.version, now: new Date() };
}

/**
 * Every option, declared once. Each command below lists exactly the options it takes, so none is shared by
 * accident; the build command takes those of both recipe kinds and refuses the other kind's (commands/build.ts).
 */
export const OPTIONS = {
  arch: () => new Option('--arch <arch>', 'target architecture: aarch64, armv7hl, armv5tel, x86_64 (default: this host)'),
  archList: () => new Option('--arch <arches>', 'target architecture(s): ARCH[,ARCH...] or all (aarch64, armv7hl, armv5tel, x86_64; default: this host)'),
  mode: () => new Option('--mode <mode>', 'native or cross (default: native for the host architecture, else cross)').choices(['native', 'cross']),
  kernel: () => new Option('--kernel <kernel>', 'kernel to build against: RELEASE (installed headers), DIR, debian:latest[-FLAVOUR] or debian:ABI-FLAVOUR'),
  kernelList: () =>
    new Option(
      '--kernel <kernels>',
      'kernel(s) to build against, comma-separated: RELEASE (installed headers), DIR, debian:latest[-FLAVOUR] or debian:ABI-FLAVOUR',
    ),
  source: () =>
    new Option(
      '--source <path>',
      'local source tarball or directory instead of a download (a copy of a pinned archive is verified by sha256; anything else has no checksum)',
    ),
  version: () => new Option('--version <version>', 'source version from the recipe (or the version to label --source with)'),
  recipes: () => new Option('--recipes <dir>', "directory of recipes that override armkit's own (repeatable)").argParser(collect),
  cacheDir: () =>
    new Option('--cache-dir <dir>', 'download, build and work cache (default: $ARMKIT_CACHE_DIR, else $XDG_CACHE_HOME/armkit or ~/.cache/armkit)'),
  dryRun: () => new Option('--dry-run', 'print the commands that would run, as a shell script; read caches, write and download nothing'),
  json: () => new Option('--json', 'print one JSON document (the plan, or the result) on stdout'),
  verbose: () => new Option('--verbose', "show every command's output as it runs"),
  timings: () => new Option('--timings', 'print where the time went, step by step'),
  noWait: () => new Option('--no-wait', 'refuse instead of waiting when another armkit process uses the same work directory or out/ destination'),
  out: () => new Option('--out <dir>', 'output root').default('out'),
  engine: () =>
    new Option('--engine <engine>', 'where the RPMs are built: local (rpmbuild here), mock or copr (a Fedora chroot)').choices(['local', 'mock', 'copr']),
  jobs: () => new Option('--jobs <n>', 'builds at once, for several architectures or kernels (default: the number of cores)'),
  failFast: () => new Option('--fail-fast', 'stop the other builds at the first failure (without it they finish)'),
  force: () => new Option('--force', 'rebuild even when the build cache has a build with the same inputs'),
  moduleKey: () => new Option('--module-key <file>', "sign the module with this private key (PEM) and the kernel's sign-file (with --module-cert)"),
  moduleCert: () => new Option('--module-cert <file>', "the module key's X.509 certificate (PEM or DER): what the kernel, or the MOK list, must trust"),
  remoteTimeout: () =>
    new Option('--remote-timeout <seconds>', 'with copr: stop waiting for the remote build after this long (it goes on there; default: 6 hours)'),
  test: () => new Option('--test', 'then prove the packages in a QEMU guest of the target kernel (armkit test)'),
  timeout: () => new Option('--timeout <seconds>', 'stop the guest after this long (default: 120)'),
  kernelImage: () => new Option('--kernel-image <file>', 'kernel to boot instead of the one the packages were built for (a vmlinuz or a kernel RPM)'),
  srpm: () => new Option('--srpm <file>', "spec recipes: the distribution's source RPM to patch and rebuild"),
  chroot: () => new Option('--chroot <name>', 'with mock/copr: the mock config or Copr chroot (default: fedora-rawhide-ARCH)'),
  coprProject: () => new Option('--copr-project <owner/project>', 'with copr: the Copr project to build in'),
  cryptodevFrom: () =>
    new Option('--cryptodev-from <dir>', 'openssl, local engine: armkit cryptodev build whose devel RPM has crypto/cryptodev.h (default: the newest in out/)'),
  releaseSuffix: () => new Option('--release-suffix <suffix>', 'openssl: suffix that marks the rebuilt Release (default: .cryptodev1)'),
} as const;

function withOptions(command: Command, names: Array<keyof typeof OPTIONS>): Command {
  for (const name of names) command.addOption(OPTIONS[name]());
  return command;
}

function action(command: Command, run: (args: string[], options: Record<string, unknown>) => Promise<unknown>): Command {
  return command.action(async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const options = cmd.opts();
    cliState.json = Boolean(options.json);
    // An empty value ("--arch $UNSET") would otherwise mean the option's default, silently: a usage error instead.
    for (const option of cmd.options) {
      const value = options[option.attributeName()];
      const values = Array.isArray(value) ? value : [value];
      if (option.required && values.some((v) => typeof v === 'string' && v.trim() === ''))
        cmd.error(`error: option '${option.flags}' argument is empty: give it a value, or leave the option out`, { exitCode: 2, code: 'armkit.emptyValue' });
    }
    await run(args.slice(0, -2) as string[], options);
  });
}

export function buildProgram(): Command {
  const program = new Command('armkit')
    .description('Recipes to RPM packages for ARM boards: cryptodev-linux kmods and cryptodev-enabled OpenSSL.')
    .version(pkg.version, '-V, --version', "print armkit's version")
    // armkit's own options go before the command, so each command keeps its own (build's --version <version> is
    // the recipe's source version, not armkit's).
    .enablePositionalOptions()
    .addOption(new Option('--armkit-version', 'the old spelling of --version').hideHelp())
    .helpCommand(false)
    .showHelpAfterError('(run "armkit --help" for usage)')
    // commander's own errors (an unknown option, a missing argument) read like armkit's.
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, `armkit: ${red('error:')} `)) })
    .exitOverride()
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 a build step failed, 2 usage, 3 invalid recipe, 4 missing prerequisite,\n5 verification failed (checksum, headers or module for the wrong arch/release), 130 interrupted (143 SIGTERM, 129 SIGHUP).',
    );

  const build = program
    .command('build')
    .description('build a recipe into RPMs: out/<recipe>/<version>/<arch>/<kernel>/ (kmod) or out/<recipe>/<version>/<arch>/ (spec)')
    .argument('<recipe>', 'recipe name, e.g. cryptodev or openssl');
  withOptions(build, [
    'archList',
    'mode',
    'kernelList',
    'source',
    'version',
    'engine',
    'jobs',
    'failFast',
    'force',
    'out',
    'test',
    'timeout',
    'kernelImage',
    'srpm',
    'chroot',
    'coprProject',
    'remoteTimeout',
    'moduleKey',
    'moduleCert',
    'cryptodevFrom',
    'releaseSuffix',
    'recipes',
    'cacheDir',
    'dryRun',
    'json',
    'verbose',
    'timings',
    'noWait',
  ]);
  action(build, async ([recipe], options) => {
    const { buildCommand } = await import('./commands/build.js');
    await buildCommand(recipe!, options, await env(), controller.signal);
  });

  const install = program
    .command('install')
    .description('build natively and install onto this system (module, header, modules-load.d, depmod, modprobe)')
    .argument('<recipe>', 'recipe name, e.g. cryptodev');
  withOptions(install, ['arch', 'kernel', 'source', 'version', 'moduleKey', 'moduleCert', 'recipes', 'cacheDir', 'dryRun', 'json', 'verbose']);
  install.option('--destdir <dir>', 'stage the files under DIR instead (no root needed, nothing loaded)');
  action(install, async ([recipe], options) => {
    const { installCommand } = await import('./commands/install.js');
    await installCommand(recipe!, options, await env(), controller.signal);
  });

  const test = program
    .command('test')
    .description('boot the target kernel in QEMU and prove the built packages: autoload, /dev/crypto, known answers, unload')
    .argument('<recipe>', 'recipe name, e.g. cryptodev');
  withOptions(test, ['arch', 'kernelImage', 'timeout', 'recipes', 'cacheDir', 'dryRun', 'json', 'verbose', 'timings', 'noWait']);
  test
    .option('--kernel <kernel>', 'test the build made for this kernel (its release or the --kernel form it was built with)')
    .option('--from <dir>', 'build output to test (default: the newest out/<recipe>/*/<arch>/*/)')
    .option('--from-repo <dir>', "take the packages from a dnf repository (armkit repo's tree, or one architecture's repository), as a board would")
    .option('--out <dir>', 'output root to search', 'out')
    .option('--openssl', 'also check the OpenSSL engine with the newest armkit-built openssl RPMs (out/openssl/*/ARCH)')
    .option('--openssl-from <dir>', 'the armkit-built openssl RPMs to check (implies --openssl)');
  action(test, async ([recipe], options) => {
    const { testCommand } = await import('./commands/test.js');
    await testCommand(recipe!, options, await env(), controller.signal);
  });

  const spec = program
    .command('spec')
    .description("patch a distribution's openssl.spec for the cryptodev engine: writes the spec and a diff")
    .argument('<recipe>', 'recipe name: openssl');
  withOptions(spec, ['releaseSuffix', 'recipes', 'json']);
  spec
    .option('--spec <file>', 'the openssl.spec to patch')
    .option('--srpm <file>', 'a source RPM whose spec to patch')
    .option('--out <dir>', 'directory for the patched spec and the diff', 'out')
    .option(
      '--no-verify',
      "do not check the result with rpmspec -P, which runs the shell commands of the spec's own %(...) expansions (for a spec you do not trust)",
    )
    .option('--strict', "fail when the spec parses here only with stand-ins for macros this host's rpm lacks (another distribution's), instead of warning");
  action(spec, async ([recipe], options) => {
    const { specCommand } = await import('./commands/spec.js');
    await specCommand(recipe!, options, await env());
  });

  const doctor = program.command('doctor').description('list what this host lacks for the commands it will run, with the install commands');
  withOptions(doctor, ['mode', 'json', 'dryRun']);
  doctor
    .option('--arch <arch>', 'target architecture(s): ARCH[,ARCH...] or all (default: this host)')
    .option(
      '--for <uses>',
      "what the host will do: build, install, test, spec, openssl, repo, bench (bench build's emulated and guest modes), suite (armkit's test suite), comma-separated, or all (default: build, with test as optional)",
    )
    .option('--fix', 'install what is missing, the optional parts too (apt-get or dnf; needs root)');
  action(doctor, async (_args, options) => {
    const { doctorCommand } = await import('./commands/doctor.js');
    await doctorCommand(options, await env());
  });

  const bench = program.command('bench').description('measure: what a crypto engine gains (openssl speed), how long a recipe takes to build in each mode');
  const benchCrypto = bench
    .command('crypto')
    .description('openssl speed without and with the engine, and both at once; or read saved outputs (--parse, --compare)');
  withOptions(benchCrypto, ['json', 'dryRun', 'verbose', 'out']);
  benchCrypto
    .option('--parse <files...>', 'read saved "openssl speed" outputs and report each (0.9.8 to 3.x, -mr too)')
    .option('--compare <files...>', 'compare saved outputs: [software=]FILE [engine=]FILE [LABEL=]FILE... (roles inferred when not given)')
    .option('--openssl <bin>', 'the openssl to measure (default: openssl on PATH)')
    .option('--engine <engine>', 'devcrypto, cryptodev, afalg, or none for software only (default: devcrypto, cryptodev for OpenSSL 1.0.x)')
    .option('--algo <algos>', 'EVP algorithms, comma-separated (default: aes-128-cbc)')
    .option('--seconds <n>', 'seconds per block size (default: 3, where the OpenSSL has -seconds)')
    .option('--guest <arch>', "run inside armkit test's QEMU guest (emulated software drivers, never hardware figures)")
    .option('--markdown', 'print the report as Markdown')
    .option('--chart <file>', 'write an SVG bar chart (software / engine / combined per block size)');
  action(benchCrypto, async (_args, options) => {
    const { benchCryptoCommand } = await import('./commands/bench.js');
    await benchCryptoCommand(options, await env(), controller.signal);
  });

  const benchBuild = bench
    .command('build')
    .description('time the same module build in each mode: cross, native, emulated (qemu-user), guest (QEMU system, TCG); best of N');
  withOptions(benchBuild, ['source', 'version', 'recipes', 'cacheDir', 'json', 'dryRun', 'verbose', 'out']);
  benchBuild
    .option('--recipe <name>', 'the kmod recipe to build (default: cryptodev)')
    .option('--arch <arch>', 'target architecture (default: aarch64)')
    .option('--kernel <kernel>', 'kernel every mode builds against: debian:latest[-FLAVOUR] or debian:ABI-FLAVOUR (default: debian:latest)')
    .option('--modes <modes>', 'comma-separated: cross, native, emulated, guest (default: all four; one that cannot run here says why)')
    .option('--runs <n>', 'timed runs per mode after one warm-up run; the best counts (default: 3)')
    .option('--timeout <seconds>', 'stop the guest after this long (default: 1800 per run, the warm-up included)')
    .option('--chart <file>', 'write an SVG bar chart (seconds per mode, percent of the fastest)');
  action(benchBuild, async (_args, options) => {
    const { benchBuildCommand } = await import('./commands/bench-build.js');
    await benchBuildCommand(options, await env(), controller.signal);
  });

  const reboot = program.command('reboot').description('warm reboot with kexec into a kernel (default: the running one), skipping firmware and POST');
  withOptions(reboot, ['dryRun', 'verbose']);
  reboot
    .option('--warm', 'kexec into the kernel instead of a firmware reboot (the only kind so far)')
    .option('--kernel <release>', 'the kernel release to boot (default: the running one); its image and initramfs from /boot')
    .option('--unload <modules>', 'modules to unload first, comma-separated (their holders go first, from /proc/modules)')
    .option('--script <file>', 'write the sequence as a standalone POSIX shell script (for machines without armkit) instead of running it')
    .option('--yes', 'do not ask for confirmation');
  action(reboot, async (_args, options) => {
    const { rebootCommand } = await import('./commands/reboot.js');
    await rebootCommand(options, await env());
  });

  const ci = program
    .command('ci')
    .description('write a CI workflow: matrix builds, tests, packages as artifacts, the dnf repository, releases on tags')
    .argument('<system>', 'github (.github/workflows/armkit.yml) or gitlab (.gitlab-ci.yml)');
  withOptions(ci, ['json']);
  ci.option('--arch <arches>', 'architectures of the matrix: ARCH[,ARCH...] or all (default: aarch64)')
    .option('--recipes <names>', 'recipes of the matrix, comma-separated (default: cryptodev)')
    .option('--kernel <kernels>', "kernels of the matrix, comma-separated (default: debian:latest; with copr: the chroot's newest)")
    .addOption(new Option('--engine <engine>', 'where the jobs build: local (rpmbuild on the runner) or copr').choices(['local', 'copr']))
    .addOption(OPTIONS.coprProject())
    .option('--test', "prove each leg's packages in a QEMU guest (armkit test)")
    .option('--base-url <url>', 'where boards will fetch the repository the last job makes (armkit repo --base-url)')
    .option('--out <file>', 'the workflow file (default: .github/workflows/armkit.yml or .gitlab-ci.yml; - prints it)')
    .option('--force', 'replace the file even if armkit did not write it');
  action(ci, async ([system], options) => {
    const { ciCommand } = await import('./commands/ci.js');
    await ciCommand(system!, options);
  });

  const repo = program
    .command('repo')
    .description('make dnf repositories (one per architecture, one of source RPMs) of the builds in out/, signed with --sign');
  withOptions(repo, ['cacheDir', 'dryRun', 'json', 'verbose', 'noWait']);
  repo
    .option('--from <dir>', 'output root whose builds to collect', 'out')
    .option('--out <dir>', 'the repository (default: out/repo, beside the builds)')
    .option('--update', 'reuse what the published repository has: unchanged packages are not copied or signed again, their metadata not read again')
    .option('--sign <keyid>', 'sign the packages (rpmsign) and each repodata/repomd.xml (gpg) with this secret key; the public key goes beside them')
    .option('--base-url <url>', 'where boards fetch the repository from: armkit.repo points there (default: its file:// path)')
    .option('--module-cert <file>', "check first that every kernel module in the kmod packages is signed by this certificate's key (exit 5 otherwise)")
    .addOption(new Option('--module-key <file>').hideHelp());
  action(repo, async (_args, options) => {
    const { repoCommand } = await import('./commands/repo.js');
    await repoCommand(options, await env(), controller.signal);
  });

  const completion = program
    .command('completion')
    .description('print a completion script for bash, zsh or fish: commands, options, recipes and architectures')
    .argument('<shell>', 'bash, zsh or fish');
  withOptions(completion, ['recipes']);
  action(completion, async ([shell], options) => {
    const { completionCommand } = await import('./commands/completion.js');
    completionCommand(shell!, options, program);
  });

  // `armkit help bench crypto` is `armkit bench crypto --help`, and an unknown name is a usage error with a suggestion.
  program.command('help').description('show the help of armkit or of a command').argument('[command...]', 'the command, e.g. build, or bench crypto');
  action(program.commands.at(-1)!, async ([names]) => {
    let command: Command = program;
    for (const name of (names as unknown as string[] | undefined) ?? []) {
      const sub = command.commands.find((c) => c.name() === name || c.aliases().includes(name));
      if (!sub) {
        const { usageError } = await import('./errors.js');
        const near = command.commands.map((c) => c.name()).filter((n) => n.startsWith(name.slice(0, 2)));
        throw usageError(
          `No command "${[...(command === program ? [] : [command.name()]), name].join(' ')}"${near.length ? `: did you mean ${near.map((n) => `"${n}"`).join(' or ')}?` : ''} (armkit --help lists them).`,
        );
      }
      command = sub;
    }
    command.outputHelp();
  });

  program.on('option:armkit-version', () => {
    process.stdout.write(`${pkg.version}\n`);
    process.stderr.write('armkit: note: --armkit-version is now spelt --version (or -V)\n');
    throw new CommanderError(0, 'commander.version', pkg.version);
  });

  const recipes = program.command('recipes').description("list the recipes: armkit's own and those in --recipes folders (name, kind, versions, sources)");
  withOptions(recipes, ['recipes', 'json']);
  action(recipes, async (_args, options) => {
    const { recipesCommand } = await import('./commands/recipe.js');
    await recipesCommand(options);
  });
  const recipe = program.command('recipe').description('import a recipe (from a DKMS module) or show one as armkit reads it');
  const recipeImport = recipe
    .command('import')
    .description('write a kmod recipe from a DKMS module: a source tree with a dkms.conf, or debian:PACKAGE (a -dkms package); runs its dkms.conf')
    .argument('<kind>', 'dkms')
    .argument('<from>', 'DIR (a tree with dkms.conf) or debian:PACKAGE, e.g. debian:v4l2loopback-dkms');
  withOptions(recipeImport, ['cacheDir', 'json']);
  recipeImport
    .option('--name <name>', "the recipe's name (default: the dkms.conf's PACKAGE_NAME)")
    .option('--out <dir>', 'the recipes folder to write it in (pass it to build with --recipes)', 'recipes')
    .option('--force', 'replace a recipe of the same name');
  action(recipeImport, async ([kind, from], options) => {
    const { recipeImportCommand } = await import('./commands/recipe.js');
    await recipeImportCommand(kind!, from!, options, await env());
  });
  const recipeShow = recipe
    .command('show')
    .description('print a recipe as armkit reads it (defaults filled in) and the file it came from')
    .argument('<recipe>', 'recipe name');
  withOptions(recipeShow, ['recipes', 'json']);
  action(recipeShow, async ([name], options) => {
    const { recipeShowCommand } = await import('./commands/recipe.js');
    await recipeShowCommand(name!, options);
  });

  const cache = program.command('cache').description("armkit's build cache: builds kept under the hash of their inputs");
  const cacheLs = cache.command('ls').description('list the cached builds, most recently used first');
  withOptions(cacheLs, ['cacheDir', 'json']);
  action(cacheLs, async (_args, options) => {
    const { cacheLsCommand } = await import('./commands/cache.js');
    await cacheLsCommand(options);
  });
  const cachePrune = cache.command('prune').description('remove the least recently used builds until the cache fits its limit');
  withOptions(cachePrune, ['cacheDir', 'json', 'dryRun']);
  cachePrune
    .option('--max-size <size>', 'the limit, e.g. 500M or 2G (default: $ARMKIT_BUILD_CACHE_MAX bytes, else 2G)')
    .option('--all', 'remove every cached build');
  action(cachePrune, async (_args, options) => {
    const { cachePruneCommand } = await import('./commands/cache.js');
    await cachePruneCommand(options);
  });

  return program;
}
