/**
 * armkit doctor: what this host lacks for the commands it will run (`--for`) and the architectures it will build
 * for, with the command that installs it; --fix installs it. Every need comes from the one table in src/prereqs.ts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ARCHES, type Arch, findArch } from '../arch.js';
import { missing, usageError } from '../errors.js';
import type { Host } from '../host.js';
import { installedHeaderDirs } from '../kernel/resolve.js';
import { findNeed, installCommands, needsFor, type Packages, USE_PURPOSE, USES, type Use } from '../prereqs.js';
import { chooseArchAndMode, type Env } from './kmod-input.js';
import { info, printJson } from './output.js';

export interface DoctorOptions {
  arch?: string;
  mode?: string;
  for?: string;
  fix?: boolean;
  json?: boolean;
  /** With --fix: print the install commands, run none. */
  dryRun?: boolean;
}

export interface Check {
  name: string;
  purpose: string;
  ok: boolean;
  /** Wanted by a command not asked for with --for (the test tools, by default): reported, not counted as missing. */
  optional?: boolean;
  found?: string;
  packages: Packages;
  install: string[];
  fedoraNone?: string;
}

/** `--arch aarch64,armv7hl` or `all`; none: the host's own. */
export function parseArches(value: string | undefined): Array<Arch | undefined> {
  if (!value) return [undefined];
  if (value.trim() === 'all') return [...ARCHES];
  return value.split(',').map((a) => findArch(a));
}

export function parseUses(value: string | undefined): { required: Use[]; optional: Use[] } {
  // By default: what building needs, and what proving the build in a guest needs (optional, but --fix installs it).
  if (!value) return { required: ['build'], optional: ['test'] };
  const names = value.split(',').map((u) => u.trim());
  const uses = names.includes('all') ? USES.filter((u) => u !== 'suite' || names.includes('suite')) : names;
  for (const u of uses) if (!(USES as readonly string[]).includes(u)) throw usageError(`--for ${u}: expected a list of ${USES.join(', ')} or all.`);
  return { required: [...new Set(uses as Use[])], optional: [] };
}

