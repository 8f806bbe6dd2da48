/**
 * armkit ci: the generated workflows parse as YAML, every armkit command and option in them is one the CLI
 * defines (src/program.ts, the program the CLI itself parses), their build legs run what the README's quick start
 * and .ci/run run, the values they carry are checked, and a file armkit did not write is not replaced.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { type CiOptions, type CiSystem, ciModel } from '../../src/ci/model.js';
import { renderWorkflow, writtenByArmkit } from '../../src/ci/render.js';
import { ciCommand } from '../../src/commands/ci.js';
import { parseUses } from '../../src/commands/doctor.js';
import { buildProgram } from '../../src/program.js';
import { yamlScalar } from '../../src/templates.js';
import { catchArmkit, tempDir } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** The variants the tests generate: the quick start's, several of each dimension, Copr, a base URL. */
const VARIANTS: Array<[CiSystem, CiOptions]> = (['github', 'gitlab'] as const).flatMap(
  (s): Array<[CiSystem, CiOptions]> => [
    [s, {}],
    [s, { arch: 'aarch64', recipes: 'cryptodev', kernel: 'debian:latest', test: true }],
    [s, { arch: 'aarch64,armv7hl,x86_64', kernel: 'debian:latest,debian:6.1.0-28-arm64', test: true, baseUrl: 'https://boards.example.org/armkit/' }],
    [s, { arch: 'all' }],
    [s, { arch: 'aarch64,x86_64', engine: 'copr', coprProject: 'someone/armkit' }],
    [s, { arch: 'aarch64', engine: 'copr', coprProject: '@group/armkit', kernel: '6.11.4-301.fc41.aarch64' }],
  ],
);

const generate = (system: CiSystem, options: CiOptions) => renderWorkflow(ciModel(system, options, ROOT));

function parse(text: string): unknown {
  const doc = parseDocument(text);
  expect(doc.errors.map((e) => e.message)).toEqual([]);
  return doc.toJS();
}

/** Every shell script of a workflow: GitHub steps' `run`, GitLab jobs' script lines. */
function scripts(system: CiSystem, workflow: Record<string, unknown>): string[] {
  if (system === 'github') {
    const jobs = Object.values(workflow.jobs as Record<string, { steps: Array<{ run?: string }> }>);
    return jobs.flatMap((j) => j.steps.flatMap((s) => (s.run ? [s.run] : [])));
  }
  return Object.values(workflow).flatMap((job) => {
    if (!job || typeof job !== 'object' || Array.isArray(job)) return [];
    const j = job as Record<string, unknown>;
    return ['before_script', 'script', 'after_script'].flatMap((k) => (Array.isArray(j[k]) ? (j[k] as string[]) : []));
  });
}

