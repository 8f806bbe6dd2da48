/**
 * The conventions people expect of a CLI: `armkit --version`, `armkit help COMMAND` (= `armkit COMMAND --help`),
 * completion scripts that really complete in bash, zsh and fish, and colour only where it belongs (NO_COLOR,
 * FORCE_COLOR, a terminal or not). The commands and options checked come from the CLI's own definition.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { probeHost } from '../../src/host.js';
import { buildProgram } from '../../src/program.js';
import { armkit, FIXTURE_MODULE, installedAmd64Release, plainEnv, ROOT, show, tempDir } from '../helpers/cli.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const host = probeHost();
const amd64 = installedAmd64Release();
const ESC = '\u001b[';

/** Every command path of the CLI: ['build'], ['bench', 'crypto'], ... */
function commandPaths(command: Command = buildProgram(), path: string[] = []): string[][] {
  return command.commands.flatMap((c) => [[...path, c.name()], ...commandPaths(c, [...path, c.name()])]);
}

describe('armkit --version', () => {
  it.each([['--version'], ['-V']])('%s prints the version of package.json, exit 0', async (flag) => {
    const r = await armkit([flag]);
    expect(r.exitCode, show(r)).toBe(0);
    expect(r.stdout).toBe(pkg.version);
  });

  it('--armkit-version, the old spelling, still works and says the new one', async () => {
    const r = await armkit(['--armkit-version']);
    expect(r.exitCode, show(r)).toBe(0);
    expect(r.stdout).toBe(pkg.version);
    expect(r.stderr).toMatch(/now spelt --version/);
  });

  it.skipIf(!amd64)("build's own --version stays the recipe's source version", async () => {
    const r = await armkit(['build', 'cryptodev', '--kernel', amd64!, '--source', FIXTURE_MODULE, '--version', '7.7', '--dry-run', '--json']);
    expect(r.exitCode, show(r)).toBe(0);
    expect(r.stdout).toMatch(/"version": "7\.7"/);
  });
});

describe('armkit help COMMAND', () => {
  it('is armkit COMMAND --help for every command, nested ones included', async () => {
    const paths = commandPaths().filter((p) => p[0] !== 'help');
    expect(paths.map((p) => p.join(' '))).toEqual(expect.arrayContaining(['build', 'bench crypto', 'cache ls', 'completion']));
    for (const path of paths) {
      const [viaHelp, viaFlag] = await Promise.all([armkit(['help', ...path]), armkit([...path, '--help'])]);
      expect(viaHelp.exitCode, show(viaHelp)).toBe(0);
      expect(viaHelp.stdout, path.join(' ')).toBe(viaFlag.stdout);
      expect(viaHelp.stdout).toContain(`Usage: armkit ${path.join(' ')}`);
    }
  });

  it('armkit help alone is armkit --help', async () => {
    const [a, b] = await Promise.all([armkit(['help']), armkit(['--help'])]);
    expect(a.stdout).toBe(b.stdout);
    expect(a.exitCode).toBe(0);
  });

  it('an unknown command is a usage error (exit 2) that suggests the near one', async () => {
    const r = await armkit(['help', 'buidl']);
    expect(r.exitCode, show(r)).toBe(2);
    expect(r.stderr).toMatch(/No command "buidl": did you mean "build"\?/);
    const nested = await armkit(['help', 'bench', 'crytpo']);
    expect(nested.exitCode).toBe(2);
    expect(nested.stderr).toMatch(/No command "bench crytpo": did you mean "crypto"\?/);
  });
});

