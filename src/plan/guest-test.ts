/**
 * Plan for `armkit test`: assemble an initramfs (static busybox, the kernel's crypto modules, the packages under
 * test installed with rpm, a known-answer program and upstream's tests when they can be built), boot the target's
 * kernel in QEMU, and read the verdict from the serial log. Pure: inputs are gathered by commands/test.ts.
 */
import { dirname, join } from 'node:path';
import type { Arch } from '../arch.js';
import type { GuestAssets } from '../guest/assets.js';
import { cryptoModulePaths } from '../guest/assets.js';
import type { Plan, Step } from '../step.js';
import { renderTemplate } from '../templates.js';

export type Optional<T> = { run: T } | { skip: string };

export interface GuestTestInput {
  arch: Arch;
  release: string;
  module: string;
  /** RPM files installed into the guest root, as on the board. */
  packages: string[];
  assets: GuestAssets;
  /** The packages the guest's programs are built from: the devel RPM (the header), the SRPM and its archive. */
  inputs: { devel: string; srpm: string; archive?: string };
  /** The known-answer program: where the cache keeps it (`store`), and `cached` when it is there already. */
  kat: Optional<BuiltProgram>;
  /** Upstream's test programs (from the source's tests/), kept in the cache like the known-answer program. */
  upstream: Optional<BuiltProgram & { programs: string[] }>;
  /** The packed initramfs, kept in the cache under the key of everything in it. */
  initramfs: BuiltProgram;
  /** CROSS_COMPILE prefix for the guest's programs ('' on a native host). */
  toolPrefix: string;
  /** OpenSSL RPMs built by armkit, checked through the engine (needs the real module, as the KAT does). */
  openssl?: Optional<OpensslUnderTest>;
  /** armkit bench crypto --guest: then `openssl speed -evp` per algorithm, in software and through the engine. */
  speed?: GuestSpeed;
  work: string;
  /** The packages' logs/ directory, which receives the serial log and the report. */
  publishTo?: string;
  timeoutSeconds: number;
}

export interface OpensslUnderTest {
  packages: string[];
  /** devcrypto (1.1.1+) or cryptodev (1.0.x). */
  engine: string;
  /** Where the package installs the engine configuration armkit shipped in it, if it did. */
  configPath?: string;
  /** The target's C runtime (loader, libc...) the dynamically linked openssl needs: host file → guest path. */
  runtime: Array<{ from: string; to: string }>;
}

/** What `openssl speed` measures in the guest (its outputs go to the serial console between ARMKIT:SPEED markers). */
export interface GuestSpeed {
  algos: string[];
  seconds: number;
  /** One openssl process per block size (-bytes), so that each size's CPU time is its own. */
  sizes: number[];
}

/** A program armkit compiles for the guest and keeps in its cache, keyed by its inputs. */
export interface BuiltProgram {
  store: string;
  cached?: string;
}

/** rpm2cpio and cpio, through a payload file: an RPM's files (or only `only`) into dir. */
function rpmUnpackSteps(rpm: string, dir: string, what: string, only: string[] = []): Step[] {
  const payload = join(dir, '.payload.cpio');
  return [
    { kind: 'remove', title: `Clear the unpacked ${what}`, path: dir },
    { kind: 'mkdir', title: `Create ${dir}`, path: dir },
    { kind: 'exec', title: `Unpack ${what}`, argv: ['rpm2cpio', rpm], stdoutFile: payload, log: 'unpack.log' },
    {
      kind: 'exec',
      title: `Extract ${only.length ? only.join(' ') : 'its files'}`,
      argv: ['cpio', '-idm', '--quiet', '--no-absolute-filenames', ...only],
      cwd: dir,
      stdinFile: payload,
      log: 'unpack.log',
    },
    { kind: 'remove', title: 'Drop the payload', path: payload },
  ];
}

/** Copies what was built into the cache under its key, whole or not at all. */
function storeSteps(from: string, store: string, what: string): Step[] {
  return [
    { kind: 'remove', title: `Clear a partial cached copy of ${what}`, path: `${store}.partial` },
    { kind: 'copy', title: `Keep ${what} in the cache`, from, to: `${store}.partial` },
    { kind: 'remove', title: `Clear a stale cached copy of ${what}`, path: store },
    { kind: 'rename', title: `Complete the cached copy of ${what}`, from: `${store}.partial`, to: store },
  ];
}

export const GUEST_CHECKS = ['kernel-release', 'modules-load', 'dev-crypto'] as const;
export const OPENSSL_CHECKS = ['openssl-engine', 'openssl-config', 'openssl-roundtrip'] as const;

/** AES-128-CBC, NIST SP 800-38A F.2.1, first two blocks: the round trip's known answer. */
export const NIST_CBC = {
  key: '2b7e151628aed2a6abf7158809cf4f3c',
  iv: '000102030405060708090a0b0c0d0e0f',
  plain: '6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51',
  cipher: '7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2',
};