/** Shell words of one command line: double quotes group, "$VAR" stays as written. */
function words(line: string): string[] {
  return [...line.matchAll(/"[^"]*"|'[^']*'|\S+/g)].map((m) => m[0]);
}

/** The armkit invocations of the scripts, as word lists after `armkit`. */
function armkitCalls(texts: string[]): string[][] {
  return texts
    .flatMap((t) => t.split('\n'))
    .flatMap((line) => {
      const at = line.indexOf('npx armkit ');
      return at < 0 ? [] : [words(line.slice(at + 'npx armkit '.length))];
    });
}

const isVariable = (word: string) => /^"\$[A-Z_]+"$/.test(word);

/** Fails unless commander's program has the command path and every option, with a valid value where literal. */
function checkAgainstProgram(call: string[]): void {
  let command: Command = buildProgram();
  const rest = [...call];
  const path: string[] = [];
  while (rest.length && command.commands.some((c) => c.name() === rest[0])) {
    const name = rest.shift()!;
    path.push(name);
    command = command.commands.find((c) => c.name() === name)!;
  }
  expect(path.length, `"armkit ${call.join(' ')}" names no armkit command`).toBeGreaterThan(0);
  expect(command.commands, `"armkit ${path.join(' ')}" needs a subcommand`).toEqual([]);
  const positional: string[] = [];
  while (rest.length) {
    const word = rest.shift()!;
    if (!word.startsWith('--')) {
      positional.push(word);
      continue;
    }
    const [flag, inline] = word.split('=', 2) as [string, string | undefined];
    const option = command.options.find((o: Option) => o.long === flag);
    expect(option, `armkit ${path.join(' ')} has no option ${flag}`).toBeDefined();
    if (option!.required || option!.optional) {
      const value = inline ?? rest.shift();
      expect(value, `${flag} needs a value`).toBeDefined();
      if (option!.argChoices && !isVariable(value!)) expect(option!.argChoices, `${flag} ${value}`).toContain(value);
    } else {
      expect(inline, `${flag} takes no value`).toBeUndefined();
    }
  }
  const registered = command.registeredArguments;
  expect(positional.length, `armkit ${path.join(' ')} ${positional.join(' ')}`).toBeLessThanOrEqual(registered.length);
  expect(positional.length).toBeGreaterThanOrEqual(registered.filter((a) => a.required).length);
}

describe('generated workflows', () => {
  for (const [system, options] of VARIANTS) {
    const label = `${system} ${JSON.stringify(options)}`;

    it(`parse as YAML and mark themselves as armkit's: ${label}`, () => {
      const text = generate(system, options);
      const workflow = parse(text) as Record<string, unknown>;
      expect(writtenByArmkit(text)).toBe(true);
      expect(text.split('\n')[0]).toMatch(/^# Generated by armkit: "armkit ci (github|gitlab) --arch \S+ --recipes \S+/);
      if (system === 'github') expect(Object.keys(workflow.jobs as object)).toEqual(['build', 'repository', 'release']);
      else expect(Object.keys(workflow).filter((k) => k.startsWith('armkit-'))).toEqual(['armkit-build', 'armkit-repository', 'armkit-release']);
    });

    it(`run only armkit commands and options the CLI defines: ${label}`, () => {
      const workflow = parse(generate(system, options)) as Record<string, unknown>;
      const calls = armkitCalls(scripts(system, workflow));
      expect(calls.map((c) => c[0])).toEqual(expect.arrayContaining(['doctor', 'build', 'repo']));
      for (const call of calls) checkAgainstProgram(call);
    });
  }

  it('the checker of armkit commands catches an option or command the CLI does not have', () => {
    expect(() => checkAgainstProgram(['build', '"$RECIPE"', '--arch', '"$ARCH"', '--kernels', 'x'])).toThrow(/has no option --kernels/);
    expect(() => checkAgainstProgram(['bulid', 'cryptodev'])).toThrow(/names no armkit command/);
    expect(() => checkAgainstProgram(['ci', 'github', '--engine', 'mock'])).toThrow();
    expect(() => checkAgainstProgram(['repo', '--update', 'yes', 'extra'])).toThrow();
  });

  it('a GitHub matrix leg is named by recipe, version, arch and kernel, one artifact name per leg', () => {
    const workflow = parse(generate('github', { arch: 'aarch64,armv7hl', kernel: 'debian:latest,6.1.0-28-arm64' })) as {
      jobs: Record<
        string,
        { strategy?: { matrix: Record<string, string[]> }; steps: Array<{ id?: string; run?: string; uses?: string; with?: Record<string, unknown> }> }
      >;
    };
    const build = workflow.jobs.build!;
    expect(build.strategy!.matrix).toEqual({ arch: ['aarch64', 'armv7hl'], recipe: ['cryptodev'], kernel: ['debian:latest', '6.1.0-28-arm64'] });
    const naming = build.steps.find((s) => s.id === 'artifact')!;
    const upload = build.steps.find((s) => s.uses === 'actions/upload-artifact@v4' && !('if' in s))!;
    expect(upload.with!.name).toBe('${{ steps.artifact.outputs.name }}');
    // The naming step's own program, run on a manifest as the build writes it.
    const dir = tempDir();
    const manifest = join(dir, 'manifest.json');
    writeFileSync(
      manifest,
      JSON.stringify({ recipe: 'cryptodev', version: '1.14^20251105git08644db', arch: 'aarch64', kernel: { release: '6.12.9+bpo-arm64' } }),
    );
    const node = /node -e '([^']+)'/.exec(naming.run!)![1]!;
    expect(execFileSync(process.execPath, ['-e', node, manifest], { encoding: 'utf8' })).toBe(
      'name=rpms-cryptodev-1.14^20251105git08644db-aarch64-6.12.9+bpo-arm64\n',
    );
    // Characters an artifact name may not hold (":", "/", ...) become "_".
    writeFileSync(manifest, JSON.stringify({ recipe: 'cryptodev', version: '1.14', arch: 'aarch64', kernel: { release: 'odd:name/x' } }));
    expect(execFileSync(process.execPath, ['-e', node, manifest], { encoding: 'utf8' })).toBe('name=rpms-cryptodev-1.14-aarch64-odd_name_x\n');
    // The repository job takes every leg's artifact.
    const download = workflow.jobs.repository!.steps.find((s) => s.uses === 'actions/download-artifact@v4')!;
    expect(download.with).toEqual({ pattern: 'rpms-*', path: 'out', 'merge-multiple': true });
  });

  it('keys the cache on the recipe files and the kernel, and keeps work directories out of it', () => {
    const workflow = parse(generate('github', { kernel: 'debian:latest' })) as {
      jobs: { build: { steps: Array<{ uses?: string; with?: Record<string, string> }> } };
    };
    const cache = workflow.jobs.build.steps.find((s) => s.uses === 'actions/cache@v4')!.with!;
    expect(cache.key).toBe(
      "armkit-${{ matrix.recipe }}-${{ matrix.arch }}-${{ matrix.kernel }}-${{ hashFiles('recipes/cryptodev.yaml', 'package-lock.json') }}",
    );
    expect(cache.path).toBe('/var/cache/armkit\n!/var/cache/armkit/work\n');
    expect(existsSync(join(ROOT, 'recipes/cryptodev.yaml'))).toBe(true);
    const gitlab = parse(generate('gitlab', {})) as {
      'armkit-build': { cache: { key: { files: string[] }; paths: string[] } };
      variables: Record<string, string>;
    };
    expect(gitlab['armkit-build'].cache.key.files).toEqual(['recipes/cryptodev.yaml', 'package-lock.json']);
    expect(gitlab.variables.ARMKIT_CACHE_DIR).toBe('$CI_PROJECT_DIR/.armkit-cache');
    expect(gitlab['armkit-build'].cache.paths).toEqual(['.armkit-cache/']);
  });

  it('with copr: submits to the project, names the secret and stops with a clear message when it is missing', () => {
    for (const system of ['github', 'gitlab'] as const) {
      const text = generate(system, { engine: 'copr', coprProject: 'someone/armkit' });
      const all = scripts(system, parse(text) as Record<string, unknown>).join('\n');
      expect(all).toContain('npx armkit build "$RECIPE" --arch "$ARCH" --engine copr --copr-project "$COPR_PROJECT"');
      expect(all).toMatch(/if \[ -z "\$\{?COPR_CONFIG(:-)?\}?" \]; then\n\s+echo "[^"]*COPR_CONFIG is not set[^"]*"( >&2)?\n\s+exit 1/);
      expect(text).toContain('COPR_PROJECT: "someone/armkit"');
      if (system === 'github') expect(text).toContain('COPR_CONFIG: ${{ secrets.COPR_CONFIG }}');
    }
  });

  it('the missing-secret check of the Copr step fails, and passes with the secret, when run', () => {
    const workflow = parse(generate('github', { engine: 'copr', coprProject: 'someone/armkit' })) as {
      jobs: { build: { steps: Array<{ name?: string; run?: string }> } };
    };
    const step = workflow.jobs.build.steps.find((s) => s.name?.startsWith("Copr's API token"))!;
    const home = tempDir();
    const run = (secret: string) => {
      try {
        execFileSync('bash', ['-e', '-c', step.run!], { env: { PATH: process.env.PATH, HOME: home, COPR_CONFIG: secret }, encoding: 'utf8', stdio: 'pipe' });
        return { status: 0, out: '' };
      } catch (error) {
        const e = error as { status: number; stdout: string };
        return { status: e.status, out: e.stdout };
      }
    };
    const without = run('');
    expect(without.status).toBe(1);
    expect(without.out).toMatch(/^::error title=Copr token missing::The repository secret COPR_CONFIG is not set\./);
    expect(run('[copr-cli]\nlogin = x\nusername = someone\ntoken = y\ncopr_url = https://copr.fedorainfracloud.org').status).toBe(0);
    expect(readFileSync(join(home, '.config', 'copr'), 'utf8')).toContain('username = someone');
  });
});

