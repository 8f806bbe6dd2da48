/**
 * Downloads into the cache, verified by sha256 before anything uses the file. A file already there with the
 * right checksum is not downloaded again; a wrong one is never kept where the cache would trust it.
 */
import { createWriteStream, existsSync, renameSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { loadBuiltin } from '../builtin.js';
import { ArmkitError, mismatch } from '../errors.js';
import { downloadCa } from '../extra-ca.js';
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

/** An error's reason with its code: "getaddrinfo ENOTFOUND host", "self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)". */
function reason(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return `${e.message}${e.code && !e.message.includes(e.code) ? ` (${e.code})` : ''}`;
}

// As fetch() and curl -L follow them.
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 20;
/** How long a host may take to accept the connection, and a server to send nothing (fetch's own limits). */
export interface DownloadLimits {
  connectMs: number;
  idleMs: number;
}
const LIMITS: DownloadLimits = { connectMs: 10_000, idleMs: 300_000 };

/** Why a download failed before its body began: no answer, or an answer that is no file. */
class NoFile extends Error {}

/**
 * GET with node:http(s), redirects followed. Not fetch(): in Node 20 it cannot be given the certificates to
 * trust (src/extra-ca.ts). Its modules load only when armkit downloads (src/builtin.ts). No Accept-Encoding is
 * sent, so the archive arrives as its bytes, never decoded on the way.
 */
async function get(url: URL, signal: AbortSignal | undefined, limits: DownloadLimits, stalled: { why?: string }, redirects = 0): Promise<IncomingMessage> {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new NoFile(`${url.protocol} is neither http: nor https:`);
  const { request } = loadBuiltin<typeof import('node:https')>(url.protocol === 'https:' ? 'node:https' : 'node:http');
  const ca = url.protocol === 'https:' ? downloadCa() : {};
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(url, { signal, headers: { 'user-agent': 'armkit' }, ...(ca.secureContext ? { secureContext: ca.secureContext } : {}) }, resolve);
    // The socket may take limits.connectMs to connect, then be idle for limits.idleMs (a kept-alive one is
    // connected already); either way the request ends with the reason.
    req.on('socket', (socket) => {
      const onTimeout = () => {
        stalled.why = socket.connecting ? `${url.host} did not answer within ${limits.connectMs / 1000} s` : `no data for ${limits.idleMs / 1000} s`;
        req.destroy(new Error(stalled.why));
      };
      socket.setTimeout(socket.connecting ? limits.connectMs : limits.idleMs);
      if (socket.connecting) socket.once('connect', () => socket.setTimeout(limits.idleMs));
      socket.on('timeout', onTimeout);
      req.once('close', () => {
        socket.off('timeout', onTimeout);
        socket.setTimeout(0);
      });
    });
    req.on('error', (error) => reject(ca.unreadable ? new Error(`${reason(error)}; ${ca.unreadable}`) : error));
    req.end();
  });
  const status = response.statusCode ?? 0;
  if (REDIRECTS.has(status) && response.headers.location) {
    response.resume();
    if (redirects >= MAX_REDIRECTS) throw new NoFile('redirect count exceeded');
    return get(new URL(response.headers.location, url), signal, limits, stalled, redirects + 1);
  }
  if (status < 200 || status > 299) {
    response.resume();
    throw new NoFile(`HTTP ${status} ${response.statusMessage ?? ''}`.trimEnd());
  }
  return response;
}

/**
 * Downloads into `dest` through a .part file of this process's own (two armkit processes downloading the same file
 * never share one), verified before it is renamed into place. Returns true when the file was already cached.
 */
export async function fetchVerified(url: string, dest: string, sha256: string, signal?: AbortSignal, limits = LIMITS): Promise<boolean> {
  if (existsSync(dest) && (await sha256File(dest)) === sha256) return true;
  ensureDir(dirname(dest), { what: 'the download cache', advice: 'set --cache-dir or ARMKIT_CACHE_DIR to a directory on a disk' });
  const partial = `${dest}.part-${process.pid}`;
  const forget = scratch(partial);
  const offline = `Without network access here, download it elsewhere and pass it with --source FILE: a file with the recipe's sha256 counts as the verified source (or put it at ${dest}).`;
  try {
    let response: IncomingMessage;
    const stalled: { why?: string } = {};
    try {
      response = await get(new URL(url), signal, limits, stalled);
    } catch (error) {
      if (signal?.aborted) throw new ArmkitError('interrupted', `Interrupted while downloading ${url}.`);
      throw new ArmkitError('step-failed', `Could not download ${url}: ${error instanceof NoFile ? error.message : reason(error)}.`, { details: [offline] });
    }
    try {
      await pipeline(response, createWriteStream(partial));
    } catch (error) {
      if (signal?.aborted) throw new ArmkitError('interrupted', `Interrupted while downloading ${url}.`);
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC') throw new ArmkitError('prerequisite', `The disk is full: ${partial} could not be written.`, { cause: error });
      throw new ArmkitError(
        'step-failed',
        stalled.why
          ? `The download of ${url} broke off: ${stalled.why}. Run the build again to retry.`
          : `The download of ${url} broke off (${reason(error)}): the server closed the connection early. Run the build again to retry.`,
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
