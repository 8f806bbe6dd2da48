/**
 * dkms.conf as DKMS reads it: sourced by bash (the suite's own DKMS-style tree, test/fixtures/dkms-mini, and
 * fragments written here), its variables read back as data, and what they mean for one kernel.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ARCHES } from '../../src/arch.js';
import { copyrightLicense, parsePrintUris, stanzaFields } from '../../src/commands/recipe.js';
import { evaluateDkmsConf, parseRecords } from '../../src/dkms/conf.js';
import { interpretDkms, makeWords } from '../../src/dkms/model.js';
import { ArmkitError } from '../../src/errors.js';
import { dependencyClosure, loadOrder, modinfoOf, parseModulesDep } from '../../src/guest/modules.js';
import { kmodCheckNames } from '../../src/plan/guest-kmod.js';
import { packagedModules, planKmodInstall, renderKmodSpec, workDirFor } from '../../src/plan/kmod.js';
import { createRunner } from '../../src/proc/runner.js';
import { kmodRecipeSchema } from '../../src/recipes/schema.js';
import type { ExecStep } from '../../src/step.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURE = join(ROOT, 'test/fixtures/dkms-mini');
const runner = createRunner();
const ctx = { kernelver: '6.1.0-57-arm64', arch: 'aarch64', kernel_source_dir: '/armkit/headers', module: 'armkit-dkms-mini', module_version: '0.2' };

async function read(text: string, c = ctx) {
  return interpretDkms(await evaluateDkmsConf(runner, text, c, 'test dkms.conf'), c, 'test dkms.conf');
}

async function refusal(promise: Promise<unknown>): Promise<ArmkitError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ArmkitError);
  return error as ArmkitError;
}

describe('evaluateDkmsConf: bash sources the fragment, the variables come back as data', () => {
  it('reads the fixture: two modules in subdirectories, a patch for this kernel, MODULES_CONF, the make command', async () => {
    const d = await read(readFileSync(join(FIXTURE, 'dkms.conf'), 'utf8'));
    expect(d.packageName).toBe('armkit-dkms-mini');
    expect(d.packageVersion).toBe('0.2');
    expect(d.modules).toEqual([
      { name: 'armkit_dkms_a', built: 'a/armkit_dkms_a.ko', dest: 'extra/armkit-dkms-mini' },
      { name: 'armkit_dkms_b', built: 'b/armkit_dkms_b.ko', dest: 'extra/armkit-dkms-mini/b' },
    ]);
    expect(d.patches).toEqual(['greeting.patch']);
    expect(d.modprobeConf).toEqual(['options armkit_dkms_b greeting=2']);
    expect(d.autoinstall).toBe(true);
    expect(d.unsupported.join(' ')).toContain('POST_INSTALL');
    // PRE_BUILD and POST_BUILD are run now: the script (its ./ dropped) and its words, ${kernelver} expanded.
    expect(d.unsupported.join(' ')).not.toMatch(/PRE_BUILD|POST_BUILD/);
    expect(d.preBuild).toEqual([[{ text: 'pre-build.sh' }], [{ text: '6.1.0-57-arm64' }]]);
    expect(d.postBuild).toEqual([[{ text: 'post-build.sh' }]]);
    // ${kernel_source_dir} and $dkms_tree/NAME/VERSION/build became the places armkit fills in per build.
    expect(d.make).toEqual([[{ text: 'make' }], [{ text: '-C' }], [{ token: 'kernel_dir' }], [{ text: 'M=' }, { token: 'build_dir' }], [{ text: 'modules' }]]);
  });

  it('skips a patch whose PATCH_MATCH does not match the kernel', async () => {
    const d = await read(readFileSync(join(FIXTURE, 'dkms.conf'), 'utf8'), { ...ctx, kernelver: '4.19.0-27-arm64' });
    expect(d.patches).toEqual([]);
  });

  it('computes from the kernel tree as DKMS does (the fixture excludes a kernel without CONFIG_MODULES)', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const tree = mkdtempSync(join(tmpdir(), 'armkit-kernel-'));
    writeFileSync(join(tree, '.config'), '# CONFIG_MODULES is not set\n');
    const error = await refusal(read(readFileSync(join(FIXTURE, 'dkms.conf'), 'utf8'), { ...ctx, kernel_source_dir: tree }));
    expect(error.kind).toBe('usage');
    expect(error.message).toContain('BUILD_EXCLUSIVE_KERNEL');
    writeFileSync(join(tree, '.config'), 'CONFIG_MODULES=y\n');
    await expect(read(readFileSync(join(FIXTURE, 'dkms.conf'), 'utf8'), { ...ctx, kernel_source_dir: tree })).resolves.toBeDefined();
  });

  it('sees only the context DKMS sets: the environment is cleared', async () => {
    process.env.ARMKIT_SECRET_FOR_TEST = 'leaked';
    const vars = await evaluateDkmsConf(runner, 'SEEN="${ARMKIT_SECRET_FOR_TEST:-none} $kernelver $arch"\nHOMEDIR="$HOME"\n', ctx, 't');
    delete process.env.ARMKIT_SECRET_FOR_TEST;
    expect(vars.get('SEEN')).toEqual({ scalar: 'none 6.1.0-57-arm64 aarch64' });
    expect((vars.get('HOMEDIR') as { scalar: string }).scalar).toMatch(/armkit-dkms-/);
  });

  it('reads values with quotes, newlines and $ as data, never as shell again', async () => {
    const vars = await evaluateDkmsConf(runner, `MAKE[0]='make "x" $(touch /tmp/armkit-never)'\nPATCH[3]=$'a\\nb'\n`, ctx, 't');
    expect(vars.get('MAKE')).toEqual({ array: new Map([['0', 'make "x" $(touch /tmp/armkit-never)']]) });
    expect(vars.get('PATCH')).toEqual({ array: new Map([['3', 'a\nb']]) });
    const { existsSync } = await import('node:fs');
    expect(existsSync('/tmp/armkit-never')).toBe(false);
  });

  it('keeps the fragment output off the data channel', async () => {
    const vars = await evaluateDkmsConf(runner, 'echo "S\\0FAKE\\0x"; printf "A\\0B\\0"; PACKAGE_NAME=p\n', ctx, 't');
    expect([...vars.keys()]).toEqual(['PACKAGE_NAME']);
  });

  it('reports a fragment that fails to parse as a recipe error with the words of bash', async () => {
    const error = await refusal(evaluateDkmsConf(runner, 'if then fi\n', ctx, 'broken dkms.conf'));
    expect(error.kind).toBe('recipe');
    expect(error.message).toContain('broken dkms.conf');
    expect(error.details.join(' ')).toMatch(/syntax error/);
  });

  it('parses the NUL records of the driver', () => {
    const { vars, status } = parseRecords(['S', 'A', 'x y', 'A', 'B', '001', 'v', 'X', 'status', '0', ''].join('\0'));
    expect(status).toBe(0);
    expect(vars.get('A')).toEqual({ scalar: 'x y' });
    expect(vars.get('B')).toEqual({ array: new Map([['001', 'v']]) });
  });
});

describe('interpretDkms: what the fields mean, refused when they are not plain', () => {
  it('takes MAKE alone as MAKE[0] (openvpn-dco-dkms writes it so) and the default location DKMS uses', async () => {
    const d = await read('PACKAGE_NAME=ovpn\nPACKAGE_VERSION=1\nMAKE="make VER=${kernelver} KERNEL_SRC=${kernel_source_dir}"\nBUILT_MODULE_NAME[0]=ovpn-x\n');
    expect(d.make.map((w) => w.map((p) => ('text' in p ? p.text : `{${p.token}}`)).join(''))).toEqual([
      'make',
      'VER=6.1.0-57-arm64',
      'KERNEL_SRC={kernel_dir}',
    ]);
    expect(d.modules).toEqual([{ name: 'ovpn-x', built: 'ovpn-x.ko', dest: 'updates/dkms' }]);
    expect(d.notes.join(' ')).toContain('updates/dkms');
  });

  it('picks MAKE[n] when MAKE_MATCH[n] matches the kernel', async () => {
    const d = await read('PACKAGE_NAME=p\nPACKAGE_VERSION=1\nMAKE[0]="make old"\nMAKE[1]="make new"\nMAKE_MATCH[1]="^6\\."\n');
    expect(d.make[1]).toEqual([{ text: 'new' }]);
  });

  it('refuses an arch and a kernel the package excludes, with its own reason', async () => {
    const arch = await refusal(read('PACKAGE_NAME=p\nPACKAGE_VERSION=1\nBUILD_EXCLUSIVE_ARCH="x86_64"\n'));
    expect(arch.kind).toBe('usage');
    expect(arch.message).toContain('excludes aarch64');
    const max = await refusal(read('PACKAGE_NAME=p\nPACKAGE_VERSION=1\nBUILD_EXCLUSIVE_KERNEL_MAX="5.15"\n'));
    expect(max.message).toContain('BUILD_EXCLUSIVE_KERNEL_MAX');
    const d = await read('PACKAGE_NAME=p\nPACKAGE_VERSION=1\nBUILD_EXCLUSIVE_CONFIG="CONFIG_VIDEO_DEV !CONFIG_FOO"\n');
    expect(d.exclusiveConfig).toEqual(['CONFIG_VIDEO_DEV', '!CONFIG_FOO']);
  });

  it.each([
    ['a make word a shell would act on', 'PACKAGE_NAME=p\nPACKAGE_VERSION=1\nMAKE[0]="make && rm -rf /"\n', 'shell'],
    ['a module path out of the tree', 'PACKAGE_NAME=p\nPACKAGE_VERSION=1\nBUILT_MODULE_NAME[0]=m\nBUILT_MODULE_LOCATION[0]=../..\n', 'relative path'],
    ['a destination outside /kernel, /updates, /extra', 'PACKAGE_NAME=p\nPACKAGE_VERSION=1\nDEST_MODULE_LOCATION[0]=/etc\n', '/kernel, /updates or /extra'],
    ['a module name with a space', 'PACKAGE_NAME=p\nPACKAGE_VERSION=1\nBUILT_MODULE_NAME[0]="a b"\n', 'module name'],
    ['a patch name with a path', 'PACKAGE_NAME=p\nPACKAGE_VERSION=1\nPATCH[0]=../x.patch\n', 'patches/'],
    ['no PACKAGE_NAME', 'PACKAGE_VERSION=1\n', 'PACKAGE_NAME'],
    ['MODULES_CONF with %', 'PACKAGE_NAME=p\nPACKAGE_VERSION=1\nMODULES_CONF[0]="options m x=%(id)"\n', 'MODULES_CONF'],
  ])('refuses %s', async (_what, conf, words) => {
    const error = await refusal(read(conf));
    expect(error.kind).toBe('recipe');
    expect(error.message).toContain(words);
  });

  it('refuses a PRE_BUILD or POST_BUILD that is no script of the source tree, or has shell syntax', async () => {
    for (const [line, why] of [
      ['PRE_BUILD="/usr/bin/curl evil"', 'must be a plain relative path inside the source tree'],
      ['POST_BUILD="../outside.sh"', 'must be a plain relative path inside the source tree'],
      ['PRE_BUILD="configure; rm -rf /"', 'characters a shell would interpret'],
      ['PRE_BUILD="${kernel_source_dir}/scripts/x"', 'must start with a script inside the source tree'],
      ['POST_BUILD="./"', 'must start with a script inside the source tree'],
    ]) {
      const error = await refusal(read(`PACKAGE_NAME=x\nPACKAGE_VERSION=1\n${line}\n`));
      expect(error.kind, line).toBe('recipe');
      expect(error.message, line).toContain(why);
    }
  });

  it('splits quoted make words and finds the build directory inside a word', () => {
    const words = makeWords(`make 'KCPPFLAGS=-DX=1' M=/var/lib/dkms/p/1/build/src`, ctx, 'p', '1', 't', 'MAKE[0]');
    expect(words).toEqual([[{ text: 'make' }], [{ text: 'KCPPFLAGS=-DX=1' }], [{ text: 'M=' }, { token: 'build_dir' }, { text: '/src' }]]);
  });
});

/** The suite's DKMS tree as the planner sees it for Linux 6.1.0-57-arm64 (aarch64, cross). */
async function dkmsInput() {
  const d = await read(readFileSync(join(FIXTURE, 'dkms.conf'), 'utf8'));
  const recipe = kmodRecipeSchema.parse({
    name: 'armkit-dkms-mini',
    kind: 'kmod',
    package: 'armkit-dkms-mini',
    summary: 's',
    description: 'd',
    homepage: 'https://example.org/',
    license: 'GPL',
    release: 1,
    sources: [
      {
        version: '0.2',
        url: 'file:///x.tar.gz',
        file: 'x.tar.gz',
        sha256: 'a'.repeat(64),
        topdir: 'armkit-dkms-mini-0.2',
        kernels: '>=0.0.0',
        date: '2026-01-01',
      },
    ],
    module: { name: 'armkit-dkms-mini', autoload: false },
    dkms: { conf: 'PACKAGE_NAME=x', from: 'test' },
  });
  const input = {
    recipe,
    arch: ARCHES.find((a) => a.rpm === 'aarch64')!,
    mode: 'cross' as const,
    crossPrefix: 'aarch64-linux-gnu-',
    kernel: { spec: 'debian:latest', source: 'debian' as const, dir: '/k', release: '6.1.0-57-arm64', version: '6.1.192', prepare: [], identity: 'x' },
    source: { kind: 'recipe' as const, source: recipe.sources[0]! },
    cacheDir: '/cache',
    jobs: 2,
    sourceDateEpoch: 1767225600,
    licenseFiles: [],
    armkitVersion: '0.0.0',
    dkms: d,
  };
  return input;
}

