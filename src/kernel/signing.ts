/**
 * Module signing: the key and certificate a user gives (`--module-key`, `--module-cert`), checked before anything
 * is built, and the kernel's own sign-file that signs with them. The module is signed inside rpmbuild, after rpm's
 * install-time processing (templates/kmod/kmod.spec.ejs), and the signature is checked before publishing
 * (kernel/steps.ts): that it is there, that it was made by this certificate's key over this module.
 *
 * The signature format is the kernel's (scripts/sign-file.c, include/linux/module_signature.h): the module, a
 * PKCS#7 detached signature over it, a 12-byte struct module_signature ending in the signature's length
 * (big-endian), and the magic "~Module signature appended~\n".
 */
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ArmkitError, missing, usageError } from '../errors.js';
import type { Host } from '../host.js';
import { assertPlainPath } from '../plain.js';
import { findNeed, installCommands, LIBCRYPTO_DEV } from '../prereqs.js';
import { readModuleFacts } from './module-check.js';

export interface SigningOptions {
  moduleKey?: string;
  moduleCert?: string;
}

export interface ModuleSigning {
  /** Absolute paths of the private key (PEM) and the certificate (PEM or DER), as sign-file reads them. */
  key: string;
  cert: string;
  /** The certificate in PEM, for the check of the signature. */
  certPem: string;
  /** What `modinfo -F signer` and `-F sig_key` will say: the issuer's common name, the serial as hex bytes. */
  signer: string;
  serial: string;
  certSha256: string;
  /**
   * The tree's scripts/sign-file when it runs here (the spec's default), or its source, to build for this host
   * first. (A Debian tree not yet unpacked has the program: linux-kbuild is this host's package.)
   */
  signFile: { tree: true } | { source: string };
  warnings: string[];
}

export const SIGNATURE_MAGIC = '~Module signature appended~\n';

/** The module without its signature, and the PKCS#7 signature; undefined when the module is not signed. */
export function splitSignature(bytes: Buffer): { content: Buffer; pkcs7: Buffer } | undefined {
  const magic = Buffer.from(SIGNATURE_MAGIC);
  if (bytes.length < magic.length + 12 || !bytes.subarray(bytes.length - magic.length).equals(magic)) return undefined;
  const info = bytes.length - magic.length - 12;
  const length = bytes.readUInt32BE(info + 8);
  // id_type 2 is PKCS#7, the only kind sign-file has made since Linux 4.3.
  if (bytes[info + 2] !== 2 || length === 0 || length > info) return undefined;
  return { content: bytes.subarray(0, info - length), pkcs7: bytes.subarray(info - length, info) };
}

/** "01:AB:..." as modinfo prints a serial number. */
function serialBytes(hex: string): string {
  const even = hex.length % 2 ? `0${hex}` : hex;
  return even.toUpperCase().match(/../g)!.join(':');
}

function commonName(dn: string): string | undefined {
  return dn
    .split('\n')
    .find((line) => line.startsWith('CN='))
    ?.slice(3);
}

function readable(path: string, flag: string): string {
  const full = resolve(path);
  if (!existsSync(full) || !statSync(full).isFile()) throw usageError(`${flag} ${path}: no such file.`);
  assertPlainPath(full, `${flag} ${path}`, 'copy it to a path of letters, digits and ._/+- (rpmbuild and sign-file receive the path)');
  return full;
}

/** A kernel that does not check signatures: say so (the spec reads the hash, CONFIG_MODULE_SIG_HASH, itself). */
function signingWarnings(kernelDir: string): string[] {
  const config = join(kernelDir, '.config');
  if (!existsSync(config) || /^CONFIG_MODULE_SIG=y$/m.test(readFileSync(config, 'utf8'))) return [];
  return ["This kernel's configuration has no CONFIG_MODULE_SIG: it loads modules without checking signatures, so the signature is carried but unused."];
}

function runsHere(program: string, hostElfMachine: number | undefined): boolean {
  try {
    return readModuleFacts(readFileSync(program).subarray(0, 64)).machine === hostElfMachine;
  } catch {
    return false; // not an ELF program
  }
}

