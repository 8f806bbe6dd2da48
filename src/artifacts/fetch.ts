/**
 * Downloads into the cache, verified by sha256 before anything uses the file. A file already there with the
 * right checksum is not downloaded again; a wrong one is never kept where the cache would trust it.
 */
import { createWriteStream, existsSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ArmkitError, mismatch } from '../errors.js';
import { ensureDir } from '../fsutil.js';
import { scratch } from '../scratch.js';
import { sha256File } from './hash.js';

export async function verifyFile(path: string, sha256: string): Promise<void> {
  const actual = await sha256File(path);
  if (actual !== sha256) {
    throw mismatch(`Checksum mismatch for ${path}: expected sha256 ${sha256}, got ${actual}.`, [
      "The download is not the file the recipe pins. Check the recipe's url and sha256; nothing was built.",
    ]);
  }
}

/** The reason under Node's "fetch failed": "redirect count exceeded", "getaddrinfo ENOTFOUND host", ... */
function reason(error: unknown): string {
  const e = error as Error & { cause?: Error & { code?: string } };
  const cause = e.cause ? `${e.cause.message}${e.cause.code && !e.cause.message.includes(e.cause.code) ? ` (${e.cause.code})` : ''}` : undefined;
  return cause ?? e.message;
}

/**
 * Downloads into `dest` through a .part file of this process's own (two armkit processes downloading the same file
 * never share one), verified before it is renamed into place. Returns true when the file was already cached.
 */
export async function fetchVerified(url: string, dest: string, sha256: string, signal?: AbortSignal): Promise<boolean> {
  if (existsSync(dest) && (await sha256File(dest)) === sha256) return true;
  ensureDir(dirname(dest), { what: 'the download cache', advice: 'set --cache-dir or ARMKIT_CACHE_DIR to a directory on a disk' });
  const partial = `${dest}.part-${process.pid}`;
  const forget = scratch(partial);
  const offline = `Without network access here, download it elsewhere and pass it with --source FILE: a file with the recipe's sha256 counts as the verified source (or put it at ${dest}).`;
  try {
    let response: Response;
    try {
      response = await fetch(url, { signal, redirect: 'follow' });
    } catch (error) {
      if (signal?.aborted) throw new ArmkitError('interrupted', `Interrupted while downloading ${url}.`);
      throw new ArmkitError('step-failed', `Could not download ${url}: ${reason(error)}.`, { details: [offline] });
    }
    if (!response.ok || !response.body) {
      throw new ArmkitError('step-failed', `Could not download ${url}: HTTP ${response.status} ${response.statusText}.`, { details: [offline] });
    }
    try {
      await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), createWriteStream(partial));
    } catch (error) {
      if (signal?.aborted) throw new ArmkitError('interrupted', `Interrupted while downloading ${url}.`);
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC') throw new ArmkitError('prerequisite', `The disk is full: ${partial} could not be written.`, { cause: error });
      throw new ArmkitError(
        'step-failed',
        `The download of ${url} broke off (${reason(error)}): the server closed the connection early. Run the build again to retry.`,
        { details: [offline] },
      );
    }
    await verifyFile(partial, sha256);
    renameSync(partial, dest);
    return false;
  } finally {
    rmSync(partial, { force: true });
    forget();
  }
}