describe('armkit completion', () => {
  const dir = tempDir('completion');
  // A user recipe, to show the script lists the recipes of --recipes too.
  const recipes = join(dir, 'recipes');
  mkdirSync(recipes, { recursive: true });
  writeFileSync(join(recipes, 'mydriver.yaml'), readFileSync(join(ROOT, 'recipes/cryptodev.yaml'), 'utf8').replace(/^name: .*$/m, 'name: mydriver'));

  async function script(shell: string): Promise<string> {
    const r = await armkit(['completion', shell, '--recipes', recipes]);
    expect(r.exitCode, show(r)).toBe(0);
    const file = join(dir, `armkit.${shell}`);
    writeFileSync(file, r.stdout);
    return file;
  }

  it('refuses a shell it does not know (exit 2)', async () => {
    const r = await armkit(['completion', 'tcsh']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/bash, zsh, fish/);
  });

  describe.skipIf(!host.which('bash'))('bash', () => {
    /** What bash's completion offers for the words (the last one being completed). */
    async function complete(file: string, words: string[]): Promise<string[]> {
      const r = await execa(
        'bash',
        ['-c', 'source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _armkit; printf "%s\\n" "${COMPREPLY[@]}"', file, ...words],
        { reject: false, env: plainEnv(), extendEnv: false },
      );
      expect(r.exitCode, r.stderr).toBe(0);
      return r.stdout.split('\n').filter(Boolean);
    }

    it('parses (bash -n)', async () => {
      const r = await execa('bash', ['-n', await script('bash')], { reject: false });
      expect(r.exitCode, r.stderr).toBe(0);
    });

    it('completes commands, subcommands, recipes by kind, options and their values', async () => {
      const file = await script('bash');
      expect(await complete(file, ['armkit', 'bu'])).toEqual(['build']);
      expect(await complete(file, ['armkit', 'bench', ''])).toContain('crypto');
      expect(await complete(file, ['armkit', 'build', ''])).toEqual(expect.arrayContaining(['cryptodev', 'openssl', 'mydriver']));
      // install and test take kmod recipes, spec the spec recipe.
      expect(await complete(file, ['armkit', 'test', ''])).not.toContain('openssl');
      expect(await complete(file, ['armkit', 'spec', ''])).toEqual(['openssl']);
      expect(await complete(file, ['armkit', 'build', 'cryptodev', '--ar'])).toEqual(['--arch']);
      expect(await complete(file, ['armkit', 'build', 'cryptodev', '--arch', 'aa'])).toEqual(['aarch64']);
      expect(await complete(file, ['armkit', 'build', 'cryptodev', '--arch', 'aarch64,x'])).toEqual(['aarch64,x86_64']);
      expect(await complete(file, ['armkit', 'build', 'cryptodev', '--engine', ''])).toEqual(['local', 'mock', 'copr']);
      expect(await complete(file, ['armkit', 'bench', 'crypto', '--ch'])).toEqual(['--chart']);
      expect(await complete(file, ['armkit', 'completion', ''])).toEqual(['bash', 'zsh', 'fish']);
      expect(await complete(file, ['armkit', 'help', 're'])).toEqual(expect.arrayContaining(['reboot', 'repo']));
    });

    it("offers every option of every command, taken from the CLI's own definition", async () => {
      const file = await script('bash');
      const program = buildProgram();
      for (const path of commandPaths(program)) {
        let command: Command = program;
        for (const name of path) command = command.commands.find((c) => c.name() === name)!;
        const offered = await complete(file, ['armkit', ...path, '--']);
        const wanted = command.options.filter((o) => !o.hidden && o.long).map((o) => o.long!);
        expect(offered, path.join(' ')).toEqual(expect.arrayContaining([...wanted, '--help']));
        expect(
          offered.filter((o) => !wanted.includes(o) && o !== '--help'),
          path.join(' '),
        ).toEqual([]);
      }
    });
  });

  describe.skipIf(!host.which('zsh'))(`zsh${host.which('zsh') ? '' : ' (skipped: zsh is not installed)'}`, () => {
    /** zsh's completion function with compadd and _files recording what they were given. */
    async function complete(file: string, words: string[]): Promise<string[]> {
      const r = await execa(
        'zsh',
        [
          '-c',
          'compdef() { :; }; source "$1"; shift; compadd() { print -rl -- "${@:#--}"; }; _files() { print -r -- "<files$*>"; }; compset() { :; }; words=("$@"); CURRENT=$#; _armkit',
          'zsh',
          file,
          ...words,
        ],
        { reject: false, env: plainEnv(), extendEnv: false },
      );
      expect(r.exitCode, r.stderr).toBe(0);
      return r.stdout.split('\n').filter(Boolean);
    }

    it('parses (zsh -n) and completes commands, recipes, options and values', async () => {
      const file = await script('zsh');
      expect((await execa('zsh', ['-n', file], { reject: false })).exitCode).toBe(0);
      expect(await complete(file, ['armkit', ''])).toEqual(expect.arrayContaining(['build', 'test', 'completion', 'bench']));
      expect(await complete(file, ['armkit', 'bench', ''])).toEqual(['crypto', 'build']);
      expect(await complete(file, ['armkit', 'install', ''])).toEqual(expect.arrayContaining(['cryptodev', 'mydriver']));
      expect(await complete(file, ['armkit', 'build', 'cryptodev', '--arch', ''])).toEqual(['aarch64', 'armv7hl', 'armv5tel', 'x86_64', 'all']);
      expect(await complete(file, ['armkit', 'build', 'cryptodev', '--source', ''])).toEqual(['<files>']);
      expect(await complete(file, ['armkit', 'build', 'cryptodev', '--out', ''])).toEqual(['<files-/>']);
      expect(await complete(file, ['armkit', 'test', '--'])).toEqual(expect.arrayContaining(['--from-repo', '--timeout', '--help']));
    });
  });

  describe.skipIf(!host.which('fish'))(`fish${host.which('fish') ? '' : ' (skipped: fish is not installed)'}`, () => {
    /** fish's own completion engine: `complete -C LINE` prints what <Tab> would offer. */
    async function complete(file: string, line: string): Promise<string[]> {
      const r = await execa('fish', ['--no-config', '-c', 'source $argv[1]; complete -C $argv[2]', file, line], {
        reject: false,
        env: plainEnv(),
        extendEnv: false,
      });
      expect(r.exitCode, r.stderr).toBe(0);
      return r.stdout.split('\n').filter(Boolean);
    }

    it('parses (fish -n) and completes commands, recipes, options and values', async () => {
      const file = await script('fish');
      expect((await execa('fish', ['-n', file], { reject: false })).exitCode).toBe(0);
      expect(await complete(file, 'armkit bu')).toEqual(['build']);
      expect(await complete(file, 'armkit bench ')).toEqual(['build', 'crypto']);
      expect(await complete(file, 'armkit build ')).toEqual(expect.arrayContaining(['cryptodev', 'openssl', 'mydriver']));
      expect(await complete(file, 'armkit build cryptodev --ar')).toEqual(['--arch']);
      expect(await complete(file, 'armkit build cryptodev --arch ')).toEqual(expect.arrayContaining(['aarch64', 'armv7hl', 'x86_64', 'all']));
      expect(await complete(file, 'armkit bench crypto --ch')).toEqual(['--chart']);
      expect(await complete(file, 'armkit ci ')).toEqual(['github', 'gitlab']);
    });
  });
});

