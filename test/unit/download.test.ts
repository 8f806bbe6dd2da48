/**
 * src/artifacts/fetch.ts against a loopback server: redirects, a server that stalls before or during the body (with
 * short limits, so the test takes a second, not fetch's five minutes), and nothing kept when a download fails.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchVerified } from '../../src/artifacts/fetch.js';
import { tempDir } from './helpers.js';

const body = Buffer.from('a file armkit downloads\n'.repeat(1000));
const sha = createHash('sha256').update(body).digest('hex');
const limits = { connectMs: 5_000, idleMs: 300 };

let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/file') res.writeHead(200, { 'content-length': String(body.length) }).end(body);
    else if (req.url === '/a/moved') res.writeHead(302, { location: '../file' }).end();
    else if (req.url === '/stall-body') {
      res.writeHead(200, { 'content-length': String(body.length) });
      res.write(body.subarray(0, 100));
    } else if (req.url === '/stall-headers') {
      // Says nothing at all.
    } else res.writeHead(404).end();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('fetchVerified', () => {
  it('follows a relative redirect, verifies the file, and answers from the cache the second time', async () => {
    const dest = join(tempDir(), 'sources', 'file');
    expect(await fetchVerified(`${base}/a/moved`, dest, sha, undefined, limits)).toBe(false);
    expect(readFileSync(dest).equals(body)).toBe(true);
    expect(await fetchVerified(`${base}/a/moved`, dest, sha, undefined, limits)).toBe(true);
  });

  it.each([
    ['during the body', '/stall-body', /^The download of \S+\/stall-body broke off: no data for 0\.3 s\. Run the build again to retry\.$/],
    ['before its headers', '/stall-headers', /^Could not download \S+\/stall-headers: no data for 0\.3 s\.$/],
  ])('a server that stops sending %s: given up on after the idle limit, with that reason, nothing kept', async (_when, path, message) => {
    const dir = tempDir();
    const error = await fetchVerified(`${base}${path}`, join(dir, 'file'), sha, undefined, limits).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(message);
    expect(existsSync(join(dir, 'file'))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a scheme other than http and https: refused with its name', async () => {
    const error = await fetchVerified('ftp://127.0.0.1/file', join(tempDir(), 'file'), sha).catch((e: Error) => e);
    expect((error as Error).message).toBe('Could not download ftp://127.0.0.1/file: ftp: is neither http: nor https:.');
  });
});