describe('a DKMS recipe in the kmod planner', () => {
  it('renders one kmod package with every module, its provides, the patch and the make command', async () => {
    const input = await dkmsInput();
    expect(packagedModules(input).map((m) => m.name)).toEqual(['armkit_dkms_a', 'armkit_dkms_b']);
    const spec = renderKmodSpec(input, 'x.tar.gz', 'armkit-dkms-mini-0.2').split('\n');
    expect(spec).toContain('Provides:       kmod(armkit_dkms_a.ko) = %{version}-%{release}');
    expect(spec).toContain('Provides:       kmod(armkit_dkms_b.ko) = %{version}-%{release}');
    expect(spec).toContain('patch -p1 -i patches/greeting.patch');
    expect(spec).toContain(
      'make %{?_smp_mflags} KERNELRELEASE=%{kernel_release} -C %{kernel_dir} M="$PWD" modules %{?kernel_arch:ARCH=%{kernel_arch}} %{?cross_compile:CROSS_COMPILE=%{cross_compile}}',
    );
    expect(spec).toContain('/lib/modules/%{kernel_release}/extra/armkit-dkms-mini/b/armkit_dkms_b.ko');
    // PRE_BUILD before make and POST_BUILD after it, from the build directory, skipped (as DKMS does) when not executable.
    const pre = spec.findIndex((l) => l.startsWith('if [ -x pre-build.sh ]'));
    const make = spec.findIndex((l) => l.startsWith('make %{?_smp_mflags}'));
    const post = spec.findIndex((l) => l.startsWith('if [ -x post-build.sh ]'));
    expect(spec[pre]).toBe(
      "if [ -x pre-build.sh ]; then ./pre-build.sh 6.1.0-57-arm64; else echo 'armkit: dkms.conf PRE_BUILD script pre-build.sh is not executable: skipped, as DKMS does' >&2; fi",
    );
    expect(spec[post]).toContain('then ./post-build.sh; else');
    expect(pre).toBeGreaterThan(0);
    expect(make).toBeGreaterThan(pre);
    expect(post).toBeGreaterThan(make);
    expect(spec).toContain('%config(noreplace) %{_sysconfdir}/modprobe.d/%{kmod_name}.conf');
    // No header, no devel package.
    expect(spec.some((l) => l.startsWith('%package devel'))).toBe(false);
  });
});

