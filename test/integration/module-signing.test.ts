/**
 * Module signing: `build cryptodev --module-key KEY --module-cert CERT` signs the module with the kernel's sign-file
 * inside rpmbuild and refuses to publish a module whose signature is missing or was not made by that key. The keys
 * are throwaway ones made here with `openssl req`; every signature is checked with the real tools (modinfo, openssl
 * cms), independently of armkit's own check. The Debian header tree's sign-file is the kernel's own program; the
 * sign-file.c programs below are ours (a tree that ships sign-file as source gets it built for this host).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { armkit, FIXTURE_MODULE, FIXTURE_VERSION, show, tempDir } from '../helpers/cli.js';

const fixtureArgs = ['--source', FIXTURE_MODULE, '--version', FIXTURE_VERSION];
const MAGIC = Buffer.from('~Module signature appended~\n');

interface Key {
  key: string;
  cert: string;
  certPem: string;
  /** As modinfo prints sig_key: the certificate's serial number in hex bytes. */
  serial: string;
}

function makeKey(name: string, cn: string): Key {
  const dir = tempDir(`modkey-${name}`);
  const key = join(dir, 'signing_key.pem');
  const cert = join(dir, 'signing_key.x509');
  execFileSync(
    'openssl',
    ['req', '-new', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650', '-subj', `/CN=${cn}/`, '-keyout', key, '-outform', 'DER', '-out', cert],
    {
      stdio: 'ignore',
    },
  );
  const certPem = join(dir, 'cert.pem');
  execFileSync('openssl', ['x509', '-inform', 'DER', '-in', cert, '-out', certPem]);
  const hex = execFileSync('openssl', ['x509', '-noout', '-serial', '-in', certPem], { encoding: 'utf8' })
    .trim()
    .replace(/^serial=/, '');
  const even = hex.length % 2 ? `0${hex}` : hex;
  return { key, cert, certPem, serial: even.match(/../g)!.join(':') };
}

/** The module out of a published kmod RPM. */
function moduleOf(out: string): string {
  const rpm = readdirSync(out).find((f) => f.startsWith('kmod-'))!;
  const dir = tempDir('modsig-payload');
  execFileSync('sh', ['-c', `rpm2cpio "$1" | (cd "$2" && cpio -idm --quiet)`, 'sh', join(out, rpm), dir]);
  return execFileSync('find', [dir, '-name', '*.ko'], { encoding: 'utf8' }).trim();
}

/** Our own reading of the kernel's format (module, PKCS#7, 12-byte info ending in its length, magic): openssl verifies. */
function opensslVerifies(module: string, certPem: string): boolean {
  const bytes = readFileSync(module);
  if (!bytes.subarray(-MAGIC.length).equals(MAGIC)) return false;
  const info = bytes.length - MAGIC.length - 12;
  const length = bytes.readUInt32BE(info + 8);
  const dir = tempDir('modsig-verify');
  writeFileSync(join(dir, 'sig'), bytes.subarray(info - length, info));
  writeFileSync(join(dir, 'content'), bytes.subarray(0, info - length));
  try {
    execFileSync(
      'openssl',
      [
        'cms',
        '-verify',
        '-binary',
        '-inform',
        'DER',
        '-in',
        join(dir, 'sig'),
        '-content',
        join(dir, 'content'),
        '-certfile',
        certPem,
        '-nointern',
        '-noverify',
        '-out',
        '/dev/null',
      ],
      {
        stdio: 'ignore',
      },
    );
    return true;
  } catch {
    return false;
  }
}

const modinfo = (field: string, module: string) => execFileSync('modinfo', ['-F', field, module], { encoding: 'utf8' }).trim();

/**
 * A copy of a header tree whose scripts/ has no sign-file program, only our sign-file.c: the tree kind armkit
 * builds sign-file for. Everything else in scripts/ is the original's (kbuild runs modpost and fixdep from there).
 */
function treeWithSignFileSource(tree: string, source: string): string {
  const copy = join(tempDir('signfile-tree'), 'linux-headers');
  execFileSync('cp', ['-a', tree, copy]);
  const scripts = join(tree, 'scripts');
  const real = execFileSync('readlink', ['-f', scripts], { encoding: 'utf8' }).trim();
  rmSync(join(copy, 'scripts'));
  mkdirSync(join(copy, 'scripts'));
  for (const entry of readdirSync(real)) if (entry !== 'sign-file') symlinkSync(join(real, entry), join(copy, 'scripts', entry));
  const tools = join(copy, 'tools');
  if (existsSync(tools)) {
    const target = readlinkSync(tools);
    rmSync(tools);
    symlinkSync(target.startsWith('/') ? target : join(tree, target), tools);
  }
  writeFileSync(join(copy, 'scripts', 'sign-file.c'), source);
  return copy;
}

/** A sign-file with the kernel's command line and format, signing with libcrypto as the kernel's does (no attributes). */
const GOOD_SIGN_FILE = `#include <arpa/inet.h>
#include <openssl/cms.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

/* sign-file HASH KEY CERT MODULE: append a PKCS#7 signature of MODULE in the kernel's module signature format. */
int main(int argc, char **argv) {
  if (argc != 5) return 2;
  const EVP_MD *md = EVP_get_digestbyname(argv[1]);
  BIO *k = BIO_new_file(argv[2], "rb"), *c = BIO_new_file(argv[3], "rb"), *m = BIO_new_file(argv[4], "rb");
  EVP_PKEY *key = k ? PEM_read_bio_PrivateKey(k, NULL, NULL, NULL) : NULL;
  X509 *x509 = c ? d2i_X509_bio(c, NULL) : NULL;
  if (!md || !key || !x509 || !m) return 1;
  unsigned flags = CMS_NOCERTS | CMS_BINARY | CMS_DETACHED | CMS_STREAM | CMS_PARTIAL;
  CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
  if (!cms || !CMS_add1_signer(cms, x509, key, md, CMS_NOCERTS | CMS_BINARY | CMS_NOSMIMECAP | CMS_NOATTR)) return 1;
  if (!CMS_final(cms, m, NULL, CMS_NOCERTS | CMS_BINARY)) return 1;
  unsigned char *der = NULL;
  int len = i2d_CMS_ContentInfo(cms, &der);
  FILE *out = fopen(argv[4], "ab");
  unsigned char info[12] = {0, 0, 2, 0, 0, 0, 0, 0};
  unsigned be = htonl((unsigned)len);
  memcpy(info + 8, &be, 4);
  if (!out || len <= 0 || fwrite(der, 1, len, out) != (size_t)len || fwrite(info, 1, 12, out) != 12) return 1;
  fputs("~Module signature appended~\\n", out);
  return fclose(out) == 0 ? 0 : 1;
}
`;

/** A sign-file that appends something shaped like a signature that no key made. */
const BOGUS_SIGN_FILE = `#include <stdio.h>
int main(int argc, char **argv) {
  FILE *out = fopen(argv[4], "ab");
  for (int i = 0; i < 64; i++) fputc(0x30, out);
  unsigned char info[12] = {0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 64};
  fwrite(info, 1, 12, out);
  fputs("~Module signature appended~\\n", out);
  return fclose(out);
}
`;

describe('module signing', () => {
  let key: Key;
  let tree: string;
  let signed: { out: string; manifest: Record<string, unknown> & { inputs: { key: string } } };
  /** The --out root of the signed build, as armkit repo collects it. */
  let signedRoot: string;

  beforeAll(async () => {
    key = makeKey('main', 'armkit test module signing key');
    const out = tempDir('modsig-out');
    signedRoot = out;
    const r = await armkit([
      'build',
      'cryptodev',
      '--arch',
      'aarch64',
      '--kernel',
      'debian:latest',
      ...fixtureArgs,
      '--module-key',
      key.key,
      '--module-cert',
      key.cert,
      '--out',
      out,
      '--json',
    ]);
    expect(r.exitCode, show(r)).toBe(0);
    signed = JSON.parse(r.stdout);
    tree = (signed.manifest as { kernel: { dir: string } }).kernel.dir;
  });

  it("signs with the kernel's sign-file: modinfo names the signer and key, and openssl verifies the signature with the certificate", () => {
    const module = moduleOf(signed.out);
    expect(modinfo('signer', module)).toBe('armkit test module signing key');
    expect(modinfo('sig_key', module)).toBe(key.serial);
    expect(modinfo('sig_hashalgo', module)).toBe('sha256');
    expect(opensslVerifies(module, key.certPem)).toBe(true);
    // And not with another certificate: the check can fail.
    expect(opensslVerifies(module, makeKey('other', 'someone else').certPem)).toBe(false);
    expect(signed.manifest.moduleSignature).toEqual({
      signer: 'armkit test module signing key',
      serial: key.serial,
      certSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it('no package holds the key, and the source RPM signs only when asked (its spec takes module_key as a define)', () => {
    const keyBody = readFileSync(key.key, 'utf8').split('\n')[1]!;
    for (const rpm of readdirSync(signed.out).filter((f) => f.endsWith('.rpm'))) {
      const payload = execFileSync('sh', ['-c', 'rpm2cpio "$1" | cpio -i --to-stdout --quiet', 'sh', join(signed.out, rpm)]);
      expect(payload.includes(keyBody), rpm).toBe(false);
      expect(payload.includes('PRIVATE KEY'), rpm).toBe(false);
    }
    const srpm = readdirSync(signed.out).find((f) => f.endsWith('.src.rpm'))!;
    const spec = execFileSync('sh', ['-c', 'rpm2cpio "$1" | cpio -i --to-stdout --quiet "*.spec"', 'sh', join(signed.out, srpm)], { encoding: 'utf8' });
    expect(spec).toContain('%if 0%{?module_key:1}');
    expect(spec).not.toContain(key.key);
  });

  it('the same inputs unsigned are another build, with no signature', async () => {
    const out = tempDir('modsig-unsigned');
    const r = await armkit(['build', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:latest', ...fixtureArgs, '--out', out, '--json']);
    expect(r.exitCode, show(r)).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.manifest.inputs.key).not.toBe(signed.manifest.inputs.key);
    expect(doc.manifest.moduleSignature).toBeUndefined();
    expect(modinfo('signer', moduleOf(doc.out))).toBe('');
  });

  it('a tree that ships sign-file as source: armkit builds it for this host and signs with it', async () => {
    const out = tempDir('modsig-source');
    const withSource = treeWithSignFileSource(tree, GOOD_SIGN_FILE);
    const r = await armkit([
      'build',
      'cryptodev',
      '--arch',
      'aarch64',
      '--kernel',
      withSource,
      ...fixtureArgs,
      '--module-key',
      key.key,
      '--module-cert',
      key.cert,
      '--out',
      out,
      '--json',
    ]);
    expect(r.exitCode, show(r)).toBe(0);
    expect(r.stderr).toContain("Build the kernel's sign-file for this host");
    const module = moduleOf(JSON.parse(r.stdout).out);
    expect(modinfo('signer', module)).toBe('armkit test module signing key');
    expect(opensslVerifies(module, key.certPem)).toBe(true);
  });

  it('a signature the key did not make is refused (exit 5) and nothing is published', async () => {
    const out = tempDir('modsig-bogus');
    const bogus = treeWithSignFileSource(tree, BOGUS_SIGN_FILE);
    const r = await armkit([
      'build',
      'cryptodev',
      '--arch',
      'aarch64',
      '--kernel',
      bogus,
      ...fixtureArgs,
      '--module-key',
      key.key,
      '--module-cert',
      key.cert,
      '--out',
      out,
    ]);
    expect(r.exitCode, show(r)).toBe(5);
    expect(r.stderr).toContain('was not made by the key of the certificate of armkit test module signing key');
    expect(readdirSync(out)).toEqual([]);
  });

  describe('armkit repo --module-cert: every module in the repository checked before it is staged', () => {
    it('passes a repository whose module the certificate signed; the dry run shows the check', async () => {
      const dest = join(tempDir('modsig-repo'), 'repo');
      const dry = await armkit(['repo', '--from', signedRoot, '--out', dest, '--module-cert', key.cert, '--dry-run']);
      expect(dry.exitCode, show(dry)).toBe(0);
      expect(dry.stdout).toMatch(/# Check that cryptodev\.ko in kmod-cryptodev-\S+\.rpm is signed by armkit test module signing key/);
      expect(dry.stdout).toContain("grep -qxF 'armkit test module signing key'");
      expect(existsSync(dest)).toBe(false);
      const r = await armkit(['repo', '--from', signedRoot, '--out', dest, '--module-cert', key.cert, '--json']);
      expect(r.exitCode, show(r)).toBe(0);
      expect(JSON.parse(r.stdout).ok).toBe(true);
      expect(existsSync(join(dest, 'armkit.repo'))).toBe(true);
    });

    it('refuses (exit 5) a module another key signed, and stages nothing', async () => {
      const dest = join(tempDir('modsig-repo-other'), 'repo');
      const other = makeKey('repo-other', 'someone else');
      const r = await armkit(['repo', '--from', signedRoot, '--out', dest, '--module-cert', other.cert]);
      expect(r.exitCode, show(r)).toBe(5);
      expect(r.stderr).toContain('was not made by the key of the certificate of someone else');
      expect(existsSync(dest)).toBe(false);
    });

    it('refuses (exit 5) an unsigned module', async () => {
      const root = tempDir('modsig-repo-unsigned');
      const b = await armkit(['build', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:latest', ...fixtureArgs, '--out', root]);
      expect(b.exitCode, show(b)).toBe(0);
      const dest = join(root, 'repo');
      const r = await armkit(['repo', '--from', root, '--out', dest, '--module-cert', key.cert]);
      expect(r.exitCode, show(r)).toBe(5);
      expect(r.stderr).toMatch(/cryptodev\.ko is not signed/);
      expect(existsSync(dest)).toBe(false);
    });

    it('--module-key is a usage error that says where modules are signed', async () => {
      const r = await armkit(['repo', '--from', signedRoot, '--out', join(tempDir('modsig-repo-key'), 'repo'), '--module-key', key.key]);
      expect(r.exitCode, show(r)).toBe(2);
      expect(r.stderr).toContain('armkit build RECIPE --module-key KEY --module-cert CERT');
    });
  });

  describe('refused before anything is built (exit 2)', () => {
    const dry = (extra: string[]) => armkit(['build', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:latest', ...fixtureArgs, '--dry-run', ...extra]);

    it('a key without its certificate', async () => {
      const r = await dry(['--module-key', key.key]);
      expect(r.exitCode, show(r)).toBe(2);
      expect(r.stderr).toContain('--module-key and --module-cert go together');
    });

    it('a key that is not the certificate’s', async () => {
      const other = makeKey('mismatch', 'other');
      const r = await dry(['--module-key', other.key, '--module-cert', key.cert]);
      expect(r.exitCode, show(r)).toBe(2);
      expect(r.stderr).toContain(`is not the key of --module-cert ${key.cert}`);
    });

    it('a certificate that is no certificate', async () => {
      const r = await dry(['--module-key', key.key, '--module-cert', key.key]);
      expect(r.exitCode, show(r)).toBe(2);
      expect(r.stderr).toContain('is not an X.509 certificate');
    });

    it('signing on a remote engine: the key does not leave this machine', async () => {
      const r = await armkit([
        'build',
        'cryptodev',
        '--arch',
        'aarch64',
        '--engine',
        'mock',
        ...fixtureArgs,
        '--dry-run',
        '--module-key',
        key.key,
        '--module-cert',
        key.cert,
      ]);
      expect(r.exitCode, show(r)).toBe(2);
      expect(r.stderr).toContain('modules are signed in local builds only');
    });

    it('the dry run names the key and certificate as rpmbuild defines and checks the signer', async () => {
      const r = await dry(['--module-key', key.key, '--module-cert', key.cert, '--force']);
      expect(r.exitCode, show(r)).toBe(0);
      expect(r.stdout).toContain(`--define 'module_key ${key.key}' --define 'module_cert ${key.cert}'`);
      expect(r.stdout).toContain("grep -qxF 'armkit test module signing key'");
      expect(r.stdout).toMatch(/^# needs: .*\bopenssl\b/m);
    });
  });

  describe('armkit install --module-key (native, into --destdir)', () => {
    const install = (destdir: string, extra: string[]) =>
      armkit(['install', 'cryptodev', '--kernel', 'debian:latest', ...fixtureArgs, '--destdir', destdir, ...extra]);
    const installed = (root: string) => execFileSync('find', [root, '-name', 'cryptodev.ko'], { encoding: 'utf8' }).trim();

    it('signs the module before installing it: modinfo names the signer and openssl verifies it with the certificate', async () => {
      const root = tempDir('modsig-install');
      const r = await install(root, ['--module-key', key.key, '--module-cert', key.cert]);
      expect(r.exitCode, show(r)).toBe(0);
      expect(r.stderr).toContain('signed by armkit test module signing key');
      const module = installed(root);
      expect(modinfo('signer', module)).toBe('armkit test module signing key');
      expect(modinfo('sig_key', module)).toBe(key.serial);
      expect(opensslVerifies(module, key.certPem)).toBe(true);
      // Without the key the same install leaves the module unsigned: the check above can fail.
      const plain = tempDir('modsig-install-plain');
      expect((await install(plain, [])).exitCode).toBe(0);
      expect(opensslVerifies(installed(plain), key.certPem)).toBe(false);
    });

    it('the dry run prints the sign-file command, and its script run by sh installs a module signed the same way', async () => {
      const root = tempDir('modsig-install-script');
      const r = await install(root, ['--module-key', key.key, '--module-cert', key.cert, '--dry-run']);
      expect(r.exitCode, show(r)).toBe(0);
      expect(r.stdout).toMatch(/scripts\/sign-file "\$\(sed -n .*CONFIG_MODULE_SIG_HASH.* \|\| echo sha256\)" /);
      expect(existsSync(join(root, 'lib')), 'a dry run installed something').toBe(false);
      execFileSync('sh', ['-c', r.stdout], { stdio: 'ignore' });
      expect(modinfo('signer', installed(root))).toBe('armkit test module signing key');
      expect(opensslVerifies(installed(root), key.certPem)).toBe(true);
    });

    it('a key without its certificate, and a key that is not the certificate’s: exit 2 before anything runs', async () => {
      const root = tempDir('modsig-install-refused');
      const alone = await install(root, ['--module-key', key.key]);
      expect(alone.exitCode, show(alone)).toBe(2);
      expect(alone.stderr).toContain('--module-key and --module-cert go together');
      const other = makeKey('install-mismatch', 'other');
      const mismatch = await install(root, ['--module-key', other.key, '--module-cert', key.cert]);
      expect(mismatch.exitCode, show(mismatch)).toBe(2);
      expect(mismatch.stderr).toContain(`is not the key of --module-cert ${key.cert}`);
      expect(existsSync(join(root, 'lib'))).toBe(false);
    });
  });
});
