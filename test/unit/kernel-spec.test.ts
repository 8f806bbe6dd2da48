import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findArch } from '../../src/arch.js';
import { installedHeaderDirs, parseKernelSpec, resolveKernel } from '../../src/kernel/resolve.js';
import { catchArmkit, catchArmkitAsync, fakeHost, forbiddenRunner, tempDir, writeTree } from './helpers.js';

const aarch64 = findArch('aarch64');
const armv5 = findArch('armv5tel');

function ctx(cacheDir: string, host = fakeHost()) {
  const warnings: string[] = [];
  return { cacheDir, host, runner: forbiddenRunner, warn: (m: string) => void warnings.push(m), warnings };
}

function arm64Tree(release = '6.1.0-56-arm64'): string {
  return writeTree(tempDir(), {
    Makefile: 'all:\n',
    'include/generated/utsrelease.h': `#define UTS_RELEASE "${release}"\n`,
    '.config': 'CONFIG_ARM64=y\n',
    'include/generated/uapi/linux/version.h': '#define LINUX_VERSION_MAJOR 6\n#define LINUX_VERSION_PATCHLEVEL 1\n#define LINUX_VERSION_SUBLEVEL 192\n',
  });
}

/** What resolveDebianKernel leaves in the cache after a download: the header tree and its record. */
function writeCachedTree(cacheDir: string, release: string, utsRelease: string, config: string): void {
  const base = `kernels/debian/arm64/${release}`;
  const tree = `${base}/root/usr/src/linux-headers-${release}`;
  writeTree(cacheDir, {
    [`${base}/armkit-headers.json`]: JSON.stringify({ release, version: '6.1.119', packages: [`linux-headers-${release}:arm64`] }),
    [`${tree}/Makefile`]: 'include /somewhere/Makefile\n',
    [`${tree}/include/generated/utsrelease.h`]: `#define UTS_RELEASE "${utsRelease}"\n`,
    [`${tree}/.config`]: config,
  });
}

describe('parseKernelSpec', () => {
  it('debian:latest takes the flavour from the architecture table', () => {
    expect(parseKernelSpec('debian:latest', aarch64)).toEqual({ kind: 'debian', flavour: 'arm64' });
    expect(parseKernelSpec('debian:latest', armv5)).toEqual({ kind: 'debian', flavour: 'marvell' });
  });

  it('debian:latest-FLAVOUR names the flavour', () => {
    expect(parseKernelSpec('debian:latest-rt-arm64', aarch64)).toEqual({ kind: 'debian', flavour: 'rt-arm64' });
  });

  it('debian:ABI-FLAVOUR splits the ABI from the flavour', () => {
    expect(parseKernelSpec('debian:6.1.0-28-arm64', aarch64)).toEqual({ kind: 'debian', abi: '6.1.0-28', flavour: 'arm64' });
    expect(parseKernelSpec('debian:6.12.41-1-rt-arm64', aarch64)).toEqual({ kind: 'debian', abi: '6.12.41-1', flavour: 'rt-arm64' });
  });

  it.each(['debian:foo', 'debian:', 'debian:latest-', 'debian:6.1.0-arm64', 'debian:6.1.0-28'])('refuses %s with a usage error', (spec) => {
    const error = catchArmkit(() => parseKernelSpec(spec, aarch64));
    expect(error.kind).toBe('usage');
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain(spec);
    expect(error.message).toContain('debian:6.1.0-28-arm64');
  });

  it.each(['/usr/src/x', './x', '../headers', '.', '..', 'rel/dir'])('%s is a directory', (spec) => {
    expect(parseKernelSpec(spec, aarch64)).toEqual({ kind: 'directory', path: spec });
  });

  it.each(['6.1.0-28-amd64', '6.8.9-300.fc40.aarch64', '5.10.0+'])('%s is an installed release', (spec) => {
    expect(parseKernelSpec(spec, aarch64)).toEqual({ kind: 'installed', release: spec });
  });

  it.each(['foo bar', 'latest', 'linux-6.1', ''])('refuses %j as no kernel form', (spec) => {
    const error = catchArmkit(() => parseKernelSpec(spec, aarch64));
    expect(error.kind).toBe('usage');
    expect(error.message).toContain('is not a kernel');
  });
});

