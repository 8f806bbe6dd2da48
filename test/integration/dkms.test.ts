/**
 * DKMS modules as armkit recipes, through the CLI: `recipe import dkms` of the suite's own DKMS-style tree
 * (test/fixtures/dkms-mini: two modules in subdirectories, one using the other's symbol, a patch, MODULES_CONF) and
 * of real Debian -dkms packages read through armkit's private apt state (nothing of theirs is in the repository),
 * then `build` (rpmbuild, the cross compiler, Debian's headers) and `test` (a QEMU guest of the target kernel:
 * installed, every module loads, every module unloads).
 */
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { armkit, ROOT, show, tempDir } from '../helpers/cli.js';
import { rpmQuery, unpackRpm } from '../helpers/rpm.js';

const FIXTURE = join(ROOT, 'test/fixtures/dkms-mini');

interface Check {
  name: string;
  status: 'pass' | 'fail' | 'skipped';
  detail?: string;
}

async function buildAndTest(recipe: string, recipes: string, arch: string, out: string) {
  const b = await armkit(['build', recipe, '--recipes', recipes, '--arch', arch, '--kernel', 'debian:latest', '--out', out, '--json']);
  expect(b.exitCode, show(b)).toBe(0);
  const doc = JSON.parse(b.stdout);
  const t = await armkit(['test', recipe, '--recipes', recipes, '--arch', arch, '--out', out, '--json']);
  expect(t.exitCode, show(t)).toBe(0);
  const checks = (JSON.parse(t.stdout).results as Check[]) ?? [];
  return { doc, checks, serial: readFileSync(JSON.parse(t.stdout).serialLog, 'utf8') };
}