describe('a DKMS recipe in armkit install', () => {
  it('applies the patch, runs PRE_BUILD, make and POST_BUILD in the source, installs each module where dkms.conf says', async () => {
    const base = await dkmsInput();
    const input = { ...base, mode: 'native' as const, crossPrefix: undefined, runningRelease: '6.1.0-57-arm64' };
    const plan = planKmodInstall(input);
    const src = `${workDirFor(input, 'install', '/')}/src`;
    const execs = plan.steps.filter((s): s is ExecStep => s.kind === 'exec').map((s) => [s.argv, s.cwd]);
    expect(execs.slice(0, 4)).toEqual([
      [['patch', '-p1', '-i', `${src}/patches/greeting.patch`], src],
      [['sh', '-c', expect.stringContaining('exec "$@"'), 'sh', './pre-build.sh', '6.1.0-57-arm64'], src],
      [['make', '-j2', 'KERNELRELEASE=6.1.0-57-arm64', '-C', '/k', `M=${src}`, 'modules'], src],
      [['sh', '-c', expect.stringContaining('exec "$@"'), 'sh', './post-build.sh'], src],
    ]);
    // The hook's fixed shell line never holds a value of the dkms.conf.
    const hook = plan.steps.find((s): s is ExecStep => s.kind === 'exec' && s.argv[0] === 'sh')!;
    expect(hook.argv[2]).not.toContain('pre-build');
    expect(execs.map(([argv]) => (argv as string[]).join(' '))).toEqual(
      expect.arrayContaining([
        `install -D -m 0644 ${src}/a/armkit_dkms_a.ko /lib/modules/6.1.0-57-arm64/extra/armkit-dkms-mini/armkit_dkms_a.ko`,
        `install -D -m 0644 ${src}/b/armkit_dkms_b.ko /lib/modules/6.1.0-57-arm64/extra/armkit-dkms-mini/b/armkit_dkms_b.ko`,
        'depmod -a 6.1.0-57-arm64',
      ]),
    );
    expect(plan.steps.filter((s) => s.kind === 'check-module')).toHaveLength(2);
    const conf = plan.steps.find((s) => s.kind === 'write')!;
    expect(conf).toMatchObject({ path: '/etc/modprobe.d/armkit-dkms-mini.conf' });
    // As DKMS installs: nothing is loaded, and the plan says how to load them.
    expect(execs.some(([argv]) => (argv as string[])[0] === 'modprobe')).toBe(false);
    expect(plan.warnings.join('\n')).toContain('modprobe armkit_dkms_a, armkit_dkms_b');
    expect(plan.requires).toContain('patch');
  });

  it('takes the tree out of a DKMS package (.deb) source', async () => {
    const base = await dkmsInput();
    const deb = { ...base.source.source, file: 'm-dkms_1_all.deb', deb: 'usr/src/m-1' };
    const input = { ...base, source: { kind: 'recipe' as const, source: deb }, mode: 'native' as const, crossPrefix: undefined, runningRelease: 'x' };
    const plan = planKmodInstall(input);
    const work = workDirFor(input, 'install', '/');
    expect(plan.steps.find((s) => s.kind === 'exec' && s.argv[0] === 'dpkg-deb')).toMatchObject({
      argv: ['dpkg-deb', '-x', '/cache/sources/aaaaaaaaaaaa/m-dkms_1_all.deb', `${work}/DEB`],
    });
    expect(plan.steps.find((s) => s.kind === 'copy')).toMatchObject({ from: `${work}/DEB/usr/src/m-1`, to: `${work}/src` });
    expect(plan.requires).toContain('dpkg-deb');
  });
});

