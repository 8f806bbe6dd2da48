/**
 * Writes the results into out/<recipe>/<version>/ atomically, as artifacts/publish.ts does for packages: the files go
 * to a staging directory beside the destination and one rename puts them in place, so out/ holds either what it
 * held before or the complete new set.
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type DirOptions, ensureDir, writeError } from '../fsutil.js';

/** How the output directory is named in errors: the one --out option of the commands that write specs. */
export const OUT: DirOptions = { what: 'the output directory (--out)', advice: 'pass another --out' };

export function publishTextFiles(dest: string, files: Record<string, string>): string[] {
  const parent = dirname(dest);
  const staging = join(parent, `.${basename(dest)}.staging-${process.pid}`);
  const old = join(parent, `.${basename(dest)}.old-${process.pid}`);
  ensureDir(parent, OUT);
  rmSync(staging, { recursive: true, force: true });
  try {
    try {
      mkdirSync(staging);
    } catch (error) {
      throw writeError(error, staging, OUT.advice);
    }
    for (const [name, content] of Object.entries(files)) {
      try {
        writeFileSync(join(staging, name), content);
      } catch (error) {
        throw writeError(error, join(dest, name), OUT.advice);
      }
    }
    if (existsSync(dest)) renameSync(dest, old);
    renameSync(staging, dest);
    rmSync(old, { recursive: true, force: true });
    return Object.keys(files).map((name) => join(dest, name));
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(dest) && existsSync(old)) renameSync(old, dest);
    throw error;
  }
}
