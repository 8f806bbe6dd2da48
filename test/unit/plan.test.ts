import { describe, expect, it } from 'vitest';
import { findArch } from '../../src/arch.js';
import type { ResolvedKernel } from '../../src/kernel/resolve.js';
import { type BuildPlanInput, type InstallPlanInput, planKmodBuild, planKmodInstall, REPRODUCIBLE_DEFINES, workDirFor } from '../../src/plan/kmod.js';
import { loadKmodRecipe } from '../../src/recipes/load.js';
import type { ExecStep, Plan, Step, WriteStep } from '../../src/step.js';

const { recipe } = loadKmodRecipe('cryptodev');
const source114 = recipe.sources[0]!;
const NOW = new Date('2026-11-27T10:00:00Z');

const arm64Kernel: ResolvedKernel = {
  spec: 'debian:6.1.0-56-arm64',
  source: 'debian',
  dir: '/cache/kernels/debian/arm64/6.1.0-56-arm64/root/usr/src/linux-headers-6.1.0-56-arm64',
  release: '6.1.0-56-arm64',
  version: '6.1.192',
  prepare: [],
  identity: 'test-identity',
};

const amd64Kernel: ResolvedKernel = {
  spec: '6.1.0-56-amd64',
  source: 'installed',
  dir: '/usr/src/linux-headers-6.1.0-56-amd64',
  release: '6.1.0-56-amd64',
  version: '6.1.192',
  prepare: [],
  identity: 'test-identity',
};

function crossBuild(overrides: Partial<BuildPlanInput> = {}): BuildPlanInput {
  return {
    recipe,
    arch: findArch('aarch64'),
    mode: 'cross',
    crossPrefix: 'aarch64-linux-gnu-',
    kernel: arm64Kernel,
    source: { kind: 'recipe', source: source114 },
    cacheDir: '/cache',
    jobs: 4,
    sourceDateEpoch: Math.floor(NOW.getTime() / 1000),
    licenseFiles: recipe.licenseFiles,
    armkitVersion: '0.1.0',
    outDir: '/out',
    nodeps: false,
    engine: 'local',
    hostArch: findArch('x86_64'),
    inputs: { key: 'a'.repeat(64) },
    warnings: [],
    buildRoot: '/tmp/b',
    kernelRealDir: '/real/kernel',
    ...overrides,
  };
}

function nativeBuild(overrides: Partial<BuildPlanInput> = {}): BuildPlanInput {
  return crossBuild({ arch: findArch('x86_64'), mode: 'native', crossPrefix: undefined, kernel: amd64Kernel, ...overrides });
}

const stepsOf = <K extends Step['kind']>(plan: Plan, kind: K) => plan.steps.filter((s): s is Extract<Step, { kind: K }> => s.kind === kind);
const rpmbuildArgv = (plan: Plan): string[] => stepsOf(plan, 'exec').find((s) => s.argv[0] === 'rpmbuild')!.argv;
const specOf = (plan: Plan): string => stepsOf(plan, 'write').find((s) => s.path.endsWith('.spec'))!.content;

/** The values following each `--define`. */
function defines(argv: string[]): string[] {
  return argv.flatMap((a, i) => (argv[i - 1] === '--define' ? [a] : []));
}