describe("the build legs run the quick start's commands, as .ci/run does", () => {
  const readme = execFileSync(process.execPath, [join(ROOT, '.ci', 'readme-commands.mjs')], { encoding: 'utf8' }).split('\n');
  const quickStart = readme.find((l) => l.includes('armkit build cryptodev'))!;
  const parts = quickStart.split('&&').map((p) => p.trim());
  const buildLine = parts.find((p) => p.startsWith('npx armkit build'))!;
  const readmeBuild = words(buildLine).slice(2);
  const readmeArgs = (flag: string) => readmeBuild[readmeBuild.indexOf(flag) + 1]!;
  const options: CiOptions = { arch: readmeArgs('--arch'), recipes: readmeBuild[1]!, kernel: readmeArgs('--kernel'), test: readmeBuild.includes('--test') };

  for (const system of ['github', 'gitlab'] as const) {
    it(`${system}: npm ci, doctor --fix for what the build and test need, then the same build and its test`, () => {
      const workflow = parse(generate(system, options)) as Record<string, unknown>;
      const leg =
        system === 'github'
          ? (workflow.jobs as Record<string, { steps: Array<{ run?: string }> }>).build!.steps.flatMap((s) => (s.run ? [s.run.trim()] : []))
          : (workflow['armkit-build'] as { script: string[] }).script;
      // One value per dimension here: the matrix's variables are the quick start's values.
      const values: Record<string, string> = { ARCH: options.arch!, RECIPE: options.recipes!, KERNEL: options.kernel! };
      const commands = leg
        .filter((c) => c === 'npm ci' || c.startsWith('npx armkit'))
        .map((c) => words(c).map((w) => (isVariable(w) ? values[w.slice(2, -1)]! : w)));
      expect(parts[0]).toBe('npm ci');
      expect(commands[0]).toEqual(['npm', 'ci']);
      // doctor: the quick start's flags, with --for naming what its default covers (build, and test which --fix installs).
      const readmeDoctor = words(parts[1]!);
      const doctor = commands[1]!;
      expect(doctor.filter((w, i) => w !== '--for' && doctor[i - 1] !== '--for')).toEqual(readmeDoctor);
      const defaults = parseUses(undefined);
      expect(doctor[doctor.indexOf('--for') + 1]!.split(',').sort()).toEqual([...defaults.required, ...defaults.optional].sort());
      // build: the same command, its --test run as its own step (armkit test of the same recipe, arch and kernel).
      expect(commands[2]).toEqual(['npx', 'armkit', ...readmeBuild.filter((w) => w !== '--test')]);
      expect(commands[3]).toEqual(['npx', 'armkit', 'test', options.recipes, '--arch', options.arch, '--kernel', options.kernel]);
      expect(commands).toHaveLength(4);
    });
  }

  it(".ci/run builds the README's command with only an offline source added, in a clean Debian 12 root like the jobs' image", () => {
    const run = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
    expect(run).toContain("grep -m1 'armkit build cryptodev'");
    const added = /^build_cmd="\$build_cmd (.*)"$/m.exec(run)![1]!;
    expect(words(added).filter((w) => w.startsWith('--'))).toEqual(['--source', '--version']);
    expect(run).toMatch(/fresh Debian 12 root/);
    for (const system of ['github', 'gitlab'] as const) {
      const model = ciModel(system, options, ROOT);
      expect(model.image).toBe('node:20-bookworm');
    }
  });
});

