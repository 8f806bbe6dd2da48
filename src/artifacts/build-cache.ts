/**
 * The build cache: a finished build's files kept under the hash of everything its result depends on (the key).
 * A later build whose key is the same is published from here without running make or rpmbuild. The cache has a
 * size limit; the least recently used builds go first.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { type Manifest, readManifest } from '../manifest.js';
import { sha256File } from './hash.js';

/** Default size limit of the build cache, in bytes (ARMKIT_BUILD_CACHE_MAX overrides it). */
export const DEFAULT_MAX_BYTES = 2 * 1024 ** 3;

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** The key of a set of inputs: sha256 of their canonical JSON (key order does not matter). */
export function buildKey(inputs: Record<string, unknown>): string {
  return createHash('sha256')
    .update(JSON.stringify(canonical(inputs)))
    .digest('hex');
}

/** sha256 over a directory's files (relative path, mode and content, in sorted order; .git left out). */
export function hashTree(dir: string): string {
  const hash = createHash('sha256');
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      if (name === '.git') continue;
      const path = join(rel, name);
      const st = lstatSync(join(dir, path));
      if (st.isDirectory()) walk(path);
      else {
        hash.update(`${path}\0${st.mode & 0o777}\0`);
        hash.update(st.isSymbolicLink() ? `-> ${readFileSync(join(dir, path), 'utf8')}` : readFileSync(join(dir, path)));
        hash.update('\0');
      }
    }
  };
  walk('');
  return hash.digest('hex');
}

export function buildsDir(cacheDir: string): string {
  return join(cacheDir, 'builds');
}

/**
 * The cached build for a key, when it is whole: its manifest names the key and every file has its recorded
 * checksum. A damaged entry is removed (and rebuilt) rather than trusted.
 */
export async function findCachedBuild(
  cacheDir: string,
  key: string,
  options: { readOnly?: boolean } = {},
): Promise<{ dir: string; manifest: Manifest } | undefined> {
  const dir = join(buildsDir(cacheDir), key);
  if (!existsSync(join(dir, 'manifest.json'))) return undefined;
  try {
    const manifest = readManifest(dir);
    if (manifest.inputs?.key !== key) throw new Error('another key');
    for (const a of manifest.artifacts) if ((await sha256File(join(dir, a.file))) !== a.sha256) throw new Error(`${a.file} changed`);
    if (!options.readOnly) {
      const now = new Date();
      utimesSync(dir, now, now); // most recently used
    }
    return { dir, manifest };
  } catch {
    if (!options.readOnly) rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}

function sizeOf(path: string): number {
  const st = lstatSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((n, f) => n + sizeOf(join(path, f)), 0);
}

export interface CachedBuild {
  key: string;
  dir: string;
  bytes: number;
  usedAt: Date;
  manifest?: Manifest;
}

export function listCachedBuilds(cacheDir: string): CachedBuild[] {
  const root = buildsDir(cacheDir);
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((k) => /^[0-9a-f]{64}$/.test(k))
    .map((key) => {
      const dir = join(root, key);
      let manifest: Manifest | undefined;
      try {
        manifest = readManifest(dir);
      } catch {
        manifest = undefined;
      }
      return { key, dir, bytes: sizeOf(dir), usedAt: statSync(dir).mtime, ...(manifest ? { manifest } : {}) };
    })
    .sort((a, b) => b.usedAt.getTime() - a.usedAt.getTime());
}

/** Removes the least recently used builds until the cache fits `maxBytes`; returns what was removed. */
export function pruneBuilds(cacheDir: string, maxBytes: number): CachedBuild[] {
  const builds = listCachedBuilds(cacheDir);
  let total = builds.reduce((n, b) => n + b.bytes, 0);
  const removed: CachedBuild[] = [];
  for (const b of [...builds].reverse()) {
    if (total <= maxBytes) break;
    rmSync(b.dir, { recursive: true, force: true });
    total -= b.bytes;
    removed.push(b);
  }
  // Partial copies an interrupted build left (an hour old: a running build may be writing a fresh one).
  for (const f of existsSync(buildsDir(cacheDir)) ? readdirSync(buildsDir(cacheDir)) : []) {
    const p = join(buildsDir(cacheDir), f);
    if (f.endsWith('.partial') && Date.now() - statSync(p).mtimeMs > 3600_000) rmSync(p, { recursive: true, force: true });
  }
  return removed;
}

export function maxCacheBytes(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.ARMKIT_BUILD_CACHE_MAX);
  return Number.isFinite(v) && v > 0 ? v : DEFAULT_MAX_BYTES;
}
