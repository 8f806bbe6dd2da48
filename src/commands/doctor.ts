/**
 * armkit doctor: what this host lacks to build for an architecture, with the command that installs it;
 * --fix runs that command.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ARCHES } from '../arch.js';
import { missing } from '../errors.js';
import type { Host } from '../host.js';
import { installedHeaderDirs } from '../kernel/resolve.js';
import { DEBIAN_KERNEL_PROGRAMS, RPM_BUILD_PROGRAMS, chooseCross, installCommands, packagesFor, toolchainPrograms, type Packages } from '../prereqs.js';
import { chooseArchAndMode, type Env } from './kmod-input.js';
import { info, printJson } from './output.js';

export interface DoctorOptions {
  arch?: string;
  mode?: string;
  fix?: boolean;
  json?: boolean;
}

export interface Check {
  name: string;
  purpose: string;
  ok: boolean;
  /** Needed only by `armkit test`: reported, not counted as missing for a build. */
  optional?: boolean;
  found?: string;
  packages: Packages;
  install: string[];
}

export function collectChecks(host: Host, options: Pick<DoctorOptions, 'arch' | 'mode'>): { label: string; checks: Check[] } {
  const { arch, mode } = chooseArchAndMode(options, host);
  const crossPrefix = mode === 'cross' ? chooseCross(arch, host).prefix : undefined;
  const programs: Array<[string, string]> = [
    ...RPM_BUILD_PROGRAMS.map((p): [string, string] => [p, 'RPM packaging']),
    ...toolchainPrograms(crossPrefix).map((p): [string, string] => [p, mode === 'cross' ? `${arch.rpm} cross toolchain` : 'compiler']),
    ['depmod', 'module index (armkit install)'],
  ];
  if (host.family === 'debian') programs.push(...DEBIAN_KERNEL_PROGRAMS.map((p): [string, string] => [p, '--kernel debian:...']));
  const checks: Check[] = programs.map(([name, purpose]) => {
    const packages = packagesFor(name, ARCHES) ?? { debian: [], fedora: [] };
    const found = host.which(name);
    return { name, purpose, ok: Boolean(found), ...(found ? { found } : {}), packages, install: installCommands(packages) };
  });
  if (arch.qemu) {
    const packages = packagesFor(arch.qemu.binary, ARCHES) ?? { debian: [], fedora: [] };
    const found = host.which(arch.qemu.binary);
    checks.push({ name: arch.qemu.binary, purpose: 'armkit test (QEMU guest)', ok: Boolean(found), optional: true, ...(found ? { found } : {}), packages, install: installCommands(packages) });
  }
  if (mode === 'cross') {
    // A static C library for the target, for the known-answer program armkit test compiles.
    const libc: Packages = { debian: [`libc6-dev-${arch.debian.arch}-cross`], fedora: [] };
    const libcA = `/usr/${arch.libc.triplet}/lib/libc.a`;
    const found = existsSync(libcA);
    checks.push({ name: `static libc for ${arch.rpm}`, purpose: 'armkit test (known-answer program)', ok: found, optional: true, ...(found ? { found: libcA } : {}), packages: libc, install: installCommands(libc) });
  }
  if (mode === 'native') {
    const release = host.kernelRelease;
    const dir = installedHeaderDirs(release).find((d) => existsSync(join(d, 'Makefile')));
    const packages = { debian: [`linux-headers-${release}`], fedora: [`kernel-devel-${release}`] };
    checks.push({ name: `headers for ${release}`, purpose: 'native build for the running kernel (or pass --kernel)', ok: Boolean(dir), ...(dir ? { found: dir } : {}), packages, install: installCommands(packages) });
  }
  return { label: `${arch.rpm} (${mode}) on ${host.machine}, ${host.family} host`, checks };
}

function report(label: string, checks: Check[]): void {
  info(`armkit doctor: ${label}`);
  const width = Math.max(...checks.map((c) => c.name.length));
  for (const c of checks) {
    const detail = c.ok ? c.found : c.install.join(' | ') || 'no known package';
    const status = c.ok ? 'ok     ' : c.optional ? 'absent ' : 'MISSING';
    info(`  ${status}  ${c.name.padEnd(width)}  ${detail}  (${c.purpose}${c.optional && !c.ok ? ', optional' : ''})`);
  }
}

export async function doctorCommand(options: DoctorOptions, env: Env): Promise<void> {
  let { label, checks } = collectChecks(env.host, options);
  if (options.fix && checks.some((c) => !c.ok)) {
    const family = env.host.family;
    if (family === 'unknown') throw missing('armkit doctor --fix knows apt-get and dnf; install the missing packages by hand.');
    const packages = [...new Set(checks.filter((c) => !c.ok).flatMap((c) => c.packages[family]))];
    // --fix installs the optional test tools too: the fixed host can build and test.
    if (packages.length > 0) {
      report(label, checks);
      info(`armkit doctor: installing ${packages.join(' ')}`);
      if (family === 'debian') {
        await env.runner.run(['apt-get', 'update'], { echo: true });
        await env.runner.run(['apt-get', 'install', '-y', '--no-install-recommends', ...packages], { echo: true, env: { DEBIAN_FRONTEND: 'noninteractive' } });
      } else {
        await env.runner.run(['dnf', 'install', '-y', ...packages], { echo: true });
      }
      ({ label, checks } = collectChecks(env.host, options));
    }
  }
  const absent = checks.filter((c) => !c.ok && !c.optional);
  if (options.json) printJson({ ok: absent.length === 0, host: label, checks });
  else report(label, checks);
  if (absent.length > 0) {
    throw missing(`${absent.length} prerequisite(s) missing: ${absent.map((c) => c.name).join(', ')}.`, ['Run "armkit doctor --fix" (as root) to install them.']);
  }
}
