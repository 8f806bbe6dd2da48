/**
 * The kernel's own modules a guest needs besides the packages under test: the modules those depend on (a V4L2
 * loopback needs videodev, a VPN offload udp_tunnel), found through the kernel's modules.dep. For a Debian kernel
 * the whole /lib/modules/<release>/ of its linux-image package is kept in the cache (about 350 MB unpacked), and only
 * the dependencies are copied into the initramfs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Arch } from '../arch.js';
import { missing } from '../errors.js';
import type { Host } from '../host.js';
import { PrivateApt } from '../kernel/debian.js';
import type { Runner } from '../proc/runner.js';
import type { Step } from '../step.js';
import { debFileName } from './assets.js';

export interface KernelModulesTree {
  /** A directory holding lib/modules/<release>/ with modules.dep. */
  root: string;
  /** Steps that put it there when the cache does not have it. */
  prepare: Step[];
  source: string;
}

/** The Debian kernel's modules, from its linux-image package through armkit's private apt state. */
export async function kernelModulesTree(
  arch: Arch,
  release: string,
  ctx: { cacheDir: string; host: Host; runner: Runner; warn(m: string): void; dryRun?: boolean },
): Promise<KernelModulesTree> {
  const hostTree = `/lib/modules/${release}/modules.dep`;
  if (arch === ctx.host.arch && existsSync(hostTree)) return { root: '/', prepare: [], source: `this host's /lib/modules/${release}` };
  const apt = new PrivateApt(ctx.cacheDir, arch, ctx.host, ctx.dryRun);
  await apt.refresh(ctx.runner, 6 * 3600 * 1000, ctx.warn);
  const pkg = `linux-image-${release}:${arch.debian.arch}`;
  const image = await apt.memo(`show ${pkg}`, () => apt.show(ctx.runner, pkg));
  if (!image) throw missing(`No modules for ${release}: Debian's archive has no ${pkg}, so the modules' dependencies cannot be put in the guest.`);
  const root = join(ctx.cacheDir, 'guest', 'debian', arch.debian.arch, `linux-modules-${release}`);
  const source = `Debian ${pkg} ${image.version}`;
  if (existsSync(join(root, 'lib', 'modules', release, 'modules.dep'))) return { root, prepare: [], source };
  // Debian's package ships no modules.dep (its postinst runs depmod): armkit runs depmod on the tree it keeps.
  const depmod = (dir: string): Step => ({
    kind: 'exec',
    title: `depmod ${release} (index the kernel's modules)`,
    argv: ['depmod', '-b', dir, release],
    log: 'depmod.log',
  });
  if (existsSync(join(root, 'lib', 'modules', release, 'modules.order'))) return { root, prepare: [depmod(root)], source };
  const partial = `${root}.partial`;
  const debs = join(partial, 'debs');
  const deb = join(debs, debFileName(`linux-image-${release}`, image.version, arch.debian.arch));
  const tarFile = join(partial, 'image.tar');
  return {
    root,
    source,
    prepare: [
      { kind: 'remove', title: `Clear a partial download of ${pkg}`, path: partial },
      { kind: 'mkdir', title: `Create ${debs}`, path: debs },
      { kind: 'exec', title: `Download ${pkg}`, argv: ['apt-get', ...apt.options(), 'download', pkg], cwd: debs, log: 'apt-download-modules.log' },
      { kind: 'exec', title: `Unpack ${pkg}`, argv: ['dpkg-deb', '--fsys-tarfile', deb], stdoutFile: tarFile, log: 'dpkg-deb.log' },
      { kind: 'extract-tar', title: `Keep lib/modules/${release}/`, archive: tarFile, dest: partial, include: [`lib/modules/${release}/`] },
      { kind: 'remove', title: 'Drop the package file', path: debs },
      { kind: 'remove', title: 'Drop the unpacked archive', path: tarFile },
      depmod(partial),
      { kind: 'remove', title: `Clear stale ${release} modules`, path: root },
      { kind: 'rename', title: `Keep ${release}'s modules in the cache`, from: partial, to: root },
    ],
  };
}

