/**
 * Downloads over https, and NODE_EXTRA_CA_CERTS as bin/armkit hands it over (src/extra-ca.ts): the launcher keeps
 * Node from parsing the file at start-up, armkit trusts its certificates when it downloads, and every program
 * armkit runs sees the variable as the user set it. The server is a loopback https server whose self-signed
 * certificate no one trusts unless told to.
 */

import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, plainEnv, ROOT, show, tempDir } from '../helpers/cli.js';
import { cacheWithHeaders, fixtureTarball, recipeServedFrom } from '../helpers/served.js';

const openssl = (() => {
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(join(dir, 'openssl'))) return join(dir, 'openssl');
  return undefined;
})();

/** Runs armkit as `entry` (the bin/armkit launcher, or bin/armkit.js with Node) in exactly `env`. */
async function run(entry: 'bin/armkit' | 'bin/armkit.js', args: string[], env: Record<string, string>): Promise<CliResult> {
  const [file, argv] = entry === 'bin/armkit' ? [join(ROOT, entry), args] : [process.execPath, [join(ROOT, entry), ...args]];
  const r = await execa(file, argv, { cwd: ROOT, env, extendEnv: false, reject: false, stdin: 'ignore' });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** The environment of a build whose rpmbuild is a stand-in that writes its environment to `dump` and fails. */
function withDumpingRpmbuild(dump: string): Record<string, string> {
  const { NODE_EXTRA_CA_CERTS: _ca, ARMKIT_DEFERRED_EXTRA_CA_CERTS: _d, ...env } = plainEnv();
  const bin = tempDir('tls-bin');
  writeFileSync(join(bin, 'rpmbuild'), `#!/bin/sh\nenv > '${dump}'\nexit 1\n`);
  chmodSync(join(bin, 'rpmbuild'), 0o755);
  return { ...env, CI: 'true', PATH: `${bin}:${env.PATH}` };
}

/** A self-signed certificate for 127.0.0.1 and its key. */
async function selfSigned(): Promise<{ cert: string; key: string }> {
  const dir = tempDir('tls-cert');
  const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
  const subject = ['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'];
  await execa(openssl!, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', ...subject, '-keyout', key, '-out', cert]);
  return { cert, key };
}

describe('downloads over https with NODE_EXTRA_CA_CERTS', () => {
  let server: Server;
  let url: string;
  let sha: string;
  let cert: string;
  let key: string;
  // Another certificate, which the server does not have.
  let other: string;

  beforeAll(async () => {
    if (!openssl) throw new Error('openssl must be installed: test/setup-host.sh installs it (the suite needs it)');
    ({ cert, key } = await selfSigned());
    other = (await selfSigned()).cert;
    const served = await fixtureTarball();
    sha = served.sha;
    const body = readFileSync(served.tarball);
    server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
      if (req.url === '/mini-0.1.tar.gz') res.writeHead(200, { 'content-length': String(body.length) }).end(body);
      else if (req.url === '/moved.tar.gz') res.writeHead(301, { location: '/mini-0.1.tar.gz' }).end();
      else res.writeHead(404).end();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server?.close());

  const build = (recipes: string) => [
    'build',
    'cryptodev',
    '--recipes',
    recipes,
    '--arch',
    'aarch64',
    '--kernel',
    'debian:latest',
    '--out',
    tempDir('tls-out'),
  ];
  const downloaded = (cache: string) => readdirSync(join(cache, 'sources', sha.slice(0, 12)));

  it('through bin/armkit: the certificate is trusted, the source downloaded, and rpmbuild sees NODE_EXTRA_CA_CERTS as set', async () => {
    const cache = cacheWithHeaders();
    const dump = join(tempDir('tls-dump'), 'env');
    const env = { ...withDumpingRpmbuild(dump), ARMKIT_CACHE_DIR: cache, NODE_EXTRA_CA_CERTS: cert };
    const r = await run('bin/armkit', build(recipeServedFrom(`${url}/moved.tar.gz`, sha)), env);
    // The stand-in rpmbuild fails the build after the download.
    expect(r.exitCode, show(r)).toBe(1);
    expect(downloaded(cache)).toEqual(['mini-0.1.tar.gz']);
    const seen = readFileSync(dump, 'utf8').split('\n');
    expect(seen).toContain(`NODE_EXTRA_CA_CERTS=${cert}`);
    expect(seen.filter((line) => line.startsWith('ARMKIT_DEFERRED_EXTRA_CA_CERTS='))).toEqual([]);
  });

  it('the hand-over alone (Node never loaded the file): armkit trusts its certificates when it downloads', async () => {
    const cache = cacheWithHeaders();
    const dump = join(tempDir('tls-dump'), 'env');
    const env = { ...withDumpingRpmbuild(dump), ARMKIT_CACHE_DIR: cache, ARMKIT_DEFERRED_EXTRA_CA_CERTS: cert };
    const r = await run('bin/armkit.js', build(recipeServedFrom(`${url}/mini-0.1.tar.gz`, sha)), env);
    expect(r.exitCode, show(r)).toBe(1);
    expect(downloaded(cache)).toEqual(['mini-0.1.tar.gz']);
    expect(readFileSync(dump, 'utf8').split('\n')).toContain(`NODE_EXTRA_CA_CERTS=${cert}`);
  });

  it("the hand-over adds to Node's default store, whichever it is: OpenSSL's (--use-openssl-ca, SSL_CERT_FILE) stays trusted", async () => {
    const cache = cacheWithHeaders();
    const env = {
      ...withDumpingRpmbuild(join(tempDir('tls-dump'), 'env')),
      ARMKIT_CACHE_DIR: cache,
      // The server's certificate in OpenSSL's store, an unrelated one handed over.
      SSL_CERT_FILE: cert,
      NODE_OPTIONS: '--use-openssl-ca',
      ARMKIT_DEFERRED_EXTRA_CA_CERTS: other,
    };
    const r = await run('bin/armkit.js', build(recipeServedFrom(`${url}/mini-0.1.tar.gz`, sha)), env);
    expect(r.exitCode, show(r)).toBe(1);
    expect(r.stderr).not.toContain('Could not download');
    expect(downloaded(cache)).toEqual(['mini-0.1.tar.gz']);
  });

  it('the hand-over of a certificate the server does not have trusts nothing more: refused', async () => {
    const cache = cacheWithHeaders();
    const env = { ...withDumpingRpmbuild(join(tempDir('tls-dump'), 'env')), ARMKIT_CACHE_DIR: cache, ARMKIT_DEFERRED_EXTRA_CA_CERTS: other };
    const r = await run('bin/armkit.js', build(recipeServedFrom(`${url}/mini-0.1.tar.gz`, sha)), env);
    expect(r.exitCode, show(r)).toBe(1);
    expect(r.stderr).toContain('self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)');
  });

  it('without the certificate: exit 1, the TLS reason and what to do offline, nothing kept', async () => {
    const cache = cacheWithHeaders();
    const env = { ...withDumpingRpmbuild(join(tempDir('tls-dump'), 'env')), ARMKIT_CACHE_DIR: cache };
    const r = await run('bin/armkit', build(recipeServedFrom(`${url}/mini-0.1.tar.gz`, sha)), env);
    expect(r.exitCode, show(r)).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`Could not download ${url}/mini-0\\.1\\.tar\\.gz: self-signed certificate \\(DEPTH_ZERO_SELF_SIGNED_CERT\\)\\.`));
    expect(r.stderr).toContain('download it elsewhere and pass it with --source FILE');
    expect(existsSync(join(cache, 'sources', sha.slice(0, 12))) ? downloaded(cache) : []).toEqual([]);
  });

  it('a NODE_EXTRA_CA_CERTS file that cannot be read is named in the failure, as Node names it in its warning', async () => {
    const cache = cacheWithHeaders();
    const missing = join(tempDir('tls-missing'), 'no-such.pem');
    const env = { ...withDumpingRpmbuild(join(tempDir('tls-dump'), 'env')), ARMKIT_CACHE_DIR: cache, NODE_EXTRA_CA_CERTS: missing };
    const r = await run('bin/armkit', build(recipeServedFrom(`${url}/mini-0.1.tar.gz`, sha)), env);
    expect(r.exitCode, show(r)).toBe(1);
    expect(r.stderr).toContain(
      `self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT); NODE_EXTRA_CA_CERTS names ${missing}, which could not be read (ENOENT).`,
    );
  });
});

describe('bin/armkit, the launcher', () => {
  // A stand-in node on PATH shows what the launcher starts and with which environment.
  function launch(env: Record<string, string>, via?: string): { args: string[]; env: string[] } {
    const bin = tempDir('launch-bin');
    const out = join(bin, 'seen');
    writeFileSync(join(bin, 'node'), `#!/bin/sh\nprintf '%s\\n' "$@" > '${out}.args'\nenv > '${out}.env'\n`);
    chmodSync(join(bin, 'node'), 0o755);
    let entry = join(ROOT, 'bin/armkit');
    if (via) {
      // As npm installs it: node_modules/armkit, and a relative link in node_modules/.bin.
      mkdirSync(join(via, 'node_modules/.bin'), { recursive: true });
      symlinkSync(ROOT, join(via, 'node_modules/armkit'));
      symlinkSync('../armkit/bin/armkit', join(via, 'node_modules/.bin/armkit'));
      entry = join(via, 'node_modules/.bin/armkit');
    }
    const r = execaSync(entry, ['build', 'it', 'with spaces'], { ...env, PATH: `${bin}:/usr/bin:/bin` });
    expect(r, 'the launcher exits as its node does').toBe(0);
    return { args: readFileSync(`${out}.args`, 'utf8').trimEnd().split('\n'), env: readFileSync(`${out}.env`, 'utf8').split('\n') };
  }
  const execaSync = (file: string, args: string[], env: Record<string, string>) => spawnSync(file, args, { env }).status;

  it('hands NODE_EXTRA_CA_CERTS over and starts bin/armkit.js with the arguments as given, also through a link (npm bin)', () => {
    const seen = launch({ NODE_EXTRA_CA_CERTS: '/some/ca bundle.pem' }, tempDir('launch-nm'));
    expect([realpathSync(seen.args[0]!), ...seen.args.slice(1)]).toEqual([realpathSync(join(ROOT, 'bin/armkit.js')), 'build', 'it', 'with spaces']);
    expect(seen.env).toContain('ARMKIT_DEFERRED_EXTRA_CA_CERTS=/some/ca bundle.pem');
    expect(seen.env.filter((line) => line.startsWith('NODE_EXTRA_CA_CERTS='))).toEqual([]);
  });

  it('leaves the environment alone without NODE_EXTRA_CA_CERTS, or with it empty', () => {
    for (const env of [{}, { NODE_EXTRA_CA_CERTS: '' }]) {
      const seen = launch(env);
      expect(seen.env.filter((line) => line.startsWith('ARMKIT_DEFERRED_EXTRA_CA_CERTS='))).toEqual([]);
      expect(seen.env.filter((line) => line.startsWith('NODE_EXTRA_CA_CERTS='))).toEqual(Object.keys(env).length ? ['NODE_EXTRA_CA_CERTS='] : []);
    }
  });
});
