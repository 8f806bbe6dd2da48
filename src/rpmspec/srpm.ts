/**
 * The spec inside a source RPM: the payload is unpacked (artifacts/rpm-payload.ts) into a temporary directory and
 * only its *.spec files are read.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unpackRpm } from '../artifacts/rpm-payload.js';
import { ArmkitError, mismatch } from '../errors.js';
import type { Runner } from '../proc/runner.js';
import { scratch } from '../scratch.js';
import { withInstallHints } from './hints.js';

export interface ExtractedSpec {
  /** The spec's name inside the source RPM. */
  name: string;
  text: string;
  /** Every spec file the source RPM holds. */
  all: string[];
}

/** A source RPM carries one spec; should there be more, the package's own name wins. */
export function pickSpec(specs: string[]): string {
  return specs.find((s) => /^openssl/.test(s)) ?? [...specs].sort()[0]!;
}

export async function extractSpecFromSrpm(srpm: string, runner: Runner): Promise<ExtractedSpec> {
  const dir = mkdtempSync(join(tmpdir(), 'armkit-srpm-'));
  const forget = scratch(dir);
  try {
    const out = join(dir, 'files');
    // No log files: they would go with the temporary directory; a failure carries the command's last lines.
    await withInstallHints(['rpm2cpio', 'cpio'], () => unpackRpm(runner, srpm, out, { only: ['*.spec'] })).catch((error: unknown) => {
      // A file that is no RPM at all fails in rpm2cpio: name the file for what it is, not the command.
      if (error instanceof ArmkitError && error.kind === 'step-failed') {
        const why = error.details.find((l) => l.trim() !== '')?.trim();
        throw mismatch(`${srpm} is not an RPM package armkit can unpack${why ? ` (${why})` : ''}: pass the distribution's openssl source RPM (.src.rpm).`);
      }
      throw error;
    });
    let specs: string[] = [];
    try {
      specs = readdirSync(out).filter((f) => f.endsWith('.spec'));
    } catch {
      specs = [];
    }
    if (specs.length === 0) throw mismatch(`${srpm} has no .spec file: is it a source RPM (.src.rpm)?`);
    const name = pickSpec(specs);
    return { name, text: readFileSync(join(out, name), 'utf8'), all: specs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    forget();
  }
}
