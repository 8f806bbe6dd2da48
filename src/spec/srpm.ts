/**
 * The spec inside a source RPM: the payload is unpacked with rpm2cpio | cpio (two runner calls joined by a file,
 * never a shell) into a temporary directory, and only *.spec files are taken out.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mismatch } from '../errors.js';
import type { Runner } from '../run/runner.js';

export interface ExtractedSpec {
  /** The spec's name inside the source RPM. */
  name: string;
  text: string;
}

export async function extractSpecFromSrpm(srpm: string, runner: Runner): Promise<ExtractedSpec> {
  const dir = mkdtempSync(join(tmpdir(), 'armkit-srpm-'));
  try {
    const payload = join(dir, 'payload.cpio');
    // No log files: they would go with the temporary directory; a failure carries the command's last lines.
    await runner.run(['rpm2cpio', srpm], { stdoutFile: payload });
    const out = join(dir, 'files');
    mkdirSync(out);
    await runner.run(['cpio', '-idm', '--quiet', '--no-absolute-filenames', '*.spec'], { stdinFile: payload, cwd: out });
    let specs: string[] = [];
    try {
      specs = readdirSync(out).filter((f) => f.endsWith('.spec'));
    } catch {
      specs = [];
    }
    if (specs.length === 0) throw mismatch(`${srpm} has no .spec file: is it a source RPM (.src.rpm)?`);
    // A source RPM carries one spec; should there be more, the package's own name wins.
    const name = specs.find((s) => /^openssl/.test(s)) ?? specs.sort()[0]!;
    return { name, text: readFileSync(join(out, name), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
