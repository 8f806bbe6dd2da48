/** armkit cache ls|prune: what the build cache holds, and keeping it within its size limit. */
import { join, resolve } from 'node:path';
import { type CachedBuild, listCachedBuilds, maxCacheBytes, pruneBuilds } from '../artifacts/build-cache.js';
import { usageError } from '../errors.js';
import { assertDirCreatable } from '../fsutil.js';
import { defaultCacheDir } from '../paths.js';
import { info, printJson } from './output.js';

export interface CacheOptions {
  cacheDir?: string;
  json?: boolean;
  dryRun?: boolean;
  maxSize?: string;
  all?: boolean;
}

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** "500M", "2G", "1048576" → bytes. */
export function parseSize(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(value.trim());
  if (!m) throw usageError(`--max-size ${value}: expected a size such as 500M or 2G.`);
  return Math.round(Number(m[1]) * UNITS[m[2]!.toUpperCase()]!);
}

export function formatSize(bytes: number): string {
  for (const [unit, n] of [
    ['G', 1024 ** 3],
    ['M', 1024 ** 2],
    ['K', 1024],
  ] as const)
    if (bytes >= n) return `${(bytes / n).toFixed(1)}${unit}`;
  return `${bytes}B`;
}

/** The cache directory; a file in its place is an error, not an empty cache (nothing is made: ls and prune only read). */
function cacheDirOf(options: CacheOptions): string {
  const dir = options.cacheDir ? resolve(options.cacheDir) : defaultCacheDir();
  assertDirCreatable(join(dir, 'builds'), { what: 'the cache directory', advice: 'set --cache-dir or ARMKIT_CACHE_DIR to the directory armkit builds with' });
  return dir;
}

function describe(b: CachedBuild) {
  const m = b.manifest;
  return {
    key: b.key,
    recipe: m?.recipe,
    version: m?.version,
    arch: m?.arch,
    kernel: m?.kernel?.release,
    bytes: b.bytes,
    usedAt: b.usedAt.toISOString(),
    files: m?.artifacts.map((a) => a.file) ?? [],
  };
}

export async function cacheLsCommand(options: CacheOptions): Promise<void> {
  const builds = listCachedBuilds(cacheDirOf(options));
  const total = builds.reduce((n, b) => n + b.bytes, 0);
  if (options.json) return printJson({ ok: true, builds: builds.map(describe), bytes: total, maxBytes: maxCacheBytes() });
  info(`armkit cache: ${builds.length} build(s), ${formatSize(total)} of ${formatSize(maxCacheBytes())} in ${cacheDirOf(options)}/builds`);
  for (const b of builds.map(describe)) {
    info(
      `  ${b.key.slice(0, 12)}  ${b.usedAt.slice(0, 19).replace('T', ' ')}  ${formatSize(b.bytes).padStart(7)}  ${b.recipe ?? '?'} ${b.version ?? '?'} ${b.arch ?? '?'} ${b.kernel ?? ''}`,
    );
  }
}

export async function cachePruneCommand(options: CacheOptions): Promise<void> {
  const limit = options.all ? 0 : options.maxSize ? parseSize(options.maxSize) : maxCacheBytes();
  const dir = cacheDirOf(options);
  let removed: CachedBuild[];
  if (options.dryRun) {
    // What pruning would remove, oldest use first, without removing it.
    const builds = listCachedBuilds(dir);
    let total = builds.reduce((n, b) => n + b.bytes, 0);
    removed = [];
    for (const b of [...builds].reverse()) {
      if (total <= limit) break;
      total -= b.bytes;
      removed.push(b);
    }
  } else {
    removed = pruneBuilds(dir, limit);
  }
  if (options.json) return printJson({ ok: true, dryRun: Boolean(options.dryRun), removed: removed.map(describe), limitBytes: limit });
  info(
    `armkit cache: ${options.dryRun ? 'would remove' : 'removed'} ${removed.length} build(s), ${formatSize(removed.reduce((n, b) => n + b.bytes, 0))}; the limit is ${formatSize(limit)}`,
  );
  for (const b of removed.map(describe)) info(`  ${b.key.slice(0, 12)}  ${b.recipe ?? '?'} ${b.version ?? '?'} ${b.arch ?? '?'} ${b.kernel ?? ''}`);
}
