/**
 * Reads what a configured kernel header tree says about itself: its release (what vermagic will say), its
 * upstream version (what picks a source) and its Kconfig (what says which architecture it is for).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARCHES, type Arch } from '../arch.js';
import { mismatch, missing } from '../errors.js';

export interface HeaderTree {
  dir: string;
  /** UTS_RELEASE: the release modules built here carry in vermagic, and the /lib/modules directory name. */
  release: string;
  /** Upstream version, e.g. "6.1.192". */
  version: string;
  /** Kconfig symbols set to y or m. */
  config: Set<string>;
}

function readIfExists(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

export function parseUtsRelease(text: string): string | undefined {
  return /#define\s+UTS_RELEASE\s+"([^"]+)"/.exec(text)?.[1];
}

export function parseVersionHeader(text: string): string | undefined {
  const major = /#define\s+LINUX_VERSION_MAJOR\s+(\d+)/.exec(text)?.[1];
  const minor = /#define\s+LINUX_VERSION_PATCHLEVEL\s+(\d+)/.exec(text)?.[1];
  const sub = /#define\s+LINUX_VERSION_SUBLEVEL\s+(\d+)/.exec(text)?.[1];
  if (major && minor && sub) return `${major}.${minor}.${sub}`;
  const code = /#define\s+LINUX_VERSION_CODE\s+(\d+)/.exec(text)?.[1];
  if (!code) return undefined;
  const n = Number(code);
  return `${n >> 16}.${(n >> 8) & 0xff}.${n & 0xff}`;
}

/** Symbols set in a .config (`CONFIG_X=y|m`) or an autoconf.h (`#define CONFIG_X 1`). */
export function parseKconfig(text: string): Set<string> {
  const symbols = new Set<string>();
  for (const m of text.matchAll(/^(CONFIG_[A-Za-z0-9_]+)=[ym]$/gm)) symbols.add(m[1]!);
  for (const m of text.matchAll(/^#define\s+(CONFIG_[A-Za-z0-9_]+?)(?:_MODULE)?\s+1$/gm)) symbols.add(m[1]!);
  return symbols;
}

export function inspectHeaderTree(dir: string): HeaderTree {
  if (!existsSync(join(dir, 'Makefile'))) {
    throw missing(`${dir} is not a kernel header tree: it has no Makefile.`);
  }
  const uts = readIfExists(join(dir, 'include/generated/utsrelease.h'));
  const release = uts ? parseUtsRelease(uts) : undefined;
  if (!release) {
    throw missing(
      `${dir} is not a configured kernel header tree: include/generated/utsrelease.h is missing. ` +
        'Use a distribution header package (linux-headers-*, kernel-devel) or run "make modules_prepare" in a configured source tree.',
    );
  }
  // The release names packages and paths and is written into the spec: only what real releases contain.
  if (!/^[A-Za-z0-9._+~-]+$/.test(release)) {
    throw mismatch(`${dir} says its release is ${JSON.stringify(release)}, which is not a kernel release (letters, digits and ._+~- only).`);
  }
  const config = parseKconfig(readIfExists(join(dir, '.config')) ?? readIfExists(join(dir, 'include/generated/autoconf.h')) ?? '');
  if (config.size === 0) {
    throw missing(`${dir} has no kernel configuration (.config or include/generated/autoconf.h).`);
  }
  const versionHeader = readIfExists(join(dir, 'include/generated/uapi/linux/version.h')) ?? readIfExists(join(dir, 'include/linux/version.h'));
  const version = (versionHeader ? parseVersionHeader(versionHeader) : undefined) ?? /^(\d+\.\d+(?:\.\d+)?)/.exec(release)?.[1] ?? release;
  return { dir, release, version, config };
}

/**
 * Programs kbuild will call for modules against this tree beyond the compiler: with BTF for modules and a vmlinux
 * in the tree (Debian's 6.12 headers), modpost runs pahole.
 */
export function treeTools(tree: HeaderTree): string[] {
  return tree.config.has('CONFIG_DEBUG_INFO_BTF_MODULES') && existsSync(join(tree.dir, 'vmlinux')) ? ['pahole'] : [];
}

/** The table entries whose Kconfig symbols this configuration has. */
export function archesOfConfig(config: Set<string>): Arch[] {
  return ARCHES.filter((a) => a.kconfig.every((symbol) => config.has(symbol)));
}

/** Refuses a tree configured for another architecture, naming what it is for. */
export function assertTreeArch(tree: HeaderTree, arch: Arch): void {
  if (arch.kconfig.every((symbol) => tree.config.has(symbol))) return;
  const actual = archesOfConfig(tree.config).map((a) => a.rpm);
  throw mismatch(
    `Kernel headers in ${tree.dir} (release ${tree.release}) are for ${actual.length ? actual.join(' or ') : 'another architecture'}, ` +
      `not ${arch.rpm}: their configuration lacks ${arch.kconfig.filter((s) => !tree.config.has(s)).join(', ')}.`,
    ['Pass --kernel with headers built for the target, or --kernel debian:latest to download them.'],
  );
}

/**
 * A tree configured with CONFIG_MODVERSIONS but without Module.symvers builds a module with no symbol versions:
 * the kernel then refuses it or loads it tainted. Refused here, before anything is built.
 */
export function assertSymbolVersions(tree: HeaderTree): void {
  if (!tree.config.has('CONFIG_MODVERSIONS') || existsSync(join(tree.dir, 'Module.symvers'))) return;
  throw mismatch(`Kernel headers in ${tree.dir} have no Module.symvers, and their kernel checks symbol versions (CONFIG_MODVERSIONS).`, [
    'A module built here would carry no symbol versions: that kernel refuses it ("no symbol version for ...") or loads it tainted.',
    "Copy Module.symvers from the kernel's build into the tree, or use the distribution's header package (linux-headers-*, kernel-devel).",
  ]);
}

/** The release and the sha256 of Module.symvers: what a module built against the tree depends on. */
export function treeIdentity(tree: HeaderTree): string {
  const symvers = join(tree.dir, 'Module.symvers');
  const hash = existsSync(symvers) ? createHash('sha256').update(readFileSync(symvers)).digest('hex') : 'none';
  return `${tree.release} symvers:${hash}`;
}
