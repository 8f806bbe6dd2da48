/**
 * What a guest boots: the kernel image the module was built for (with the crypto modules it may load), and a
 * static busybox for the target. For Debian kernels both come from Debian's packages through armkit's private apt
 * state, kept in the cache; `--kernel-image` or the host's own /boot serve other kernels.
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Arch } from '../arch.js';
import { missing, usageError } from '../errors.js';
import type { Host } from '../host.js';
import { PrivateApt } from '../kernel/debian.js';
import type { Runner } from '../proc/runner.js';
import type { Step } from '../step.js';

export interface GuestAssets {
  /** vmlinuz / Image / zImage for -kernel. */
  kernelImage: string;
  /** A directory holding lib/modules/<release>/ with the crypto modules, or undefined for a bare image. */
  modulesRoot?: string;
  busybox: string;
  /** Steps that download and extract into the cache what is not there yet. */
  prepare: Step[];
  source: string;
}

interface Ctx {
  cacheDir: string;
  host: Host;
  runner: Runner;
  warn(message: string): void;
  /** Read the cache as it is; download and write nothing. */
  dryRun?: boolean;
}

/** Module directories a crypto test needs: the crypto API, its library helpers, the CPU's accelerated drivers. */
export function cryptoModulePaths(release: string, arch: Arch): string[] {
  const base = `lib/modules/${release}`;
  return [
    `${base}/modules.order`,
    `${base}/modules.builtin`,
    `${base}/modules.builtin.modinfo`,
    `${base}/kernel/crypto/`,
    `${base}/kernel/lib/crypto/`,
    `${base}/kernel/arch/${arch.kernelArch}/crypto/`,
  ];
}

/** The file name `apt-get download` saves a package version as (apt escapes every colon). */
export function debFileName(pkg: string, version: string, debArch: string): string {
  return `${pkg}_${version.replaceAll(':', '%3a')}_${debArch}.deb`;
}

async function debianPackage(apt: PrivateApt, ctx: Ctx, pkg: string): Promise<{ version: string }> {
  const stanza = await apt.memo(`show ${pkg}`, () => apt.show(ctx.runner, pkg));
  if (!stanza) throw missing(`Debian's archive has no ${pkg}.`);
  return stanza;
}

/** Steps that download one Debian package into `dir` and return the .deb's path. */
function downloadSteps(apt: PrivateApt, pkg: string, version: string, dir: string, log: string): { steps: Step[]; deb: string } {
  const [name, debArch] = pkg.split(':') as [string, string];
  return {
    steps: [{ kind: 'mkdir', title: `Create ${dir}`, path: dir }, apt.downloadStep(`Download ${pkg}`, [pkg], dir, log)],
    deb: join(dir, debFileName(name, version, debArch)),
  };
}

export async function resolveGuestAssets(arch: Arch, release: string, kernelImage: string | undefined, ctx: Ctx): Promise<GuestAssets> {
  const prepare: Step[] = [];
  const aptFor = () => {
    for (const tool of ['apt-get', 'apt-cache', 'dpkg-deb']) {
      if (!ctx.host.which(tool)) throw missing(`Booting a ${arch.rpm} guest needs Debian's static busybox, fetched with ${tool} (a Debian or Ubuntu host).`);
    }
    return new PrivateApt(ctx.cacheDir, arch, ctx.host, ctx.dryRun);
  };
  let apt: PrivateApt | undefined;
  const debDir = join(ctx.cacheDir, 'guest', 'debian', arch.debian.arch);

  // Busybox, static, for the target: the guest's shell, modprobe and friends.
  apt = aptFor();
  await apt.refresh(ctx.runner, 6 * 3600 * 1000, ctx.warn);
  const bbPkg = `busybox-static:${arch.debian.arch}`;
  const bb = await debianPackage(apt, ctx, bbPkg);
  const bbDir = join(debDir, `busybox-${bb.version.replace(':', '_')}`);
  const busybox = join(bbDir, 'bin', 'busybox');
  if (!existsSync(busybox)) {
    const partial = `${bbDir}.partial`;
    const dl = downloadSteps(apt, bbPkg, bb.version, join(partial, 'debs'), 'apt-download-busybox.log');
    prepare.push(
      { kind: 'remove', title: 'Clear partial busybox download', path: partial },
      ...dl.steps,
      { kind: 'exec', title: `Extract ${bbPkg}`, argv: ['dpkg-deb', '-x', dl.deb, partial], log: 'dpkg-deb.log' },
      { kind: 'remove', title: 'Drop the busybox .deb', path: join(partial, 'debs') },
      { kind: 'remove', title: 'Clear stale busybox', path: bbDir },
      { kind: 'rename', title: `Keep busybox ${bb.version} in the cache`, from: partial, to: bbDir },
    );
  }

  if (kernelImage) {
    if (!existsSync(kernelImage)) throw usageError(`--kernel-image ${kernelImage}: no such file.`);
    if (kernelImage.endsWith('.rpm')) {
      const fromRpm = await kernelFromRpm(kernelImage, release, ctx);
      return { ...fromRpm, busybox, prepare: [...prepare, ...fromRpm.prepare] };
    }
    return { kernelImage, busybox, prepare, source: `--kernel-image ${kernelImage} (no modules: only built-in crypto drivers)` };
  }
  const hostImage = `/boot/vmlinuz-${release}`;
  if (arch === ctx.host.arch && existsSync(hostImage) && existsSync(`/lib/modules/${release}/kernel`)) {
    return { kernelImage: hostImage, modulesRoot: '/', busybox, prepare, source: `this host's ${hostImage}` };
  }

  const imagePkg = `linux-image-${release}:${arch.debian.arch}`;
  const image = await apt.memo(`show ${imagePkg}`, () => apt!.show(ctx.runner, imagePkg));
  if (!image) {
    throw missing(`No kernel image for ${release}: Debian's archive has no ${imagePkg}.`, [
      'Pass the kernel the module was built for with --kernel-image FILE (a vmlinuz).',
    ]);
  }
  const kernelDir = join(debDir, `linux-image-${release}`);
  const result = {
    kernelImage: join(kernelDir, 'boot', `vmlinuz-${release}`),
    modulesRoot: kernelDir,
    busybox,
    prepare,
    source: `Debian ${imagePkg} ${image.version}`,
  };
  if (existsSync(join(kernelDir, 'armkit-image.json'))) return result;
  const partial = `${kernelDir}.partial`;
  const dl = downloadSteps(apt, imagePkg, image.version, join(partial, 'debs'), 'apt-download-image.log');
  const tarFile = join(partial, 'image.tar');
  prepare.push(
    { kind: 'remove', title: `Clear partial download of ${imagePkg}`, path: partial },
    ...dl.steps,
    { kind: 'exec', title: `Unpack ${imagePkg}`, argv: ['dpkg-deb', '--fsys-tarfile', dl.deb], stdoutFile: tarFile, log: 'dpkg-deb.log' },
    {
      kind: 'extract-tar',
      title: `Keep the kernel image and its crypto modules`,
      archive: tarFile,
      dest: partial,
      include: [`boot/vmlinuz-${release}`, ...cryptoModulePaths(release, arch)],
    },
    { kind: 'remove', title: 'Drop the package files', path: join(partial, 'debs') },
    { kind: 'remove', title: 'Drop the unpacked archive', path: tarFile },
    {
      kind: 'write',
      title: `Record ${imagePkg} in the cache`,
      path: join(partial, 'armkit-image.json'),
      content: `${JSON.stringify({ release, package: imagePkg, version: image.version }, null, 2)}\n`,
    },
    { kind: 'remove', title: `Clear stale ${release} image`, path: kernelDir },
    { kind: 'rename', title: `Keep ${imagePkg} in the cache`, from: partial, to: kernelDir },
  );
  return result;
}