describe('docs/ci.md', () => {
  it("shows the workflow armkit ci writes for the quick start's build, as it is written", () => {
    const doc = readFileSync(join(ROOT, 'docs', 'ci.md'), 'utf8');
    const command = /```sh\nnpx (armkit ci github [^\n]+)\n```/.exec(doc)![1]!;
    const shown = /```yaml\n([\s\S]*?)```/.exec(doc)![1]!;
    expect(command).toBe('armkit ci github --arch aarch64 --recipes cryptodev --kernel debian:latest --test');
    expect(shown).toBe(generate('github', { arch: 'aarch64', recipes: 'cryptodev', kernel: 'debian:latest', test: true }));
  });
});

describe('what armkit ci refuses', () => {
  it('values the CI system would read otherwise, and combinations that cannot work', () => {
    expect(() => yamlScalar('${{ secrets.X }}')).toThrow(/contains "\$"/);
    expect(() => yamlScalar('a\nb')).toThrow(/newline/);
    expect(yamlScalar('debian:latest')).toBe('"debian:latest"');
    const refuse = (options: CiOptions) => catchArmkit(() => ciModel('github', options, ROOT));
    expect(refuse({ kernel: '$(reboot)' }).message).toMatch(/^--kernel "\$\(reboot\)": only letters/);
    expect(refuse({ recipes: 'openssl' }).message).toMatch(/a spec recipe rebuilds a distribution's source RPM/);
    expect(refuse({ recipes: 'cryptodv' }).message).toMatch(/did you mean "cryptodev"/);
    expect(refuse({ arch: 'sparc' }).exitCode).toBe(2);
    expect(refuse({ engine: 'copr' }).message).toMatch(/needs --copr-project/);
    expect(refuse({ engine: 'copr', coprProject: 'a/b', test: true }).message).toMatch(/^--test with --engine copr/);
    expect(refuse({ engine: 'copr', coprProject: 'a/b', arch: 'armv7hl' }).message).toMatch(/no longer builds for armv7hl/);
    expect(refuse({ engine: 'copr', coprProject: 'a/b', kernel: 'debian:latest' }).message).toMatch(/chroot's kernel-devel/);
    expect(refuse({ arch: 'armv5tel', test: true }).message).toMatch(/no QEMU board for armv5tel/);
    expect(refuse({ engine: 'mock' }).message).toMatch(/local .* or copr/);
    expect(refuse({ baseUrl: 'https://example.org/$basearch' }).message).toMatch(/"\$"/);
  });

  it('replaces a file it wrote, refuses any other without --force, and prints with --out -', async () => {
    const dir = tempDir();
    const file = join(dir, 'workflow.yml');
    await ciCommand('github', { out: file });
    const first = readFileSync(file, 'utf8');
    expect(writtenByArmkit(first)).toBe(true);
    await ciCommand('github', { out: file, arch: 'armv7hl' });
    expect(readFileSync(file, 'utf8')).toContain('arch: ["armv7hl"]');
    writeFileSync(file, 'name: mine\non: push\n');
    const refused = await ciCommand('github', { out: file }).catch((e: unknown) => e as { message: string; exitCode: number });
    expect(refused).toMatchObject({ exitCode: 2 });
    expect((refused as { message: string }).message).toMatch(/armkit did not write it .*--force/);
    expect(readFileSync(file, 'utf8')).toBe('name: mine\non: push\n');
    await ciCommand('github', { out: file, force: true });
    expect(readFileSync(file, 'utf8')).toBe(first);
    // A mark further down is no mark: only the first line counts.
    expect(writtenByArmkit(`name: x\n${first}`)).toBe(false);
    expect(catchArmkit(() => ciModel('github', { engine: 'local', coprProject: 'a/b' }, ROOT)).message).toMatch(/for --engine copr/);
    await expect(ciCommand('jenkins', {})).rejects.toMatchObject({ exitCode: 2 });
  });
});