export function collectChecks(host: Host, options: Pick<DoctorOptions, 'arch' | 'mode' | 'for'>): { label: string; checks: Check[] } {
  const { required, optional } = parseUses(options.for);
  const checks = new Map<string, Check>();
  const labels: string[] = [];
  const targets = parseArches(options.arch);
  for (const wanted of targets) {
    // --mode applies to one named architecture; with several, each gets its own default (native for this host's).
    const { arch, mode } = chooseArchAndMode({ arch: wanted?.rpm, mode: targets.length > 1 ? undefined : options.mode }, host);
    labels.push(`${arch.rpm} (${mode})`);
    for (const use of [...required, ...optional]) {
      for (const need of needsFor(use, arch, mode, host)) {
        const prior = checks.get(need.name);
        const isOptional = !required.includes(use);
        if (prior) {
          if (!isOptional) delete prior.optional;
          if (!prior.purpose.includes(USE_PURPOSE[use])) prior.purpose += `; ${USE_PURPOSE[use]}`;
          continue;
        }
        const found = findNeed(need, host);
        checks.set(need.name, {
          name: need.name,
          purpose: USE_PURPOSE[use],
          ok: Boolean(found),
          ...(isOptional ? { optional: true } : {}),
          ...(found ? { found } : {}),
          packages: need.packages,
          install: installCommands(need.packages),
          ...(need.fedoraNone ? { fedoraNone: need.fedoraNone } : {}),
        });
      }
    }
    if (mode === 'native' && options.for === undefined) {
      // A native build without --kernel builds for the running kernel; its headers are optional (--kernel works).
      const release = host.kernelRelease;
      const dir = installedHeaderDirs(release).find((d) => existsSync(join(d, 'Makefile')));
      const packages = { debian: [`linux-headers-${release}`], fedora: [`kernel-devel-${release}`] };
      checks.set(`headers for ${release}`, {
        name: `headers for ${release}`,
        purpose: 'native build for the running kernel (or pass --kernel)',
        ok: Boolean(dir),
        optional: true,
        ...(dir ? { found: dir } : {}),
        packages,
        install: installCommands(packages),
      });
    }
  }
  return { label: `${labels.join(', ')} on ${host.machine}, ${host.family} host`, checks: [...checks.values()] };
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

/** Which of the packages the archive offers: a package of the running kernel's headers may not exist at all. */
async function availableDebian(packages: string[], env: Env): Promise<{ available: string[]; unavailable: string[] }> {
  const result = await env.runner.capture(['apt-cache', 'policy', ...packages]);
  const candidates = new Map<string, boolean>();
  let current: string | undefined;
  for (const line of result.stdout.split('\n')) {
    const head = /^(\S+):$/.exec(line);
    if (head) current = head[1];
    const cand = /^\s+Candidate:\s*(\S+)/.exec(line);
    if (current && cand) candidates.set(current, cand[1] !== '(none)');
  }
  return { available: packages.filter((pkg) => candidates.get(pkg)), unavailable: packages.filter((pkg) => !candidates.get(pkg)) };
}

async function fix(checks: Check[], env: Env, dryRun: boolean): Promise<void> {
  const family = env.host.family;
  if (family === 'unknown') throw missing('armkit doctor --fix knows apt-get and dnf; install the missing packages by hand.');
  const wanted = (c: Check) => [...new Set(c.packages[family])];
  const absent = checks.filter((c) => !c.ok);
  const noPackage = absent.filter((c) => wanted(c).length === 0);
  for (const c of noPackage)
    env.warn(`${c.name}: no ${family === 'fedora' ? 'dnf' : 'apt-get'} package provides it${c.fedoraNone && family === 'fedora' ? ` (${c.fedoraNone})` : ''}.`);
  let packages = [...new Set(absent.flatMap(wanted))];
  if (packages.length === 0) return;
  if (dryRun) {
    // The dry-run contract: print what would run, run nothing (not even apt-get update).
    const commands =
      family === 'debian'
        ? ['apt-get update', `DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${packages.join(' ')}`]
        : [`dnf install -y --setopt=install_weak_deps=False ${packages.join(' ')}`];
    process.stdout.write(`${commands.join('\n')}\n`);
    return;
  }
  if (family === 'debian') {
    await env.runner.run(['apt-get', 'update'], { echo: true });
    const { available, unavailable } = await availableDebian(packages, env);
    const requiredUnavailable = absent.filter((c) => !c.optional && wanted(c).some((pkg) => unavailable.includes(pkg)));
    if (requiredUnavailable.length > 0) {
      throw missing(`The package archive offers no ${unavailable.join(', ')}, which ${requiredUnavailable.map((c) => c.name).join(', ')} needs.`, [
        'Check the apt sources (/etc/apt/sources.list*) and run "apt-get update".',
      ]);
    }
    for (const pkg of unavailable) env.warn(`the package archive offers no ${pkg}; skipped (optional).`);
    packages = available;
    info(`armkit doctor: installing ${packages.join(' ')}`);
    if (packages.length > 0) {
      await env.runner.run(['apt-get', 'install', '-y', '--no-install-recommends', ...packages], { echo: true, env: { DEBIAN_FRONTEND: 'noninteractive' } });
    }
  } else {
    info(`armkit doctor: installing ${packages.join(' ')}`);
    await env.runner.run(['dnf', 'install', '-y', '--setopt=install_weak_deps=False', ...packages], { echo: true });
  }
}

export async function doctorCommand(options: DoctorOptions, env: Env): Promise<void> {
  let { label, checks } = collectChecks(env.host, options);
  if (options.fix && checks.some((c) => !c.ok)) {
    // --fix installs the optional test tools too: the fixed host can build and test.
    report(label, checks);
    await fix(checks, env, Boolean(options.dryRun));
    if (options.dryRun) return;
    ({ label, checks } = collectChecks(env.host, options));
  }
  const absent = checks.filter((c) => !c.ok && !c.optional);
  if (options.json) printJson({ ok: absent.length === 0, host: label, checks });
  else report(label, checks);
  if (absent.length > 0) {
    throw missing(`${absent.length} prerequisite(s) missing: ${absent.map((c) => c.name).join(', ')}.`, [
      'Run "armkit doctor --fix" (as root) to install them.',
    ]);
  }
}