describe('installedHeaderDirs', () => {
  it('lists the Debian and Fedora locations for a release', () => {
    expect(installedHeaderDirs('6.1.0-28-amd64')).toEqual([
      '/lib/modules/6.1.0-28-amd64/build',
      '/usr/src/linux-headers-6.1.0-28-amd64',
      '/usr/src/kernels/6.1.0-28-amd64',
    ]);
  });
});

describe('resolveKernel', () => {
  it('a cross build without --kernel is a usage error that mentions --kernel', async () => {
    const error = await catchArmkitAsync(() => resolveKernel(undefined, aarch64, false, ctx(tempDir())));
    expect(error.kind).toBe('usage');
    expect(error.message).toContain('--kernel');
    expect(error.message).toContain('aarch64');
  });

  it('resolves a header directory without running anything', async () => {
    const dir = arm64Tree();
    const kernel = await resolveKernel(dir, aarch64, false, ctx(tempDir()));
    expect(kernel).toEqual({
      spec: dir,
      source: 'directory',
      dir,
      release: '6.1.0-56-arm64',
      version: '6.1.192',
      prepare: [],
      tools: [],
      identity: expect.stringMatching(/^6\.1\.0-56-arm64 symvers:/),
    });
  });

  it('refuses a header directory for another architecture', async () => {
    const dir = arm64Tree();
    const error = await catchArmkitAsync(() => resolveKernel(dir, findArch('x86_64'), false, ctx(tempDir())));
    expect(error.kind).toBe('verification');
    expect(error.message).toContain('aarch64');
  });

  it('refuses a directory that does not exist', async () => {
    const missing = join(tempDir(), 'nope');
    const error = await catchArmkitAsync(() => resolveKernel(missing, aarch64, false, ctx(tempDir())));
    expect(error.kind).toBe('usage');
    expect(error.message).toContain('no such directory');
  });

  it("a native build without --kernel looks for the running kernel's headers", async () => {
    const release = '0.0.0-armkit-unit-test';
    const error = await catchArmkitAsync(() => resolveKernel(undefined, findArch('x86_64'), true, ctx(tempDir(), fakeHost({ kernelRelease: release }))));
    expect(error.kind).toBe('prerequisite');
    expect(error.message).toContain(`No headers for kernel ${release}`);
    expect(error.message).toContain(`/lib/modules/${release}/build`);
  });

  it('debian:ABI-FLAVOUR already in the cache needs no apt', async () => {
    const cacheDir = tempDir();
    const release = '6.1.0-28-arm64';
    writeCachedTree(cacheDir, release, release, 'CONFIG_ARM64=y\n');
    const kernel = await resolveKernel(`debian:${release}`, aarch64, false, ctx(cacheDir));
    expect(kernel).toEqual({
      spec: `debian:${release}`,
      source: 'debian',
      dir: join(cacheDir, 'kernels/debian/arm64', release, 'root/usr/src', `linux-headers-${release}`),
      release,
      version: '6.1.119',
      prepare: [],
      packages: ['linux-headers-6.1.0-28-arm64:arm64'],
      tools: [],
      identity: expect.stringMatching(/^6\.1\.0-28-arm64 symvers:/),
    });
  });

  it('refuses a cached tree whose headers name another release', async () => {
    const cacheDir = tempDir();
    writeCachedTree(cacheDir, '6.1.0-28-arm64', '6.1.0-27-arm64', 'CONFIG_ARM64=y\n');
    const error = await catchArmkitAsync(() => resolveKernel('debian:6.1.0-28-arm64', aarch64, false, ctx(cacheDir)));
    expect(error.kind).toBe('verification');
    expect(error.message).toContain('6.1.0-27-arm64');
  });

  it('refuses a cached tree configured for another architecture', async () => {
    const cacheDir = tempDir();
    writeCachedTree(cacheDir, '6.1.0-28-arm64', '6.1.0-28-arm64', 'CONFIG_X86_64=y\n');
    const error = await catchArmkitAsync(() => resolveKernel('debian:6.1.0-28-arm64', aarch64, false, ctx(cacheDir)));
    expect(error.kind).toBe('verification');
    expect(error.message).toContain('are for x86_64');
  });

  it('debian:latest on a host without apt is a missing prerequisite', async () => {
    const error = await catchArmkitAsync(() => resolveKernel('debian:latest', aarch64, false, ctx(tempDir(), fakeHost({}, []))));
    expect(error.kind).toBe('prerequisite');
    expect(error.message).toContain('apt-get');
  });
});