describe('planKmodBuild', () => {
  it('orders the steps: clean, logs, sources, spec, rpmbuild, check, publish, keep in the build cache', () => {
    const plan = planKmodBuild(crossBuild());
    expect(plan.steps.map((s) => s.kind)).toEqual([
      'remove',
      'mkdir',
      'mkdir',
      'mkdir',
      'symlink',
      'symlink',
      'fetch',
      'copy',
      'write',
      'write',
      'exec',
      'check-module',
      'publish',
      'remove',
      'copy',
      'remove',
      'rename',
      'remove',
      'remove',
    ]);
    // The build cache keeps the published directory under the build's key, whole or not at all.
    const [, clearPartial, keep, clearStale, complete] = plan.steps.slice(-7, -2);
    // rpmbuild runs at a fixed path named by the key: the source RPM records the expanded spec, paths included.
    expect(plan.steps[4]).toMatchObject({
      kind: 'symlink',
      path: '/tmp/b/aaaaaaaaaaaaaaaaaaaaaaaa',
      target: `${workDirFor(crossBuild(), 'build', '/out')}/rpmbuild`,
    });
    expect(plan.steps[5]).toMatchObject({ kind: 'symlink', path: '/tmp/b/aaaaaaaaaaaaaaaaaaaaaaaa.kernel', target: arm64Kernel.dir });
    expect(plan.steps.slice(-2)).toMatchObject([
      { kind: 'remove', path: '/tmp/b/aaaaaaaaaaaaaaaaaaaaaaaa' },
      { kind: 'remove', path: '/tmp/b/aaaaaaaaaaaaaaaaaaaaaaaa.kernel' },
    ]);
    expect(clearPartial).toMatchObject({ kind: 'remove', path: `/cache/builds/${'a'.repeat(64)}.partial` });
    expect(keep).toMatchObject({ kind: 'copy', from: '/out/cryptodev/1.14/aarch64/6.1.0-56-arm64', to: `/cache/builds/${'a'.repeat(64)}.partial` });
    expect(clearStale).toMatchObject({ kind: 'remove', path: `/cache/builds/${'a'.repeat(64)}` });
    expect(complete).toMatchObject({ kind: 'rename', to: `/cache/builds/${'a'.repeat(64)}` });
    const [remove, logs, sources, specs, , , fetch, copy, conf, spec] = plan.steps as [Step, Step, Step, Step, Step, Step, Step, Step, WriteStep, WriteStep];
    const work = workDirFor(crossBuild(), 'build', '/out');
    expect(remove).toMatchObject({ kind: 'remove', path: work });
    expect(logs).toMatchObject({ kind: 'mkdir', path: `${work}/logs` });
    expect(sources).toMatchObject({ kind: 'mkdir', path: `${work}/rpmbuild/SOURCES` });
    expect(specs).toMatchObject({ kind: 'mkdir', path: `${work}/rpmbuild/SPECS` });
    expect(fetch).toMatchObject({
      kind: 'fetch',
      url: source114.url,
      sha256: source114.sha256,
      dest: `/cache/sources/${source114.sha256.slice(0, 12)}/cryptodev-linux-1.14.tar.gz`,
    });
    expect(copy).toMatchObject({ kind: 'copy', from: (fetch as { dest: string }).dest, to: `${work}/rpmbuild/SOURCES/cryptodev-linux-1.14.tar.gz` });
    expect(conf.path).toBe(`${work}/rpmbuild/SOURCES/cryptodev.conf`);
    expect(conf.content).toMatch(/^cryptodev$/m);
    expect(spec.path).toBe(`${work}/rpmbuild/SPECS/cryptodev-linux.spec`);
    expect(work).toMatch(/^\/cache\/work\/cryptodev-build-aarch64-[0-9a-f]{10}$/);
    expect(plan.logsDir).toBe(`${work}/logs`);
  });

  it('cross-compiles with the target, kernel ARCH and prefixed tools', () => {
    const plan = planKmodBuild(crossBuild());
    const argv = rpmbuildArgv(plan);
    const work = workDirFor(crossBuild(), 'build', '/out');
    expect(argv.slice(0, 4)).toEqual(['rpmbuild', '-ba', '--target', 'aarch64']);
    expect(defines(argv)).toEqual([
      '_topdir /tmp/b/aaaaaaaaaaaaaaaaaaaaaaaa',
      'kernel_dir /tmp/b/aaaaaaaaaaaaaaaaaaaaaaaa.kernel',
      ...REPRODUCIBLE_DEFINES.map(([n, v]) => `${n} ${v}`),
      'kernel_arch arm64',
      'cross_compile aarch64-linux-gnu-',
      '__strip aarch64-linux-gnu-strip',
      '__objdump aarch64-linux-gnu-objdump',
    ]);
    // Build time, file times and the changelog's date come from the source's date.
    expect(stepsOf(plan, 'exec').find((s) => s.argv[0] === 'rpmbuild')!.env!.SOURCE_DATE_EPOCH).toBe(String(Math.floor(NOW.getTime() / 1000)));
    expect(argv).not.toContain('--nodeps');
    expect(argv.at(-1)).toBe('/tmp/b/aaaaaaaaaaaaaaaaaaaaaaaa/SPECS/cryptodev-linux.spec');
    expect(work).toMatch(/^\/cache\/work\//);
    // The header paths go into the module's prefix map through the environment, never into the spec.
    expect(stepsOf(plan, 'exec').find((s) => s.argv[0] === 'rpmbuild')!.env!.ARMKIT_KCFLAGS).toBe(
      `-ffile-prefix-map=/real/kernel=/usr/src/kernel -ffile-prefix-map=${arm64Kernel.dir}=/usr/src/kernel -ffile-prefix-map=/tmp/b/aaaaaaaaaaaaaaaaaaaaaaaa.kernel=/usr/src/kernel`,
    );
  });

  it('adds --nodeps only when asked, before the spec file', () => {
    const argv = rpmbuildArgv(planKmodBuild(crossBuild({ nodeps: true })));
    expect(argv.filter((a) => a === '--nodeps')).toHaveLength(1);
    expect(argv.at(-2)).toBe('--nodeps');
    expect(argv.at(-1)).toMatch(/\.spec$/);
  });

  it('builds natively without kernel_arch or cross_compile', () => {
    const argv = rpmbuildArgv(planKmodBuild(nativeBuild()));
    expect(argv.slice(0, 4)).toEqual(['rpmbuild', '-ba', '--target', 'x86_64']);
    expect(defines(argv).map((d) => d.split(' ')[0])).toEqual(['_topdir', 'kernel_dir', ...REPRODUCIBLE_DEFINES.map(([n]) => n)]);
    expect(argv.join(' ')).not.toMatch(/kernel_arch|cross_compile|__strip|__objdump/);
  });

  it('publishes to <out>/<recipe>/<version>/<arch>/<kernel> and checks the module in the kmod RPM', () => {
    const plan = planKmodBuild(crossBuild());
    const work = workDirFor(crossBuild(), 'build', '/out');
    const [check] = stepsOf(plan, 'check-module');
    expect(check).toMatchObject({
      path: '/tmp/b/aaaaaaaaaaaaaaaaaaaaaaaa/RPMS/aarch64/kmod-cryptodev-6.1.0-56-arm64-1.14-*.aarch64.rpm',
      moduleInRpm: 'lib/modules/6.1.0-56-arm64/extra/cryptodev/cryptodev.ko',
      release: '6.1.0-56-arm64',
    });
    expect(check!.arch.rpm).toBe('aarch64');
    const [publish] = stepsOf(plan, 'publish');
    expect(publish!.dest).toBe('/out/cryptodev/1.14/aarch64/6.1.0-56-arm64');
    expect(plan.locks).toEqual([work, '/out/cryptodev/1.14/aarch64/6.1.0-56-arm64', '/tmp/b/aaaaaaaaaaaaaaaaaaaaaaaa']);
    expect(publish!.artifacts).toEqual([
      '/tmp/b/aaaaaaaaaaaaaaaaaaaaaaaa/RPMS/aarch64/*.rpm',
      '/tmp/b/aaaaaaaaaaaaaaaaaaaaaaaa/RPMS/noarch/*.rpm',
      '/tmp/b/aaaaaaaaaaaaaaaaaaaaaaaa/SRPMS/*.src.rpm',
    ]);
    expect(publish!.manifest).toMatchObject({
      recipe: 'cryptodev',
      version: '1.14',
      arch: 'aarch64',
      mode: 'cross',
      crossCompile: 'aarch64-linux-gnu-',
      kernel: { release: '6.1.0-56-arm64', version: '6.1.192' },
      source: { kind: 'recipe', sha256: source114.sha256, verified: true },
      inputs: { key: 'a'.repeat(64), sourceDateEpoch: Math.floor(NOW.getTime() / 1000) },
      engine: 'local',
      kind: 'kmod',
    });
    expect(plan.summary).toBe('cryptodev 1.14 for aarch64 (cross, aarch64-linux-gnu-) against Linux 6.1.0-56-arm64');
    expect(plan.warnings).toEqual([]);
  });

  it('requires rpmbuild and the cross toolchain', () => {
    const { requires } = planKmodBuild(crossBuild());
    expect(requires).toEqual(
      expect.arrayContaining(['rpmbuild', 'rpm2cpio', 'cpio', 'make', 'aarch64-linux-gnu-gcc', 'aarch64-linux-gnu-strip', 'aarch64-linux-gnu-objdump']),
    );
    expect(requires).not.toContain('apt-get');
    expect(planKmodBuild(nativeBuild()).requires).toContain('gcc');
  });

  describe('the rendered spec', () => {
    const spec = specOf(planKmodBuild(crossBuild()));

    it.each([
      '%global kernel_release 6.1.0-56-arm64',
      '%global kmod_name cryptodev',
      'Name:           cryptodev-linux',
      'Version:        1.14',
      'License:        GPL-2.0-only',
      'Source0:        cryptodev-linux-1.14.tar.gz',
      'Source1:        cryptodev.conf',
      'Provides:       kmod(%{kmod_name}.ko) = %{version}-%{release}',
      '%setup -q -n cryptodev-linux-cryptodev-linux-1.14',
      '%make_build KERNEL_DIR=%{kernel_dir} %{?kernel_arch:ARCH=%{kernel_arch}} %{?cross_compile:CROSS_COMPILE=%{cross_compile}} build',
      'install -D -m 0644 cryptodev.ko %{buildroot}/lib/modules/%{kernel_release}/extra/cryptodev/%{kmod_name}.ko',
      'install -D -m 0644 crypto/cryptodev.h %{buildroot}%{_includedir}/crypto/cryptodev.h',
      '%config(noreplace) %{_sysconfdir}/modules-load.d/%{kmod_name}.conf',
      '%license COPYING',
      '* Fri Nov 27 2026 armkit <armkit@localhost> - 1.14-1',
    ])('contains the line %s', (line) => {
      expect(spec.split('\n')).toContain(line);
    });

    it('runs depmod for the kernel release in %post and %postun', () => {
      const section = (name: string) =>
        new RegExp(`^%${name} -n kmod-%\\{kmod_name\\}-%\\{kernel_release\\}\\n/sbin/depmod -a %\\{kernel_release\\} \\|\\| :$`, 'm');
      expect(spec).toMatch(section('post'));
      expect(spec).toMatch(section('postun'));
    });

    it('renders no "undefined" and ends with a newline', () => {
      expect(spec).not.toContain('undefined');
      expect(spec.endsWith('\n')).toBe(true);
    });

    it('puts the snapshot version and topdir in the spec of the snapshot source', () => {
      const snapshot = specOf(planKmodBuild(crossBuild({ source: { kind: 'recipe', source: recipe.sources[1]! } })));
      expect(snapshot.split('\n')).toContain('Version:        1.14^20251105git08644db');
      expect(snapshot.split('\n')).toContain('%setup -q -n cryptodev-linux-08644db02d43478f802755903212f5ee506af73b');
    });
  });

  it('leaves out modules-load.d when the recipe does not autoload', () => {
    const plan = planKmodBuild(crossBuild({ recipe: { ...recipe, module: { ...recipe.module, autoload: false } } }));
    expect(stepsOf(plan, 'write').map((s) => s.path.split('/').at(-1))).toEqual(['cryptodev-linux.spec']);
    expect(specOf(plan)).not.toContain('modules-load.d');
    expect(specOf(plan)).not.toContain('Source1:');
  });

  it('is pure: the same inputs give the same plan', () => {
    expect(planKmodBuild(crossBuild())).toEqual(planKmodBuild(crossBuild()));
  });

  it('gives different kernels, arches and outputs different work directories', () => {
    const base = planKmodBuild(crossBuild()).logsDir;
    const otherKernel = planKmodBuild(
      crossBuild({ kernel: { ...arm64Kernel, dir: '/elsewhere/linux-headers-6.1.0-57-arm64', release: '6.1.0-57-arm64' } }),
    ).logsDir;
    const otherOut = planKmodBuild(crossBuild({ outDir: '/out2' })).logsDir;
    const otherSource = planKmodBuild(crossBuild({ source: { kind: 'recipe', source: recipe.sources[1]! } })).logsDir;
    expect(new Set([base, otherKernel, otherOut, otherSource]).size).toBe(4);
  });

  it('packs a directory source and warns that no checksum applies', () => {
    const plan = planKmodBuild(crossBuild({ source: { kind: 'directory', path: '/src/cryptodev', version: '1.14' } }));
    const work = workDirFor(crossBuild({ source: { kind: 'directory', path: '/src/cryptodev', version: '1.14' } }), 'build', '/out');
    expect(plan.steps.map((s) => s.kind)).toEqual([
      'remove',
      'mkdir',
      'mkdir',
      'mkdir',
      'symlink',
      'symlink',
      'pack',
      'write',
      'write',
      'exec',
      'check-module',
      'publish',
      'remove',
      'copy',
      'remove',
      'rename',
      'remove',
      'remove',
    ]);
    expect(stepsOf(plan, 'pack')[0]).toMatchObject({
      dir: '/src/cryptodev',
      archive: `${work}/rpmbuild/SOURCES/cryptodev-linux-1.14.tar.gz`,
      prefix: 'cryptodev-linux-1.14',
      mtime: Math.floor(NOW.getTime() / 1000),
    });
    expect(plan.warnings).toHaveLength(1);
    expect(plan.warnings[0]).toContain('/src/cryptodev');
    expect(plan.warnings[0]).toContain('no checksum');
    expect(specOf(plan).split('\n')).toContain('%setup -q -n cryptodev-linux-1.14');
    expect(stepsOf(plan, 'publish')[0]!.manifest).toMatchObject({ source: { kind: 'directory', verified: false } });
  });

  it('a cached build publishes the cached files again and runs nothing else', () => {
    const known = [{ file: 'kmod-x.rpm', name: 'kmod-x', version: '1.14', release: '1', arch: 'aarch64', size: 1, sha256: 'b'.repeat(64) }];
    const plan = planKmodBuild(
      crossBuild({ cached: '/cache/builds/k', cachedManifest: { artifacts: known, source: { kind: 'recipe', sha256: 'c'.repeat(64), verified: true } } }),
    );
    expect(plan.cached).toBe(true);
    expect(plan.steps.map((s) => s.kind)).toEqual(['publish']);
    expect(plan.steps[0]).toMatchObject({
      artifacts: ['/cache/builds/k/*.rpm'],
      logsDir: '/cache/builds/k/logs',
      dest: '/out/cryptodev/1.14/aarch64/6.1.0-56-arm64',
      known,
    });
    expect(plan.steps[0]!.kind === 'publish' && plan.steps[0].manifest.source.sha256).toBe('c'.repeat(64));
    expect(plan.requires).toEqual([]);
    expect(plan.summary).toMatch(/\(cached: aaaaaaaaaaaa\)$/);
  });

  it('marks a build from an unpinned source .local in its Release, and says so', () => {
    const plan = planKmodBuild(crossBuild({ source: { kind: 'tarball', path: '/dl/x.tar.gz', topdir: 'x-2.0', version: '2.0' } }));
    expect(specOf(plan).split('\n')).toContain('Release:        1.local%{?dist}');
    expect(plan.warnings[0]).toContain('its packages are marked Release 1.local');
    expect(stepsOf(plan, 'publish')[0]!.manifest.release).toBe('1.local');
  });

  it('verifies a user-supplied copy of a pinned archive instead of fetching', () => {
    const plan = planKmodBuild(crossBuild({ source: { kind: 'recipe', source: source114, file: '/dl/c.tar.gz' } }));
    expect(stepsOf(plan, 'fetch')).toEqual([]);
    expect(stepsOf(plan, 'verify')[0]).toMatchObject({ path: '/dl/c.tar.gz', sha256: source114.sha256 });
    expect(stepsOf(plan, 'copy')[0]!.from).toBe('/dl/c.tar.gz');
    expect(plan.warnings).toEqual([]);
  });

  it("runs a kernel's prepare steps after the logs directory and before the rpmbuild tree", () => {
    const prepare: Step[] = [
      { kind: 'mkdir', title: 'prepare-1', path: '/cache/kernels/x.partial' },
      { kind: 'exec', title: 'prepare-2', argv: ['apt-get', 'download', 'x'], log: 'apt.log' },
    ];
    const plan = planKmodBuild(crossBuild({ kernel: { ...arm64Kernel, prepare } }));
    const titles = plan.steps.map((s) => s.title);
    expect(titles.slice(0, 5)).toEqual(['Clear the work directory', 'Create the log directory', 'prepare-1', 'prepare-2', 'Create rpmbuild/SOURCES']);
    expect(plan.requires).toEqual(expect.arrayContaining(['apt-get', 'dpkg-deb']));
  });
});

describe('planKmodInstall', () => {
  function install(overrides: Partial<InstallPlanInput> = {}): InstallPlanInput {
    const { outDir: _o, nodeps: _n, ...base } = crossBuild();
    return { ...base, runningRelease: '6.1.0-56-arm64', ...overrides };
  }
  const execArgv = (plan: Plan) => stepsOf(plan, 'exec').map((s: ExecStep) => s.argv);

  it('builds with the upstream Makefile and installs into /, then depmod and modprobe for the running kernel', () => {
    const plan = planKmodInstall(install());
    const work = workDirFor(install(), 'install', '/');
    expect(plan.steps.map((s) => s.kind)).toEqual(['remove', 'mkdir', 'fetch', 'unpack', 'exec', 'check-module', 'exec', 'exec', 'write', 'exec', 'exec']);
    const argv = execArgv(plan);
    expect(argv[0]).toEqual(['make', '-j4', `KERNEL_DIR=${arm64Kernel.dir}`, 'ARCH=arm64', 'CROSS_COMPILE=aarch64-linux-gnu-', 'build']);
    expect(stepsOf(plan, 'exec')[0]!.cwd).toBe(`${work}/src`);
    expect(argv[1]).toEqual(['install', '-D', '-m', '0644', `${work}/src/cryptodev.ko`, '/lib/modules/6.1.0-56-arm64/extra/cryptodev/cryptodev.ko']);
    expect(argv[2]).toEqual(['install', '-D', '-m', '0644', `${work}/src/crypto/cryptodev.h`, '/usr/include/crypto/cryptodev.h']);
    expect(stepsOf(plan, 'write')[0]!.path).toBe('/etc/modules-load.d/cryptodev.conf');
    expect(argv.slice(-2)).toEqual([
      ['depmod', '-a', '6.1.0-56-arm64'],
      ['modprobe', 'cryptodev'],
    ]);
    expect(plan.warnings).toEqual([]);
    expect(plan.requires).toEqual(expect.arrayContaining(['make', 'install', 'depmod', 'modprobe', 'aarch64-linux-gnu-gcc']));
  });

  it('omits modprobe with a warning when the kernel is not the running one', () => {
    const plan = planKmodInstall(install({ runningRelease: '6.1.0-99-arm64' }));
    const argv = execArgv(plan);
    expect(argv.at(-1)).toEqual(['depmod', '-a', '6.1.0-56-arm64']);
    expect(argv.some((a) => a[0] === 'modprobe')).toBe(false);
    expect(plan.warnings).toHaveLength(1);
    expect(plan.warnings[0]).toContain('6.1.0-99-arm64');
    expect(plan.warnings[0]).toContain('not the running kernel');
  });

  it('stages under a destdir without depmod or modprobe', () => {
    const plan = planKmodInstall(install({ destdir: '/stage' }));
    const argv = execArgv(plan);
    expect(argv.some((a) => a[0] === 'depmod' || a[0] === 'modprobe')).toBe(false);
    expect(argv).toContainEqual(expect.arrayContaining(['/stage/lib/modules/6.1.0-56-arm64/extra/cryptodev/cryptodev.ko']));
    expect(argv).toContainEqual(expect.arrayContaining(['/stage/usr/include/crypto/cryptodev.h']));
    expect(stepsOf(plan, 'write')[0]!.path).toBe('/stage/etc/modules-load.d/cryptodev.conf');
    expect(plan.requires).not.toContain('depmod');
    expect(plan.requires).not.toContain('modprobe');
    expect(plan.warnings.join('\n')).toContain('Staged under /stage');
    expect(plan.steps.at(-1)!.kind).toBe('write');
    expect(plan.logsDir).not.toBe(planKmodInstall(install()).logsDir);
  });

  it('builds natively without ARCH or CROSS_COMPILE', () => {
    const { outDir: _o, nodeps: _n, ...base } = nativeBuild();
    const plan = planKmodInstall({ ...base, runningRelease: amd64Kernel.release });
    expect(execArgv(plan)[0]).toEqual(['make', '-j4', `KERNEL_DIR=${amd64Kernel.dir}`, 'build']);
    expect(plan.requires).toContain('gcc');
  });

  it('with a module key: signs the built module (sign-file built first when the tree has its source), then checks the signer', () => {
    const signing = {
      key: '/keys/k.pem',
      cert: '/keys/c.der',
      certPem: 'PEM',
      signer: 'Board key',
      serial: '01',
      certSha256: 'f'.repeat(64),
      signFile: { tree: true as const },
      warnings: ['a warning from the key'],
    };
    const work = workDirFor(install(), 'install', '/');
    const tree = planKmodInstall(install({ signing }));
    const kinds = tree.steps.map((s) => s.kind);
    expect(kinds.slice(4, 7)).toEqual(['exec', 'sign-module', 'check-module']);
    expect(stepsOf(tree, 'sign-module')[0]).toMatchObject({
      module: `${work}/src/cryptodev.ko`,
      signFile: `${arm64Kernel.dir}/scripts/sign-file`,
      key: '/keys/k.pem',
      cert: '/keys/c.der',
      kernelDir: arm64Kernel.dir,
    });
    expect(stepsOf(tree, 'check-module')[0]!.signature).toEqual({ certPem: 'PEM', signer: 'Board key' });
    expect(tree.warnings).toContain('a warning from the key');
    expect(tree.requires).toContain('openssl');
    const source = planKmodInstall(install({ signing: { ...signing, signFile: { source: '/tree/scripts/sign-file.c' } } }));
    const build = stepsOf(source, 'exec').find((s) => s.argv[0] === 'gcc')!;
    expect(build.argv).toEqual(['gcc', '-O2', '-o', `${work}/sign-file`, '/tree/scripts/sign-file.c', '-lcrypto']);
    expect(stepsOf(source, 'sign-module')[0]!.signFile).toBe(`${work}/sign-file`);
    expect(source.requires).toContain('gcc');
    // Without a key: no signing step, and the check asks for no signature.
    expect(planKmodInstall(install()).steps.some((s) => s.kind === 'sign-module')).toBe(false);
    expect(stepsOf(planKmodInstall(install()), 'check-module')[0]!.signature).toBeUndefined();
  });

  it('copies a directory source and warns about the checksum', () => {
    const plan = planKmodInstall(install({ source: { kind: 'directory', path: '/src/cryptodev', version: '1.14' } }));
    expect(plan.steps.map((s) => s.kind).slice(0, 4)).toEqual(['remove', 'mkdir', 'copy', 'exec']);
    expect(plan.warnings[0]).toContain('no checksum');
  });
});