/** Where a kernel package keeps its image: Fedora's kernel-core in the module directory, others in /boot. */
export function imageInPackage(files: string[], release: string): string | undefined {
  return [`/lib/modules/${release}/vmlinuz`, `/usr/lib/modules/${release}/vmlinuz`, `/boot/vmlinuz-${release}`].find((f) => files.includes(f));
}

/**
 * A kernel RPM (Fedora's kernel-core, or any package holding the image): listed now to find the image, unpacked
 * into the cache by the plan. Its crypto modules come along when the package has them.
 */
async function kernelFromRpm(rpm: string, release: string, ctx: Ctx): Promise<Omit<GuestAssets, 'busybox'>> {
  const listed = await ctx.runner.capture(['rpm', '-qpl', '--nosignature', rpm]);
  if (listed.exitCode !== 0) throw usageError(`--kernel-image ${rpm} is not an RPM rpm can read: ${listed.stderr.trim()}`);
  const files = listed.stdout.split('\n');
  const image = imageInPackage(files, release);
  if (!image) {
    throw usageError(
      `--kernel-image ${rpm} holds no kernel image for ${release} (looked for /lib/modules/${release}/vmlinuz, /usr/lib/modules/${release}/vmlinuz and /boot/vmlinuz-${release}).`,
    );
  }
  const hash = createHash('sha256')
    .update(`${rpm}\0${statSync(rpm).size}\0${statSync(rpm).mtimeMs}`)
    .digest('hex')
    .slice(0, 12);
  const dir = join(ctx.cacheDir, 'guest', 'rpm', hash);
  // Modules under /lib/modules or, in usr-merged packages, /usr/lib/modules: the root is the directory above lib/.
  const modulesRoot = files.some((f) => f.startsWith(`/lib/modules/${release}/kernel/crypto/`))
    ? dir
    : files.some((f) => f.startsWith(`/usr/lib/modules/${release}/kernel/crypto/`))
      ? join(dir, 'usr')
      : undefined;
  const result = { kernelImage: join(dir, image), ...(modulesRoot ? { modulesRoot } : {}), source: `${rpm.split('/').pop()} (${image})` };
  if (existsSync(join(dir, image))) return { ...result, prepare: [] };
  const partial = `${dir}.partial`;
  return {
    ...result,
    prepare: [
      { kind: 'remove', title: 'Clear a partial kernel unpack', path: partial },
      { kind: 'mkdir', title: `Create ${partial}`, path: partial },
      { kind: 'exec', title: `Unpack ${rpm.split('/').pop()}`, argv: ['rpm2cpio', rpm], stdoutFile: join(partial, '.payload.cpio'), log: 'kernel-rpm.log' },
      {
        kind: 'exec',
        title: 'Extract its files',
        argv: ['cpio', '-idm', '--quiet', '--no-absolute-filenames'],
        cwd: partial,
        stdinFile: join(partial, '.payload.cpio'),
        log: 'kernel-rpm.log',
      },
      { kind: 'remove', title: 'Drop the payload', path: join(partial, '.payload.cpio') },
      { kind: 'remove', title: 'Clear a stale unpack', path: dir },
      { kind: 'rename', title: 'Keep the kernel in the cache', from: partial, to: dir },
    ],
  };
}
