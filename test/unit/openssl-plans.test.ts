/** The planning side of `test --openssl` and `build openssl`: pure, checked step by step. */
import { describe, expect, it } from 'vitest';
import { findArch } from '../../src/arch.js';
import type { GuestAssets } from '../../src/guest/assets.js';
import { type GuestTestInput, NIST_CBC, OPENSSL_CHECKS, octalEscapes, planGuestTest } from '../../src/plan/guest-test.js';
import { type OpensslBuildInput, planOpensslBuild } from '../../src/plan/openssl.js';
import type { PatchResult } from '../../src/rpmspec/openssl.js';
import type { ExecStep, Step } from '../../src/step.js';

const aarch64 = findArch('aarch64');
const x86 = findArch('x86_64');
const assets: GuestAssets = { kernelImage: '/k/vmlinuz', modulesRoot: '/m', busybox: '/bb/busybox', prepare: [], source: 'test' };

function guest(openssl: GuestTestInput['openssl']): GuestTestInput {
  return {
    arch: aarch64,
    release: '6.1.0-56-arm64',
    module: 'cryptodev',
    packages: ['/out/kmod.rpm'],
    inputs: { devel: '/out/devel.rpm', srpm: '/out/src.rpm' },
    assets,
    kat: { run: { store: '/c/kat' } },
    upstream: { skip: 'none' },
    initramfs: { store: '/c/guest/built/initramfs-k3.cpio.gz' },
    toolPrefix: 'aarch64-linux-gnu-',
    work: '/w',
    timeoutSeconds: 60,
    ...(openssl ? { openssl } : {}),
  };
}

const execs = (steps: Step[]) => steps.filter((s): s is ExecStep => s.kind === 'exec');

describe('test --openssl plan', () => {
  const run = {
    run: {
      packages: ['/o/openssl-3.0.22-1.aarch64.rpm', '/o/openssl-libs-3.0.22-1.aarch64.rpm'],
      engine: 'devcrypto',
      configPath: '/etc/pki/tls/devcrypto.cnf',
      runtime: [
        { from: '/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1', to: '/lib/ld-linux-aarch64.so.1' },
        { from: '/usr/aarch64-linux-gnu/lib/libc.so.6', to: '/lib/libc.so.6' },
      ],
    },
  };

  it('installs the OpenSSL packages in the same rpm transaction as the module, and adds the C runtime', () => {
    const plan = planGuestTest(guest(run));
    const install = execs(plan.steps).find((s) => s.argv.includes('-i'))!;
    expect(install.argv.slice(-3)).toEqual(['/out/kmod.rpm', ...run.run.packages]);
    const copies = plan.steps.filter((s) => s.kind === 'copy' && s.dereference);
    expect(copies.map((s) => (s.kind === 'copy' ? [s.from, s.to] : []))).toEqual([
      ['/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1', '/w/guest/root/lib/ld-linux-aarch64.so.1'],
      ['/usr/aarch64-linux-gnu/lib/libc.so.6', '/w/guest/root/lib/libc.so.6'],
    ]);
  });

  it('expects the engine, config and round-trip checks before unload, and /init runs them', () => {
    const plan = planGuestTest(guest(run));
    const report = plan.steps.find((s) => s.kind === 'guest-report');
    expect(report?.kind === 'guest-report' && report.expected.slice(-4)).toEqual([...OPENSSL_CHECKS, 'unload']);
    const init = plan.steps.find((s) => s.kind === 'write' && s.path.endsWith('/init'));
    const text = init?.kind === 'write' ? init.content : '';
    expect(text).toContain('openssl engine -t -c -pre USE_SOFTDRIVERS:1 devcrypto');
    expect(text).toContain("conf='/etc/pki/tls/devcrypto.cnf'");
    expect(text).toContain(`if [ "$ct" != "${NIST_CBC.cipher}" ]; then`);
    expect(text).toContain(`printf '${octalEscapes(NIST_CBC.plain)}' > /tmp/armkit-plain`);
    expect(text.indexOf('openssl-roundtrip')).toBeLessThan(text.indexOf('check unload'));
  });

  it('the 1.0.x cryptodev engine gets no USE_SOFTDRIVERS control (it has none)', () => {
    const text = planGuestTest(guest({ run: { ...run.run, engine: 'cryptodev' } })).steps.find((s) => s.kind === 'write' && s.path.endsWith('/init'));
    expect(text?.kind === 'write' && text.content).toContain('openssl engine -t -c cryptodev 2>&1');
  });

  it('skipped OpenSSL checks are reported with the reason, never expected', () => {
    const plan = planGuestTest(guest({ skip: 'needs the real module' }));
    const report = plan.steps.find((s) => s.kind === 'guest-report');
    if (report?.kind !== 'guest-report') throw new Error('no report step');
    expect(report.expected).not.toContain('openssl-engine');
    expect(report.skipped.filter((s) => s.name.startsWith('openssl-'))).toEqual(OPENSSL_CHECKS.map((name) => ({ name, reason: 'needs the real module' })));
  });

  it('octalEscapes turns hex bytes into printf octal escapes', () => {
    expect(octalEscapes('6b00ff')).toBe('\\153\\000\\377');
  });
});