describe('recipe import dkms DIR: the suite module', () => {
  const recipes = tempDir('dkms-recipes');
  const out = tempDir('dkms-out');

  it('imports, lists, shows; builds one kmod package with both modules for aarch64 and proves them in the guest', async () => {
    const imp = await armkit(['recipe', 'import', 'dkms', FIXTURE, '--out', recipes]);
    expect(imp.exitCode, show(imp)).toBe(0);
    // The field armkit does not act on is named, never dropped silently.
    expect(imp.stderr).toContain('POST_INSTALL');
    const file = join(recipes, 'armkit-dkms-mini.yaml');
    expect(readFileSync(file, 'utf8')).toContain('kind: kmod');

    const again = await armkit(['recipe', 'import', 'dkms', FIXTURE, '--out', recipes]);
    expect(again.exitCode, show(again)).toBe(2);
    expect(again.stderr).toContain('--force');

    const list = await armkit(['recipes', '--recipes', recipes, '--json']);
    expect(list.exitCode, show(list)).toBe(0);
    const rows = JSON.parse(list.stdout).recipes as Array<{ name: string; kind: string; origin: string; versions: string[] }>;
    expect(rows.find((r) => r.name === 'armkit-dkms-mini')).toMatchObject({ kind: 'kmod (dkms)', origin: 'user', versions: ['0.2'] });
    expect(rows.find((r) => r.name === 'cryptodev')).toMatchObject({ kind: 'kmod', origin: 'built-in' });

    const showIt = await armkit(['recipe', 'show', 'armkit-dkms-mini', '--recipes', recipes]);
    expect(showIt.exitCode, show(showIt)).toBe(0);
    expect(showIt.stdout).toContain(`from ${file}`);
    expect(showIt.stdout).toContain('MAKE[0]=');

    const { doc, checks, serial } = await buildAndTest('armkit-dkms-mini', recipes, 'aarch64', out);
    const kmod = join(doc.out, doc.manifest.artifacts.find((a: { name: string }) => a.name.startsWith('kmod-armkit-dkms-mini-')).file);
    const provides = await rpmQuery(kmod, '--provides');
    expect(provides).toContain('kmod(armkit_dkms_a.ko)');
    expect(provides).toContain('kmod(armkit_dkms_b.ko)');
    expect(doc.manifest.artifacts.some((a: { arch: string }) => a.arch === 'src')).toBe(true);
    const payload = tempDir('dkms-payload');
    await unpackRpm(kmod, payload);
    const release = doc.manifest.kernel.release as string;
    expect(existsSync(join(payload, 'lib/modules', release, 'extra/armkit-dkms-mini/b/armkit_dkms_b.ko'))).toBe(true);
    expect(readFileSync(join(payload, 'etc/modprobe.d/armkit-dkms-mini.conf'), 'utf8')).toContain('options armkit_dkms_b greeting=2');
    expect(checks.map((c) => `${c.name} ${c.status}`)).toEqual([
      'kernel-release pass',
      'installed pass',
      'load-armkit_dkms_a pass',
      'load-armkit_dkms_b pass',
      'unload-armkit_dkms_b pass',
      'unload-armkit_dkms_a pass',
    ]);
    // The kernel's own words: the patch (PATCH_MATCH matched 6.x) and MODULES_CONF's option reached the module.
    expect(serial).toContain('armkit_dkms_b: a says 42, greeting 2 (patched)');
    // PRE_BUILD ran before make for this kernel (module a includes what it wrote), POST_BUILD after it.
    expect(serial).toContain(`armkit_dkms_a: loaded (pre-build ran for ${release})`);
    expect(readFileSync(join(doc.out, 'logs', 'rpmbuild.log'), 'utf8')).toContain(
      'armkit-dkms-mini post-build: a/armkit_dkms_a.ko and b/armkit_dkms_b.ko are built',
    );
  });

  it('armkit install: builds as DKMS does (patch, PRE_BUILD, make, POST_BUILD) and installs both modules and modprobe.d', async () => {
    const recipes = tempDir('dkms-install-recipes');
    expect((await armkit(['recipe', 'import', 'dkms', FIXTURE, '--out', recipes])).exitCode).toBe(0);
    const root = tempDir('dkms-install-root');
    const dry = await armkit(['install', 'armkit-dkms-mini', '--recipes', recipes, '--kernel', 'debian:latest', '--destdir', root, '--dry-run']);
    expect(dry.exitCode, show(dry)).toBe(0);
    expect(dry.stdout).toContain('patch -p1 -i');
    expect(existsSync(join(root, 'lib')), 'a dry run installed something').toBe(false);
    const r = await armkit(['install', 'armkit-dkms-mini', '--recipes', recipes, '--kernel', 'debian:latest', '--destdir', root]);
    expect(r.exitCode, show(r)).toBe(0);
    const release = /for Linux (\S+) into/.exec(r.stderr)![1]!;
    const a = join(root, 'lib/modules', release, 'extra/armkit-dkms-mini/armkit_dkms_a.ko');
    const b = join(root, 'lib/modules', release, 'extra/armkit-dkms-mini/b/armkit_dkms_b.ko');
    // PRE_BUILD wrote the header module a prints, the patch reached module b, POST_BUILD saw both modules.
    expect(readFileSync(a).includes(`pre-build ran for ${release}`)).toBe(true);
    expect(readFileSync(b).includes('(patched)')).toBe(true);
    expect(r.stderr).not.toContain('is not executable');
    expect(readFileSync(join(root, 'etc/modprobe.d/armkit-dkms-mini.conf'), 'utf8')).toContain('options armkit_dkms_b greeting=2');

    // BUILD_EXCLUSIVE_CONFIG naming an option the kernel lacks: refused before anything is built.
    const excluded = tempDir('dkms-exclusive');
    cpSync(FIXTURE, excluded, { recursive: true });
    writeFileSync(join(excluded, 'dkms.conf'), `${readFileSync(join(FIXTURE, 'dkms.conf'), 'utf8')}BUILD_EXCLUSIVE_CONFIG="CONFIG_ARMKIT_NO_SUCH_OPTION"\n`);
    const exRecipes = tempDir('dkms-exclusive-recipes');
    expect((await armkit(['recipe', 'import', 'dkms', excluded, '--out', exRecipes])).exitCode).toBe(0);
    const exRoot = tempDir('dkms-exclusive-root');
    const refused = await armkit(['install', 'armkit-dkms-mini', '--recipes', exRecipes, '--kernel', 'debian:latest', '--destdir', exRoot]);
    expect(refused.exitCode, show(refused)).toBe(2);
    expect(refused.stderr).toContain('BUILD_EXCLUSIVE_CONFIG excludes Linux');
    expect(refused.stderr).toContain('it lacks CONFIG_ARMKIT_NO_SUCH_OPTION');
    expect(existsSync(join(exRoot, 'lib'))).toBe(false);
  });

  it('refuses a dkms.conf a shell would be needed to read, and an arch the package excludes, as armkit errors', async () => {
    const bad = tempDir('dkms-bad');
    writeFileSync(join(bad, 'dkms.conf'), 'PACKAGE_NAME=bad\nPACKAGE_VERSION=1\nMAKE[0]="make; curl evil"\n');
    const r = await armkit(['recipe', 'import', 'dkms', bad, '--out', tempDir('dkms-bad-out')]);
    expect(r.exitCode, show(r)).toBe(3);
    expect(r.stderr).toMatch(/^armkit: error: .*MAKE\[0\]/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);

    const only = tempDir('dkms-x86');
    mkdirSync(join(only, 'src'));
    writeFileSync(join(only, 'dkms.conf'), 'PACKAGE_NAME=onlyx86\nPACKAGE_VERSION=1\nBUILD_EXCLUSIVE_ARCH="^x86_64$"\n');
    const dir = tempDir('dkms-x86-recipes');
    expect((await armkit(['recipe', 'import', 'dkms', only, '--out', dir])).exitCode).toBe(0);
    const b = await armkit(['build', 'onlyx86', '--recipes', dir, '--arch', 'aarch64', '--kernel', 'debian:latest', '--out', tempDir('x')]);
    expect(b.exitCode, show(b)).toBe(2);
    expect(b.stderr).toContain('BUILD_EXCLUSIVE_ARCH');

    const none = await armkit(['recipe', 'import', 'dkms', 'debian:armkit-no-such-package-dkms', '--out', dir]);
    expect(none.exitCode, show(none)).toBe(2);
    expect(none.stderr).toContain('has no package armkit-no-such-package-dkms');
  });
});

