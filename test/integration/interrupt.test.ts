/**
 * Interrupting armkit alone (a signal to its process, not its group, as `kill PID` or a CI runner's timeout
 * sends) stops everything it started: each command runs in a process group of its own, which armkit ends on
 * SIGINT, SIGTERM and SIGHUP, and then exits 130, 143 or 129. Every process armkit starts inherits a marker in its
 * environment; afterwards no process on the machine may carry it.
 */

import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { armkit, FIXTURE_MODULE, FIXTURE_VERSION, ROOT, show, TEST_CACHE, tempDir } from '../helpers/cli.js';

/** PIDs of the processes whose environment holds the marker (readable as root, and for our own processes). */
function marked(mark: string): Array<{ pid: number; cmd: string }> {
  const found: Array<{ pid: number; cmd: string }> = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`ARMKIT_TEST_MARK=${mark}`)) {
        found.push({ pid: Number(pid), cmd: readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim() });
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

async function until(what: string, test: () => boolean, seconds = 120): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function start(args: string[], mark: string, cacheDir = TEST_CACHE): ResultPromise {
  return execa(process.execPath, [join(ROOT, 'bin/armkit.js'), ...args], {
    env: { ARMKIT_CACHE_DIR: cacheDir, CI: 'true', ARMKIT_TEST_MARK: mark },
    reject: false,
    stdin: 'ignore',
  });
}

/** Sends `signal` to armkit once `running` shows up among its descendants; checks the exit code and that none is left. */
async function interrupt(child: ResultPromise, mark: string, running: RegExp, signal: NodeJS.Signals, code: number) {
  await until(`a process matching ${running}`, () => marked(mark).some((p) => running.test(p.cmd)));
  const before = marked(mark);
  expect(before.length, JSON.stringify(before)).toBeGreaterThan(1);
  const sent = Date.now();
  process.kill(child.pid!, signal);
  const r = await child;
  const took = Date.now() - sent;
  expect(r.exitCode, `${r.stderr}`).toBe(code);
  // Bounded: SIGTERM, a grace period of 3 s, then SIGKILL.
  expect(took).toBeLessThan(8000);
  expect(marked(mark)).toEqual([]);
  return { stderr: String(r.stderr), before };
}

/** A module source whose build never ends on its own: make → sh → sleep. */
function slowSource(): string {
  const dir = tempDir('slow-src');
  writeFileSync(join(dir, 'Makefile'), "VERSION = 0.1\nbuild:\n\tsh -c 'sleep 300 & wait'\n");
  writeFileSync(join(dir, 'COPYING'), 'test\n');
  return dir;
}

describe('interrupting armkit stops everything it started', () => {
  it('SIGTERM during make (armkit install --destdir): exit 143, make, sh and sleep are gone', async () => {
    const mark = randomUUID();
    const child = start(['install', 'cryptodev', '--kernel', 'debian:latest-amd64', '--source', slowSource(), '--destdir', tempDir('dest')], mark);
    const { before } = await interrupt(child, mark, /^sleep 300/, 'SIGTERM', 143);
    expect(before.map((p) => p.cmd)).toEqual(expect.arrayContaining([expect.stringMatching(/^make /), expect.stringMatching(/^sh -c sleep 300/)]));
  });

  it("SIGINT during rpmbuild: exit 130, rpmbuild's shell, make and sleep are gone, out/ untouched", async () => {
    const mark = randomUUID();
    const out = tempDir('int-out');
    const child = start(['build', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:latest', '--source', slowSource(), '--out', out], mark);
    const { stderr, before } = await interrupt(child, mark, /^sleep 300/, 'SIGINT', 130);
    expect(before.map((p) => p.cmd)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^rpmbuild /), expect.stringMatching(/^(\/usr\/bin\/)?make /), expect.stringMatching(/^\/bin\/sh -e /)]),
    );
    expect(stderr).toContain('armkit: interrupted; stopping the running command and what it started');
    expect(readdirSync(out)).toEqual([]);
  });

  it('SIGHUP while QEMU runs the guest: exit 129, QEMU is gone', async () => {
    const out = tempDir('hup-out');
    const built = await armkit([
      'build',
      'cryptodev',
      '--arch',
      'aarch64',
      '--kernel',
      'debian:latest',
      '--source',
      FIXTURE_MODULE,
      '--version',
      FIXTURE_VERSION,
      '--out',
      out,
    ]);
    expect(built.exitCode, show(built)).toBe(0);
    const mark = randomUUID();
    const child = start(['test', 'cryptodev', '--arch', 'aarch64', '--out', out], mark);
    const { stderr } = await interrupt(child, mark, /^qemu-system-aarch64 /, 'SIGHUP', 129);
    expect(stderr).toContain('stopped by SIGHUP');
  });

  describe('during a download', () => {
    let server: Server;
    afterAll(() => server?.close());

    it('SIGTERM: exit 143 at once, no .part file left in the cache', async () => {
      // A loopback server that sends a few bytes and then nothing: the download never ends by itself.
      server = createServer((_req, res) => {
        res.writeHead(200, { 'content-length': '1000000' });
        res.write(Buffer.alloc(1000));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as { port: number }).port;
      const recipes = tempDir('dl-recipes');
      const recipe = readFileSync(join(ROOT, 'recipes/cryptodev.yaml'), 'utf8')
        .replace(/url: https:\/\/github.com\/\S+1\.14\.tar\.gz/, `url: http://127.0.0.1:${port}/cryptodev-linux-1.14.tar.gz`)
        .replace(/sha256: 67223d5b\w+/, `sha256: ${'a'.repeat(64)}`);
      writeFileSync(join(recipes, 'cryptodev.yaml'), recipe);
      const cache = tempDir('dl-cache');
      mkdirSync(cache, { recursive: true });
      const mark = randomUUID();
      const out = tempDir('dl-out');
      // Headers from the suite's cache would need apt; an installed release needs nothing.
      const release = readdirSync('/usr/src')
        .filter((d) => /^linux-headers-\d.*-amd64$/.test(d))
        .sort()
        .pop()!
        .replace(/^linux-headers-/, '');
      const child = start(['build', 'cryptodev', '--recipes', recipes, '--kernel', release, '--version', '1.14', '--out', out], mark, cache);
      const part = join(cache, 'sources', 'aaaaaaaaaaaa');
      await until('the .part file', () => existsSync(part) && readdirSync(part).some((f) => f.includes('.part-')));
      const sent = Date.now();
      process.kill(child.pid!, 'SIGTERM');
      const r = await child;
      expect(r.exitCode, String(r.stderr)).toBe(143);
      expect(Date.now() - sent).toBeLessThan(3000);
      expect(readdirSync(part)).toEqual([]);
      expect(marked(mark)).toEqual([]);
      expect(readdirSync(out)).toEqual([]);
    });
  });
});
