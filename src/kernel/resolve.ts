/**
 * Turns the --kernel argument into a header tree to build against: an installed release, a directory, or a
 * Debian kernel downloaded into armkit's cache.
 */
import { existsSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Arch } from '../arch.js';
import { mismatch, missing, usageError } from '../errors.js';
import type { Host } from '../host.js';
import type { Runner } from '../proc/runner.js';
import type { Step } from '../step.js';
import { resolveDebianKernel } from './debian.js';
import { assertSymbolVersions, assertTreeArch, inspectHeaderTree, treeIdentity, treeTools } from './tree.js';

export type KernelRequest = { kind: 'installed'; release: string } | { kind: 'directory'; path: string } | { kind: 'debian'; abi?: string; flavour: string };

export const KERNEL_FORMS =
  'a release whose headers are installed (e.g. 6.1.0-28-amd64), a header directory (e.g. /usr/src/kernels/6.8.9-300.fc40.aarch64), ' +
  'debian:latest[-FLAVOUR] or debian:ABI-FLAVOUR (e.g. debian:6.1.0-28-arm64)';

/** Parses --kernel. Pure: the flavour defaults from the architecture table. */
export function parseKernelSpec(spec: string, arch: Arch): KernelRequest {
  if (spec.startsWith('debian:')) {
    const rest = spec.slice('debian:'.length);
    if (rest === 'latest') return { kind: 'debian', flavour: arch.debian.flavour };
    if (rest.startsWith('latest-') && rest.length > 'latest-'.length) return { kind: 'debian', flavour: rest.slice('latest-'.length) };
    const m = /^(\d+\.\d+\.\d+-\d+)-([a-z0-9][a-z0-9-]*)$/.exec(rest);
    if (m) return { kind: 'debian', abi: m[1]!, flavour: m[2]! };
    throw usageError(`--kernel ${spec}: expected debian:latest, debian:latest-FLAVOUR or debian:ABI-FLAVOUR such as debian:6.1.0-28-${arch.debian.flavour}.`);
  }
  if (spec.includes('/') || spec === '.' || spec === '..') return { kind: 'directory', path: spec };
  if (/^[0-9][A-Za-z0-9._+~-]*$/.test(spec)) return { kind: 'installed', release: spec };
  throw usageError(`--kernel ${spec} is not a kernel: give ${KERNEL_FORMS}.`);
}

export interface ResolvedKernel {
  /** As the user gave it (or as armkit chose it; "newest" in a chroot). */
  spec: string;
  /** Where the tree is: this host (installed, directory, debian) or a chroot's kernel-devel (mock, Copr). */
  source: KernelRequest['kind'] | 'chroot';
  dir: string;
  release: string;
  version: string;
  /** Steps to run before the build (downloading Debian headers into the cache). */
  prepare: Step[];
  /** Debian packages the headers came from, when they did. */
  packages?: string[];
  /** Programs the kernel's build system needs besides the compiler (pahole for BTF). */
  tools?: string[];
  /**
   * What makes this tree this tree, for the build cache's key: the Debian package and its exact version, or the
   * release and the sha256 of Module.symvers (the symbol versions a module is built against).
   */
  identity: string;
}

/** Where distributions put the headers of an installed kernel release. */
export function installedHeaderDirs(release: string): string[] {
  return [`/lib/modules/${release}/build`, `/usr/src/linux-headers-${release}`, `/usr/src/kernels/${release}`];
}

export async function resolveKernel(
  spec: string | undefined,
  arch: Arch,
  native: boolean,
  ctx: { cacheDir: string; host: Host; runner: Runner; warn: (m: string) => void; dryRun?: boolean },
): Promise<ResolvedKernel> {
  if (spec === undefined && !native) {
    throw usageError(`A cross build for ${arch.rpm} needs --kernel: ${KERNEL_FORMS}.`);
  }
  const given = spec ?? ctx.host.kernelRelease;
  const request = parseKernelSpec(given, arch);

  if (request.kind === 'debian') {
    const deb = await resolveDebianKernel(request, arch, ctx);
    return {
      spec: given,
      source: 'debian',
      dir: deb.dir,
      release: deb.release,
      version: deb.version,
      prepare: deb.prepare,
      packages: deb.packages,
      tools: deb.tools,
      identity: deb.identity,
    };
  }

  let dir: string;
  if (request.kind === 'installed') {
    const found = installedHeaderDirs(request.release).find((d) => existsSync(resolve(d, 'Makefile')));
    if (!found) {
      throw missing(`No headers for kernel ${request.release} (looked in ${installedHeaderDirs(request.release).join(', ')}).`, [
        `Install them with "apt-get install linux-headers-${request.release}" or "dnf install kernel-devel-${request.release}", or pass --kernel with another form: ${KERNEL_FORMS}.`,
      ]);
    }
    dir = realpathSync(found);
  } else {
    dir = resolve(request.path);
    if (!existsSync(dir)) throw usageError(`--kernel ${request.path}: no such directory.`);
  }
  const tree = inspectHeaderTree(dir);
  assertTreeArch(tree, arch);
  if (request.kind === 'installed' && tree.release !== request.release) {
    throw mismatch(`Headers in ${dir} are for release ${tree.release}, not ${request.release}.`);
  }
  assertSymbolVersions(tree);
  return {
    spec: given,
    source: request.kind,
    dir,
    release: tree.release,
    version: tree.version,
    prepare: [],
    tools: treeTools(tree),
    identity: treeIdentity(tree),
  };
}

/** A kernel version that selects a recipe's source for the newest kernels (a chroot's newest kernel-devel). */
const NEWEST_VERSION = '999.0.0';

/**
 * The kernel of a build in a chroot (mock, Copr): Fedora's kernel-devel there, at the release asked for (its
 * kernel-devel-uname-r), or the chroot's newest when none is. Nothing on this host is read.
 */
export function resolveChrootKernel(spec: string | undefined, chroot: string): ResolvedKernel {
  if (spec === undefined) {
    return {
      spec: 'newest',
      source: 'chroot',
      dir: '/usr/src/kernels/%{kernel_release}',
      release: 'newest',
      version: NEWEST_VERSION,
      prepare: [],
      identity: `chroot ${chroot} newest`,
    };
  }
  // A kernel-devel-uname-r is VERSION-RELEASE.ARCH: exactly one dash, or rpm cannot compare it (Debian's
  // 6.1.0-57-arm64 names no Fedora kernel-devel).
  if (!/^\d+\.\d+[A-Za-z0-9._+~]*-[A-Za-z0-9._+~]+$/.test(spec)) {
    throw usageError(
      `--kernel ${spec}: a build in a chroot uses the chroot's kernel-devel: give its release (e.g. 6.11.4-301.fc41.aarch64), or no --kernel for the chroot's newest.`,
    );
  }
  const version = /^(\d+\.\d+(?:\.\d+)?)/.exec(spec)![1]!;
  return { spec, source: 'chroot', dir: `/usr/src/kernels/${spec}`, release: spec, version, prepare: [], identity: `chroot ${chroot} ${spec}` };
}