// Modules nobody here wrote, from Debian's archive (reached through armkit's private apt state, as in CI).
const DEBIAN = [
  { pkg: 'v4l2loopback-dkms', recipe: 'v4l2loopback', modules: ['v4l2loopback'] },
  {
    pkg: 'gost-crypto-dkms',
    recipe: 'gost-crypto',
    modules: ['gost28147_generic', 'gosthash94_generic', 'kuznyechik_generic', 'magma_generic', 'streebog_generic', 'gost_test'],
  },
  { pkg: 'openvpn-dco-dkms', recipe: 'ovpn-dco', modules: ['ovpn_dco_v2'] },
];

for (const d of DEBIAN) {
  describe(`recipe import dkms debian:${d.pkg}`, () => {
    const recipes = tempDir(`dkms-${d.recipe}`);
    it('imports the package with its .deb pinned by sha256', async () => {
      const r = await armkit(['recipe', 'import', 'dkms', `debian:${d.pkg}`, '--out', recipes]);
      expect(r.exitCode, show(r)).toBe(0);
      const text = readFileSync(join(recipes, `${d.recipe}.yaml`), 'utf8');
      expect(text).toMatch(/sha256: [0-9a-f]{64}/);
      expect(text).toMatch(/deb: usr\/src\//);
    });
    for (const arch of ['aarch64', 'x86_64']) {
      it(`builds for ${arch} against debian:latest and every module loads and unloads in the guest`, async () => {
        const { checks, doc } = await buildAndTest(d.recipe, recipes, arch, tempDir(`dkms-${d.recipe}-${arch}`));
        expect(doc.manifest.source.verified).toBe(true);
        for (const m of d.modules) {
          expect(checks.find((c) => c.name === `load-${m}`)?.status, JSON.stringify(checks)).toBe('pass');
          expect(checks.find((c) => c.name === `unload-${m}`)?.status, JSON.stringify(checks)).toBe('pass');
        }
      });
    }
  });
}
