/**
 * Facts about the machine armkit runs on. Probing only reads files and PATH (no processes), so it is cheap enough
 * to do before every plan, and tests can hand plan() a Host of their own making.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import os from 'node:os';
import { delimiter, join } from 'node:path';
import { type Arch, archOfMachine } from './arch.js';

export type PackageFamily = 'debian' | 'fedora' | 'unknown';

export interface Host {
  /** `uname -m`. */
  machine: string;
  /** The table entry for the host's architecture, if armkit knows it. */
  arch: Arch | undefined;
  /** Running kernel release (`uname -r`). */
  kernelRelease: string;
  family: PackageFamily;
  /** VERSION_CODENAME from os-release (e.g. "bookworm"), when there is one. */
  codename: string | undefined;
  isRoot: boolean;
  cpus: number;
  /** Absolute path of a program on PATH, or undefined. */
  which(program: string): string | undefined;
}

export function parseOsRelease(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) fields[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
  }
  return fields;
}

export function familyOf(osRelease: Record<string, string>): PackageFamily {
  const ids = `${osRelease.ID ?? ''} ${osRelease.ID_LIKE ?? ''}`.split(/\s+/);
  if (ids.some((id) => ['fedora', 'rhel', 'centos'].includes(id))) return 'fedora';
  if (ids.some((id) => ['debian', 'ubuntu'].includes(id))) return 'debian';
  return 'unknown';
}

export function whichIn(pathVar: string | undefined, program: string): string | undefined {
  if (program.includes('/')) return isExecutable(program) ? program : undefined;
  for (const dir of (pathVar ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, program);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function probeHost(env: NodeJS.ProcessEnv = process.env): Host {
  let osRelease: Record<string, string> = {};
  try {
    osRelease = parseOsRelease(readFileSync('/etc/os-release', 'utf8'));
  } catch {
    // Not every system has os-release; the family stays unknown and install hints list both package managers.
  }
  const machine = os.machine();
  return {
    machine,
    arch: archOfMachine(machine),
    kernelRelease: os.release(),
    family: familyOf(osRelease),
    codename: osRelease.VERSION_CODENAME || undefined,
    isRoot: typeof process.getuid === 'function' && process.getuid() === 0,
    cpus: Math.max(1, os.availableParallelism()),
    which: (program) => whichIn(env.PATH, program),
  };
}