describe('the generic guest check set', () => {
  it('loads dependencies first and unloads in reverse', () => {
    expect(
      loadOrder([
        { name: 'b', depends: ['a', 'videodev'] },
        { name: 'a', depends: [] },
      ]),
    ).toEqual(['a', 'b']);
    expect(kmodCheckNames([{ name: 'a' }, { name: 'ovpn-dco-v2' }])).toEqual([
      'kernel-release',
      'installed',
      'load-a',
      'load-ovpn_dco_v2',
      'unload-ovpn_dco_v2',
      'unload-a',
    ]);
  });

  it("finds the kernel's modules a package needs through modules.dep", () => {
    const dep = parseModulesDep(
      'kernel/drivers/media/v4l2-core/videodev.ko: kernel/drivers/media/mc/mc.ko\nkernel/drivers/media/mc/mc.ko:\nkernel/net/ipv4/udp_tunnel.ko:\n',
    );
    expect(dependencyClosure(dep, ['videodev', 'nope'], new Set(['own']))).toEqual({
      paths: ['kernel/drivers/media/mc/mc.ko', 'kernel/drivers/media/v4l2-core/videodev.ko'],
      unknown: ['nope'],
    });
  });

  it("reads a module's name and dependencies from its .modinfo strings", () => {
    expect(modinfoOf(Buffer.from('\0license=GPL\0depends=videodev,mc\0name=v4l2loopback\0vermagic=6.1\0'))).toEqual({
      name: 'v4l2loopback',
      depends: ['videodev', 'mc'],
    });
  });
});

describe('what import reads from Debian', () => {
  it('parses apt-get --print-uris, a control stanza and a copyright file', () => {
    expect(
      parsePrintUris(
        "'http://deb.debian.org/debian/pool/main/v/v4l2loopback/v4l2loopback-dkms_0.12.7-2_all.deb' v4l2loopback-dkms_0.12.7-2_all.deb 43452 SHA256:" +
          'b'.repeat(64),
      ),
    ).toEqual({
      url: 'http://deb.debian.org/debian/pool/main/v/v4l2loopback/v4l2loopback-dkms_0.12.7-2_all.deb',
      file: 'v4l2loopback-dkms_0.12.7-2_all.deb',
      sha256: 'b'.repeat(64),
    });
    expect(stanzaFields('Package: x\nDescription: short\n long line\n .\n more\nHomepage: https://h/\n\nPackage: y\n')).toEqual({
      Package: 'x',
      Description: 'short\nlong line\n\nmore',
      Homepage: 'https://h/',
    });
    expect(copyrightLicense('Format: x\n\nFiles: *\nCopyright: me\nLicense: GPL-2+\n\nFiles: debian/*\nLicense: MIT\n')).toBe('GPL-2+');
  });
});
