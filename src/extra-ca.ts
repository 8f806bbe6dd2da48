/**
 * NODE_EXTRA_CA_CERTS, deferred. Node 20 reads and parses the file it names as it starts, before a line of armkit
 * runs: about 50 ms for a system bundle (/etc/ssl/certs/ca-certificates.crt), on every command, though armkit speaks
 * TLS only to download a source it has not cached yet. So bin/armkit, the command users run, hands the variable over
 * as ARMKIT_DEFERRED_EXTRA_CA_CERTS. armkit puts it back for every program it runs (adoptDeferredExtraCa, first
 * thing in cli.ts) and, when it downloads over https, trusts Node's bundled roots and the file's certificates
 * (downloadCa), which is what Node does with the variable.
 */
import { readFileSync } from 'node:fs';
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
  /** The certificates to trust, when some were deferred; else Node's defaults apply (they hold any extra ones). */
  ca?: string[];
  /** Why the deferred file could not be read: Node too goes on without it, and says so. */
  unreadable?: string;
}

export function downloadCa(): DownloadCa {
  if (!deferred) return {};
  try {
    const extra = readFileSync(deferred, 'utf8');
    // Loaded only now: no command that does not download needs node:tls.
    const { rootCertificates } = loadBuiltin<typeof import('node:tls')>('node:tls');
    return { ca: [...rootCertificates, extra] };
  } catch (error) {
    return {
      unreadable: `NODE_EXTRA_CA_CERTS names ${deferred}, which could not be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    };
  }
}