describe('build openssl plan', () => {
  const patched = {
    text: 'Name: openssl\n',
    version: '3.0.9',
    name: 'openssl',
    epoch: '1',
    release: { before: '2%{?dist}', after: '2%{?dist}.cryptodev1' },
    engine: 'devcrypto',
    flags: ['enable-devcryptoeng'],
    check: 'openssl engine -t -c devcrypto',
    config: {
      file: 'devcrypto.cnf',
      path: '%{_sysconfdir}/pki/tls/devcrypto.cnf',
      package: 'openssl-libs',
      dropIn: false,
      source: 'Source900',
      content: '[x]\n',
    },
  } as unknown as PatchResult;
  function input(overrides: Partial<OpensslBuildInput>): OpensslBuildInput {
    return {
      arch: aarch64,
      mode: 'cross',
      crossPrefix: 'aarch64-linux-gnu-',
      engine: 'local',
      srpm: '/in/openssl.src.rpm',
      specsInSrpm: ['openssl.spec'],
      specName: 'openssl.spec',
      patched,
      srpmNvr: 'openssl-3.0.9-2.cryptodev1',
      hostMacros: [['dist', '%{nil}']],
      diff: '--- a\n',
      nodeps: true,
      hostArch: x86,
      work: '/w',
      outDir: '/out',
      armkitVersion: '0.0.0',
      ...overrides,
    };
  }

  it('local cross: rpmbuild -ba --target with the cross tools in the environment, CPATH for the header the plan unpacks', () => {
    const plan = planOpensslBuild(input({ cryptodevDevel: '/out/cryptodev/devel.rpm' }));
    const ba = execs(plan.steps).find((s) => s.argv.includes('-ba'))!;
    expect(ba.argv).toEqual(
      expect.arrayContaining([
        '--target',
        'aarch64',
        '--define',
        'dist %{nil}',
        '--define',
        '__strip aarch64-linux-gnu-strip',
        '--nodeps',
        '/w/rpmbuild/SPECS/openssl.spec',
      ]),
    );
    expect(ba.env).toEqual({
      CC: 'aarch64-linux-gnu-gcc',
      CXX: 'aarch64-linux-gnu-g++',
      AR: 'aarch64-linux-gnu-ar',
      RANLIB: 'aarch64-linux-gnu-ranlib',
      NM: 'aarch64-linux-gnu-nm',
      CPATH: '/w/cryptodev-devel/usr/include',
    });
    const unpack = execs(plan.steps).find((s) => s.argv[0] === 'rpm2cpio' && s.argv[1] === '/out/cryptodev/devel.rpm')!;
    expect(plan.steps.indexOf(unpack)).toBeLessThan(plan.steps.indexOf(ba));
    const publish = plan.steps.find((s) => s.kind === 'publish');
    expect(publish?.kind === 'publish' && publish.dest).toBe('/out/openssl/3.0.9/aarch64');
    expect(publish?.kind === 'publish' && publish.artifacts).toContain('/w/rpmbuild/SRPMS/*.src.rpm');
  });

  it('unpacks the source RPM as steps (a dry run unpacks nothing), drops its spec, writes the patched one, the config and the diff', () => {
    const plan = planOpensslBuild(input({}));
    const [unpack, extract] = execs(plan.steps);
    expect(unpack!.argv).toEqual(['rpm2cpio', '/in/openssl.src.rpm']);
    expect(extract).toMatchObject({ argv: ['cpio', '-idm', '--quiet', '--no-absolute-filenames'], cwd: '/w/rpmbuild/SOURCES' });
    expect(plan.steps.find((s) => s.kind === 'remove' && s.path === '/w/rpmbuild/SOURCES/openssl.spec')).toBeDefined();
    const writes = plan.steps.filter((s) => s.kind === 'write').map((s) => (s.kind === 'write' ? s.path : ''));
    expect(writes).toEqual(['/w/rpmbuild/SPECS/openssl.spec', '/w/logs/openssl.spec.diff', '/w/rpmbuild/SOURCES/devcrypto.cnf']);
  });

  it('mock emulates a foreign architecture with --forcearch, and not a native one', () => {
    const plan = planOpensslBuild(input({ engine: 'mock', chroot: 'fedora-rawhide-aarch64' }));
    const foreign = execs(plan.steps).find((s) => s.argv[0] === 'mock')!;
    // The host's stand-ins for Fedora macros stay on this host: the chroot's rpm has the real ones.
    expect(foreign.argv).toEqual([
      'mock',
      '-r',
      'fedora-rawhide-aarch64',
      '--forcearch',
      'aarch64',
      '--resultdir',
      '/w/results',
      '--rebuild',
      '/w/rpmbuild/SRPMS/openssl-3.0.9-2.cryptodev1.src.rpm',
    ]);
    const bs = execs(plan.steps).find((s) => s.argv.includes('-bs'))!;
    expect(bs.argv.slice(-4)).toEqual(['--define', 'dist %{nil}', '--nodeps', '/w/rpmbuild/SPECS/openssl.spec']);
    const native = execs(planOpensslBuild(input({ engine: 'mock', chroot: 'fedora-rawhide-aarch64', hostArch: aarch64 })).steps).find(
      (s) => s.argv[0] === 'mock',
    )!;
    expect(native.argv).not.toContain('--forcearch');
  });

  it('copr: one copr-build step and results from the chroot directory; requires copr-cli, not mock', () => {
    const plan = planOpensslBuild(input({ engine: 'copr', chroot: 'fedora-rawhide-aarch64', coprProject: 'me/p' }));
    expect(plan.steps.filter((s) => s.kind === 'copr-build')).toEqual([
      {
        kind: 'copr-build',
        title: 'Copr build in me/p (fedora-rawhide-aarch64)',
        project: 'me/p',
        chroot: 'fedora-rawhide-aarch64',
        srpm: '/w/rpmbuild/SRPMS/openssl-3.0.9-2.cryptodev1.src.rpm',
        dest: '/w/results',
        log: 'copr.log',
      },
    ]);
    expect(plan.requires).toContain('copr-cli');
    expect(plan.requires).not.toContain('mock');
    const publish = plan.steps.find((s) => s.kind === 'publish');
    expect(publish?.kind === 'publish' && publish.artifacts).toEqual(['/w/results/fedora-rawhide-aarch64/*.rpm']);
  });
});
