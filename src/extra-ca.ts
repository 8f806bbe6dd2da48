/**
 * NODE_EXTRA_CA_CERTS, deferred. Node 20 reads and parses the file it names as it starts, before a line of armkit
 * runs: about 50 ms for a system bundle (/etc/ssl/certs/ca-certificates.crt), on every command, though armkit speaks
 * TLS only to download a source it has not cached yet. So bin/armkit, the command users run, hands the variable over
 * as ARMKIT_DEFERRED_EXTRA_CA_CERTS. armkit puts it back for every program it runs (adoptDeferredExtraCa, first
 * thing in cli.ts) and, when it downloads over https, adds the file's certificates to Node's default store
 * (downloadCa), which is what Node does with the variable.
 */
import { readFileSync } from 'node:fs';
import type { SecureContext } from 'node:tls';
import { loadBuiltin } from './builtin.js';

const DEFERRED = 'ARMKIT_DEFERRED_EXTRA_CA_CERTS';
let deferred: string | undefined;

/** Gives NODE_EXTRA_CA_CERTS back to the environment and remembers that this process has not loaded it. */
export function adoptDeferredExtraCa(env: NodeJS.ProcessEnv = process.env): void {
  const file = env[DEFERRED];
  if (file === undefined) return;
  delete env[DEFERRED];
  env.NODE_EXTRA_CA_CERTS = file;
  deferred = file || undefined;
}

export interface DownloadCa {
  /** A TLS context that trusts Node's default store and the deferred file's certificates, when some were deferred. */
  secureContext?: SecureContext;
  /** Why the deferred file could not be read: Node too goes on without it, and says so. */
  unreadable?: string;
}

/** The native half of a SecureContext: Node adds each `ca` entry, and NODE_EXTRA_CA_CERTS, with addCACert. */
interface NativeContext {
  addCACert?: (pem: string) => void;
}

let ca: DownloadCa | undefined;

/**
 * Node's default store (its bundled roots, or OpenSSL's store where Node is built or run to use that one) with the
 * file's certificates added: what NODE_EXTRA_CA_CERTS gives. Not `ca: [...tls.rootCertificates, file]`, which
 * would replace a system store with Node's bundled one.
 */
export function downloadCa(): DownloadCa {
  if (!deferred) return {};
  // Read and parsed once per process: every redirect of every download uses the same context.
  ca ??= deferredContext(deferred);
  return ca;
}

function deferredContext(deferred: string): DownloadCa {
  let extra: string;
  try {
    extra = readFileSync(deferred, 'utf8');
  } catch (error) {
    return {
      unreadable: `NODE_EXTRA_CA_CERTS names ${deferred}, which could not be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    };
  }
  // Loaded only now: no command that does not download needs node:tls.
  const tls = loadBuiltin<typeof import('node:tls')>('node:tls');
  const secureContext = tls.createSecureContext();
  const native = (secureContext as SecureContext & { context?: NativeContext }).context;
  // Node copies the shared store before it adds to one context's; a Node without addCACert gets the bundled roots.
  if (typeof native?.addCACert === 'function') native.addCACert(extra);
  else return { secureContext: tls.createSecureContext({ ca: [...tls.rootCertificates, extra] }) };
  return { secureContext };
}