/** A module's name as the kernel knows it: "-" and "_" are the same to modprobe. */
export const moduleKey = (name: string) => name.replace(/-/g, '_');

/** modules.dep: each module's path → the paths it depends on (relative to lib/modules/<release>/). */
export function parseModulesDep(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([^:\s]+):\s*(.*)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!.split(/\s+/).filter(Boolean));
  }
  return out;
}

/** The name a modules.dep path stands for: kernel/net/ipv4/udp_tunnel.ko(.xz) → udp_tunnel. */
export function moduleOfPath(path: string): string {
  return moduleKey(
    path
      .split('/')
      .pop()!
      .replace(/\.ko(\.(xz|gz|zst))?$/, ''),
  );
}

/**
 * The kernel's module files (paths under lib/modules/<release>/) that the named modules need, dependencies of
 * dependencies included; names the kernel builds in, or that the packages under test provide, need nothing.
 */
export function dependencyClosure(modulesDep: Map<string, string[]>, wanted: string[], provided: Set<string>): { paths: string[]; unknown: string[] } {
  const byName = new Map<string, string>();
  for (const path of modulesDep.keys()) byName.set(moduleOfPath(path), path);
  const paths = new Set<string>();
  const unknown: string[] = [];
  const visit = (name: string) => {
    const key = moduleKey(name);
    if (provided.has(key)) return;
    const path = byName.get(key);
    if (!path) {
      if (!unknown.includes(key)) unknown.push(key);
      return;
    }
    if (paths.has(path)) return;
    paths.add(path);
    for (const dep of modulesDep.get(path) ?? []) visit(moduleOfPath(dep));
  };
  for (const w of wanted) visit(w);
  return { paths: [...paths].sort(), unknown };
}

/** Reads modules.dep and modules.builtin of a tree (undefined when the tree is not in the cache yet). */
export function readModulesTree(root: string, release: string): { dep: Map<string, string[]>; builtin: Set<string> } | undefined {
  const dir = join(root, 'lib', 'modules', release);
  if (!existsSync(join(dir, 'modules.dep'))) return undefined;
  const builtin = existsSync(join(dir, 'modules.builtin'))
    ? new Set(readFileSync(join(dir, 'modules.builtin'), 'utf8').split('\n').filter(Boolean).map(moduleOfPath))
    : new Set<string>();
  return { dep: parseModulesDep(readFileSync(join(dir, 'modules.dep'), 'utf8')), builtin };
}

/** A .ko's .modinfo facts: its name and the modules it depends on (the strings kbuild puts in the section). */
export function modinfoOf(bytes: Buffer): { name?: string; depends: string[] } {
  const text = bytes.toString('latin1');
  const field = (key: string) => {
    const m = new RegExp(`\\0${key}=([^\\0]*)\\0`).exec(text);
    return m?.[1];
  };
  const depends = (field('depends') ?? '').split(',').filter(Boolean);
  const name = field('name');
  return { ...(name ? { name } : {}), depends };
}

/** The package's modules in an order that loads each after the package's own modules it depends on. */
export function loadOrder(modules: Array<{ name: string; depends: string[] }>): string[] {
  const own = new Map(modules.map((m) => [moduleKey(m.name), m]));
  const done: string[] = [];
  const visiting = new Set<string>();
  const visit = (key: string) => {
    if (done.includes(key) || visiting.has(key)) return;
    visiting.add(key);
    for (const d of own.get(key)?.depends ?? []) if (own.has(moduleKey(d))) visit(moduleKey(d));
    visiting.delete(key);
    done.push(key);
  };
  for (const m of [...own.keys()].sort()) visit(m);
  return done.map((k) => own.get(k)!.name);
}
