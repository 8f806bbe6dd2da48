/**
 * Reads a dnf repository's metadata as dnf does: repodata/repomd.xml names primary.xml with its checksum, and
 * primary.xml names every package with its checksum and location. Each link of that chain is checked, so a
 * package read through here is the one the (signed) repomd.xml vouches for.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ArmkitError } from '../errors.js';
import { childNamed, childrenNamed, parseXml, type XmlElement } from './xml.js';

export interface RepomdEntry {
  type: string;
  href: string;
  checksum: { type: string; value: string };
  openChecksum?: { type: string; value: string };
}

export interface RepoPackage {
  name: string;
  arch: string;
  epoch: string;
  version: string;
  release: string;
  checksum: { type: string; value: string };
  /** Path of the package file relative to the repository directory. */
  href: string;
  size: number;
  sourcerpm: string;
  provides: string[];
}

const bad = (file: string, why: string) =>
  new ArmkitError('verification', `${file} is not repository metadata armkit can read: ${why}.`, {
    details: ['Build the repository again with "armkit repo".'],
  });

/** Node's name for a repodata checksum type ("sha" is createrepo's old name for sha1). */
function algorithm(type: string, file: string): string {
  const name = type === 'sha' ? 'sha1' : type;
  if (!['sha1', 'sha224', 'sha256', 'sha384', 'sha512'].includes(name)) throw bad(file, `checksum type "${type}" is not one armkit knows`);
  return name;
}

export function digest(data: Buffer, type: string, file: string): string {
  return createHash(algorithm(type, file)).update(data).digest('hex');
}

export function digestFile(path: string, type: string): Promise<string> {
  return new Promise((done, fail) => {
    const hash = createHash(algorithm(type, path));
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', fail)
      .on('end', () => done(hash.digest('hex')));
  });
}

function parse(text: string, file: string): XmlElement {
  try {
    return parseXml(text);
  } catch (error) {
    throw bad(file, (error as Error).message);
  }
}

/** A location inside the repository: an href that leaves it (`../`, an absolute path) is refused. */
export function inside(dir: string, href: string, file: string): string {
  const path = resolve(dir, href);
  const rel = relative(resolve(dir), path);
  if (href.includes('://') || rel === '' || rel.startsWith(`..${sep}`) || rel === '..') throw bad(file, `the location "${href}" is outside the repository`);
  return path;
}

export function readRepomd(dir: string): { revision?: string; entries: RepomdEntry[] } {
  const file = join(dir, 'repodata', 'repomd.xml');
  if (!existsSync(file)) throw new ArmkitError('usage', `${dir} is not a dnf repository: it has no repodata/repomd.xml.`);
  const root = parse(readFileSync(file, 'utf8'), file);
  if (root.name !== 'repomd') throw bad(file, `its root element is <${root.name}>, not <repomd>`);
  const sum = (e: XmlElement | undefined) => (e ? { type: e.attrs.type ?? '', value: e.text.trim() } : undefined);
  const entries = childrenNamed(root, 'data').map((d): RepomdEntry => {
    const checksum = sum(childNamed(d, 'checksum'));
    const href = childNamed(d, 'location')?.attrs.href;
    if (!checksum || !href || !d.attrs.type) throw bad(file, 'a <data> entry lacks its type, location or checksum');
    const open = sum(childNamed(d, 'open-checksum'));
    return { type: d.attrs.type, href, checksum, ...(open ? { openChecksum: open } : {}) };
  });
  const revision = childNamed(root, 'revision')?.text.trim();
  return { ...(revision ? { revision } : {}), entries };
}

/** The packages primary.xml lists, after checking primary.xml against repomd.xml. */
export function readPrimary(dir: string): RepoPackage[] {
  const repomd = join(dir, 'repodata', 'repomd.xml');
  const entry = readRepomd(dir).entries.find((e) => e.type === 'primary');
  if (!entry) throw bad(repomd, 'it names no primary metadata');
  const file = inside(dir, entry.href, repomd);
  if (!existsSync(file)) throw new ArmkitError('verification', `${repomd} names ${entry.href}, which is not there.`);
  const packed = readFileSync(file);
  if (digest(packed, entry.checksum.type, repomd) !== entry.checksum.value) {
    throw new ArmkitError('verification', `${file} does not have the ${entry.checksum.type} checksum ${repomd} gives it: the metadata was changed.`);
  }
  let xml: Buffer;
  if (file.endsWith('.gz')) xml = gunzipSync(packed);
  else if (file.endsWith('.xml')) xml = packed;
  else throw bad(file, 'armkit reads gzip-compressed or plain primary metadata only (createrepo_c --general-compress-type gz)');
  if (entry.openChecksum && digest(xml, entry.openChecksum.type, repomd) !== entry.openChecksum.value) {
    throw new ArmkitError('verification', `${file} unpacks to other data than ${repomd} says: the metadata was changed.`);
  }
  const root = parse(xml.toString('utf8'), file);
  if (root.name !== 'metadata') throw bad(file, `its root element is <${root.name}>, not <metadata>`);
  const packages = childrenNamed(root, 'package').map((p): RepoPackage => {
    const text = (name: string) => childNamed(p, name)?.text.trim() ?? '';
    const version = childNamed(p, 'version')?.attrs ?? {};
    const checksum = childNamed(p, 'checksum');
    const href = childNamed(p, 'location')?.attrs.href;
    const format = childNamed(p, 'format');
    if (!checksum || !href || !version.ver) throw bad(file, `the package ${text('name') || '(no name)'} lacks its version, checksum or location`);
    const providing = format && childNamed(format, 'provides');
    const provides = providing ? childrenNamed(providing, 'entry') : [];
    return {
      name: text('name'),
      arch: text('arch'),
      epoch: version.epoch ?? '0',
      version: version.ver,
      release: version.rel ?? '',
      checksum: { type: checksum.attrs.type ?? '', value: checksum.text.trim() },
      href,
      size: Number(childNamed(p, 'size')?.attrs.package ?? 0),
      sourcerpm: (format && childNamed(format, 'sourcerpm')?.text.trim()) || '',
      provides: provides.map((e) => e.attrs.name ?? ''),
    };
  });
  const count = Number(root.attrs.packages);
  if (Number.isFinite(count) && count !== packages.length) throw bad(file, `it says ${count} packages and lists ${packages.length}`);
  return packages;
}

/** Checks a package file against its entry: the checksum dnf will check before installing it. */
export async function verifyPackage(dir: string, pkg: RepoPackage): Promise<string> {
  const primary = join(dir, 'repodata', 'primary.xml');
  const path = inside(dir, pkg.href, primary);
  if (!existsSync(path)) throw new ArmkitError('verification', `${dir}: the metadata lists ${pkg.href}, which is not there.`);
  const actual = await digestFile(path, pkg.checksum.type);
  if (actual !== pkg.checksum.value) {
    throw new ArmkitError('verification', `${path} does not have the ${pkg.checksum.type} checksum the repository's metadata gives it.`, {
      details: [`metadata: ${pkg.checksum.value}`, `file:     ${actual}`],
    });
  }
  return path;
}