describe('colour: NO_COLOR, FORCE_COLOR and terminals', () => {
  // An error armkit reports itself (exit 2): its "error:" is what colour would mark.
  const failing = ['build', 'nosuchrecipe'];

  it('not a terminal: plain text', async () => {
    const r = await armkit(failing);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^armkit: error: No recipe named "nosuchrecipe"/);
    expect(r.stderr).not.toContain(ESC);
  });

  it("commander's own errors read like armkit's, coloured the same way", async () => {
    const r = await armkit(['build', 'cryptodev', '--no-such-flag']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^armkit: error: unknown option '--no-such-flag'/);
    const forced = await armkit(['build', 'cryptodev', '--no-such-flag'], { env: { FORCE_COLOR: '1' } });
    expect(forced.stderr).toContain(`armkit: ${ESC}1;31merror:${ESC}0m unknown option`);
  });

  it('FORCE_COLOR colours even when stderr is not a terminal, and FORCE_COLOR=0 does not', async () => {
    const forced = await armkit(failing, { env: { FORCE_COLOR: '1' } });
    expect(forced.stderr).toContain(`${ESC}1;31merror:${ESC}0m`);
    const zero = await armkit(failing, { env: { FORCE_COLOR: '0' } });
    expect(zero.stderr).not.toContain(ESC);
  });

  describe.skipIf(!host.which('script'))(`on a terminal${host.which('script') ? '' : ' (skipped: no script(1) to make one)'}`, () => {
    /** armkit on a pseudo-terminal (script(1)), its output as the terminal got it. */
    async function onTerminal(env: Record<string, string>): Promise<string> {
      const r = await execa('script', ['-qec', `${process.execPath} ${join(ROOT, 'bin/armkit.js')} ${failing.join(' ')}`, '/dev/null'], {
        reject: false,
        env: { ...plainEnv(), TERM: 'xterm', CI: 'true', ...env },
        extendEnv: false,
      });
      expect(r.exitCode, r.stdout).toBe(2);
      return r.stdout;
    }

    it('colours the error', async () => {
      expect(await onTerminal({})).toContain(`${ESC}1;31merror:`);
    });

    it('NO_COLOR gives plain text, and so does TERM=dumb', async () => {
      const plain = await onTerminal({ NO_COLOR: '1' });
      expect(plain).toMatch(/armkit: error: No recipe named/);
      expect(plain).not.toContain(ESC);
      expect(await onTerminal({ TERM: 'dumb' })).not.toContain(ESC);
    });
  });
});