/** printf-safe octal escapes of hex bytes: busybox printf knows \NNN everywhere. */
export function octalEscapes(hex: string): string {
  return (hex.match(/../g) ?? []).map((b) => `\\${parseInt(b, 16).toString(8).padStart(3, '0')}`).join('');
}
export const KAT_CHECKS = ['kat-aes-128-cbc', 'kat-sha256'] as const;

/** The QEMU command that boots a guest; `size` gives it more memory and CPUs (armkit bench build's guest). */
export function qemuArgv(arch: Arch, kernelImage: string, initrd: string, size: { memoryMiB: number; cpus: number } = { memoryMiB: 512, cpus: 1 }): string[] {
  const q = arch.qemu!;
  return [
    q.binary,
    '-M',
    q.machine,
    '-cpu',
    q.cpu,
    ...q.args,
    '-m',
    String(size.memoryMiB),
    ...(size.cpus > 1 ? ['-smp', String(size.cpus)] : []),
    '-nographic',
    // The guest needs no network, and a network card needs an iPXE option ROM that minimal QEMU installs lack.
    '-nic',
    'none',
    '-no-reboot',
    '-kernel',
    kernelImage,
    '-initrd',
    initrd,
    // panic=-1: a crashed /init ends QEMU at once instead of hanging until the timeout.
    '-append',
    `console=${q.console} panic=-1 rdinit=/init loglevel=4`,
  ];
}