/** sign-file from the header tree: the program if it runs on this host, else its source (some trees ship only that). */
function findSignFile(kernelDir: string, host: Host): ModuleSigning['signFile'] {
  if (!existsSync(kernelDir)) return { tree: true };
  const program = join(kernelDir, 'scripts', 'sign-file');
  if (existsSync(program) && runsHere(program, host.arch?.elf.machine)) return { tree: true };
  const source = join(kernelDir, 'scripts', 'sign-file.c');
  if (existsSync(source)) {
    if (!findNeed(LIBCRYPTO_DEV, host))
      throw missing(`${kernelDir} ships sign-file as source only, and building it needs libcrypto's headers (${LIBCRYPTO_DEV.files![0]}).`, [
        `Install them with ${installCommands(LIBCRYPTO_DEV.packages)
          .map((c) => `"${c}"`)
          .join(' or ')} (or run "armkit doctor --fix").`,
      ]);
    return { source: realpathSync(source) };
  }
  throw missing(`${kernelDir} has no sign-file that runs on this host (scripts/sign-file), nor its source (scripts/sign-file.c).`, [
    "Debian ships it in linux-kbuild-*, Fedora in kernel-devel; a tree built from source has it after 'make scripts'.",
  ]);
}

/** A module certificate (PEM or DER) as the checks need it: its PEM, who it names, its serial and fingerprint. */
export function readModuleCertificate(path: string, flag: string): { certPem: string; signer: string; serial: string; certSha256: string } {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(readFileSync(readable(path, flag)));
  } catch (error) {
    if (error instanceof ArmkitError) throw error;
    throw usageError(`${flag} ${path} is not an X.509 certificate (PEM or DER): ${(error as Error).message}.`);
  }
  return {
    certPem: x509.toString(),
    signer: commonName(x509.issuer) ?? x509.issuer.replaceAll('\n', ', '),
    serial: serialBytes(x509.serialNumber),
    certSha256: createHash('sha256').update(x509.raw).digest('hex'),
  };
}

export function resolveModuleSigning(options: SigningOptions, kernelDir: string, host: Host): ModuleSigning | undefined {
  if (!options.moduleKey && !options.moduleCert) return undefined;
  if (!options.moduleKey || !options.moduleCert)
    throw usageError('--module-key and --module-cert go together: the private key signs, the certificate names it.');
  const key = readable(options.moduleKey, '--module-key');
  const cert = readable(options.moduleCert, '--module-cert');
  const certificate = readModuleCertificate(options.moduleCert, '--module-cert');
  const x509 = new X509Certificate(certificate.certPem);
  const keyText = readFileSync(key, 'utf8');
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(keyText))
    throw usageError(`--module-key ${options.moduleKey} is not a PEM private key (sign-file reads "-----BEGIN PRIVATE KEY-----" files).`);
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    // sign-file reads a key's passphrase from KBUILD_SIGN_PIN, as kbuild does.
    privateKey = createPrivateKey({ key: keyText, ...(process.env.KBUILD_SIGN_PIN ? { passphrase: process.env.KBUILD_SIGN_PIN } : {}) });
  } catch (error) {
    throw usageError(`--module-key ${options.moduleKey} cannot be read: ${(error as Error).message}. A key with a passphrase needs KBUILD_SIGN_PIN set to it.`);
  }
  if (!x509.checkPrivateKey(privateKey)) throw usageError(`--module-key ${options.moduleKey} is not the key of --module-cert ${options.moduleCert}.`);
  const warnings = signingWarnings(kernelDir);
  // The kernel does not check a module certificate's dates, but an expired one is likely a mistake.
  if (Date.parse(x509.validTo) < Date.now()) warnings.push(`The module certificate expired on ${x509.validTo}.`);
  return {
    key,
    cert,
    ...certificate,
    signFile: findSignFile(kernelDir, host),
    warnings,
  };
}