export function planGuestTest(input: GuestTestInput): Plan {
  const { arch, release, work } = input;
  const guest = join(work, 'guest');
  const root = join(guest, 'root');
  const logsDir = join(guest, 'logs');
  const initrd = join(guest, 'initramfs.cpio.gz');
  const serial = join(logsDir, 'serial.log');
  const cc = `${input.toolPrefix}gcc`;
  const expected: string[] = [...GUEST_CHECKS];
  const skipped: Array<{ name: string; reason: string }> = [];

  const steps: Step[] = [
    { kind: 'remove', title: 'Clear the guest work directory', path: guest },
    { kind: 'mkdir', title: 'Create the log directory', path: logsDir },
    ...input.assets.prepare,
    { kind: 'copy', title: 'Add static busybox', from: input.assets.busybox, to: join(root, 'bin', 'busybox') },
  ];
  if (input.assets.modulesRoot) {
    for (const path of cryptoModulePaths(release, arch)) {
      steps.push({
        kind: 'copy',
        title: `Add ${path.replace(`lib/modules/${release}/`, '')}`,
        from: join(input.assets.modulesRoot, path),
        to: join(root, path),
        optional: true,
      });
    }
  }
  const rpmRoot = ['rpm', '--root', root, '--dbpath', '/var/lib/rpm'];
  const packages = [...input.packages, ...(input.openssl && 'run' in input.openssl ? input.openssl.run.packages : [])];
  steps.push(
    { kind: 'mkdir', title: 'Create the module directory', path: join(root, 'lib', 'modules', release) },
    { kind: 'exec', title: 'Create the guest rpm database', argv: [...rpmRoot, '--initdb'], log: 'rpm.log' },
    {
      kind: 'exec',
      title: `Install ${packages.map((p) => p.split('/').pop()).join(', ')} with rpm`,
      // Scriptlets would run host-side in a foreign root; depmod below does what %post does.
      argv: [...rpmRoot, '-i', '--nodeps', '--ignorearch', '--noscripts', '--nosignature', ...packages],
      log: 'rpm.log',
    },
    { kind: 'remove', title: 'Drop the rpm database from the guest', path: join(root, 'var', 'lib', 'rpm') },
    { kind: 'exec', title: `depmod ${release} (what the package's %post does)`, argv: ['depmod', '-b', root, release], log: 'depmod.log' },
  );

  // The programs armkit compiles for the guest are kept in the cache under a key of their inputs (the source, the
  // header, the compiler): an unchanged rerun copies them instead of compiling again.
  const inputsDir = join(work, 'inputs');
  if ('run' in input.kat) {
    const kat = input.kat.run;
    const built = join(kat.cached ?? join(guest, 'kat'), 'armkit-kat');
    if (!kat.cached) {
      const source = join(guest, 'armkit-kat.c');
      steps.push(
        ...rpmUnpackSteps(input.inputs.devel, join(inputsDir, 'devel'), 'the devel package'),
        { kind: 'write', title: 'Write the known-answer program', path: source, content: renderTemplate('test/cryptodev-kat.c.ejs', {}) },
        { kind: 'mkdir', title: 'Create the program directory', path: dirname(built) },
        {
          kind: 'exec',
          title: `Compile it statically for ${arch.rpm}`,
          argv: [cc, '-static', '-O2', '-Wall', '-I', join(inputsDir, 'devel', 'usr', 'include'), '-o', built, source],
          log: 'kat-build.log',
        },
        ...storeSteps(dirname(built), kat.store, 'the known-answer program'),
      );
    }
    steps.push({
      kind: 'copy',
      title: `Add the known-answer program${kat.cached ? ' (cached)' : ''}`,
      from: built,
      to: join(root, 'usr', 'bin', 'armkit-kat'),
    });
    expected.push(...KAT_CHECKS);
  } else {
    for (const name of KAT_CHECKS) skipped.push({ name, reason: input.kat.skip });
  }

  const upstreamPrograms = 'run' in input.upstream ? input.upstream.run.programs : [];
  if ('run' in input.upstream) {
    const up = input.upstream.run;
    const tree = join(guest, 'upstream');
    const built = up.cached ?? join(tree, 'tests');
    if (!up.cached) {
      const archive = join(inputsDir, 'srpm', input.inputs.archive!);
      steps.push(
        ...rpmUnpackSteps(input.inputs.srpm, join(inputsDir, 'srpm'), 'the source RPM', [input.inputs.archive!]),
        { kind: 'unpack', title: `Unpack ${input.inputs.archive}`, archive, dest: tree },
        {
          kind: 'exec',
          title: `Build upstream tests for ${arch.rpm}`,
          argv: ['make', '-C', join(tree, 'tests'), `CC=${cc}`, 'LDFLAGS=-static', ...upstreamPrograms],
          log: 'upstream-tests.log',
        },
        { kind: 'mkdir', title: 'Collect the test programs', path: join(guest, 'upstream-built') },
        ...upstreamPrograms.map((p): Step => ({ kind: 'copy', title: `Collect ${p}`, from: join(tree, 'tests', p), to: join(guest, 'upstream-built', p) })),
        ...storeSteps(join(guest, 'upstream-built'), up.store, "upstream's tests"),
      );
    }
    const dest = join(root, 'usr', 'libexec', 'armkit-upstream-tests');
    steps.push(
      ...upstreamPrograms.map(
        (p): Step => ({
          kind: 'copy',
          title: `Add upstream test ${p}${up.cached ? ' (cached)' : ''}`,
          from: join(up.cached ? built : join(guest, 'upstream-built'), p),
          to: join(dest, p),
        }),
      ),
    );
    expected.push(...upstreamPrograms.map((p) => `upstream-${p}`));
  } else {
    skipped.push({ name: 'upstream-tests', reason: input.upstream.skip });
  }
  if (input.openssl && 'run' in input.openssl) {
    const o = input.openssl.run;
    steps.push(
      ...o.runtime.map((r): Step => ({ kind: 'copy', title: `Add ${r.to} (the target's C runtime)`, from: r.from, to: join(root, r.to), dereference: true })),
    );
    expected.push(...OPENSSL_CHECKS, ...(input.speed ? ['openssl-speed'] : []));
  } else if (input.openssl) {
    for (const name of OPENSSL_CHECKS) skipped.push({ name, reason: input.openssl.skip });
  }
  expected.push('unload');

  steps.push(
    {
      kind: 'write',
      title: 'Write the guest /init',
      path: join(root, 'init'),
      mode: 0o755,
      content: renderTemplate('test/init.sh.ejs', {
        module: input.module,
        release,
        kat: 'run' in input.kat,
        upstreamTests: upstreamPrograms,
        openssl: input.openssl && 'run' in input.openssl ? { engine: input.openssl.run.engine, configPath: input.openssl.run.configPath ?? '' } : false,
        speed: input.openssl && 'run' in input.openssl && input.speed ? input.speed : false,
        nist: { ...NIST_CBC, plainOctal: octalEscapes(NIST_CBC.plain) },
      }),
    },
    { kind: 'pack-initramfs', title: 'Pack the initramfs', root, archive: initrd },
    ...storeSteps(initrd, input.initramfs.store, 'the initramfs'),
  );
  // Everything the initramfs is made of is in its key: when the cache has it, the guest boots it as it is.
  const cachedInitrd = input.initramfs.cached;
  if (cachedInitrd) steps.splice(2, steps.length - 2, ...input.assets.prepare);
  steps.push(
    {
      kind: 'boot-guest',
      title: `Boot Linux ${release} in ${arch.qemu!.binary} (${arch.qemu!.machine}, ${arch.qemu!.cpu})${cachedInitrd ? ' (cached initramfs)' : ''}`,
      argv: qemuArgv(arch, input.assets.kernelImage, cachedInitrd ?? initrd),
      serialLog: serial,
      log: 'qemu.log',
      timeoutSeconds: input.timeoutSeconds,
    },
    {
      kind: 'guest-report',
      title: 'Read the checks from the serial console',
      serialLog: serial,
      expected,
      skipped,
      ...(input.publishTo ? { publishTo: input.publishTo } : {}),
    },
  );

  return {
    summary: `test ${input.module} for Linux ${release} on ${arch.rpm} in ${arch.qemu!.binary}`,
    logsDir,
    warnings: [],
    requires: cachedInitrd
      ? [arch.qemu!.binary]
      : [
          'rpm',
          'depmod',
          arch.qemu!.binary,
          ...(('run' in input.kat && !input.kat.run.cached) || ('run' in input.upstream && !input.upstream.run.cached) ? [cc, 'make', 'rpm2cpio', 'cpio'] : []),
        ],
    locks: [work],
    steps,
  };
}
