/**
 * Writes the results into out/<recipe>/<version>/ atomically, as artifacts/publish.ts does for packages: the files go
 * to a staging directory beside the destination and one rename puts them in place, so out/ holds either what it
 * held before or the complete new set.
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export function publishTextFiles(dest: string, files: Record<string, string>): string[] {
  const parent = dirname(dest);
  const staging = join(parent, `.${basename(dest)}.staging-${process.pid}`);
  const old = join(parent, `.${basename(dest)}.old-${process.pid}`);
  mkdirSync(parent, { recursive: true });
  rmSync(staging, { recursive: true, force: true });
  try {
    mkdirSync(staging);
    for (const [name, content] of Object.entries(files)) writeFileSync(join(staging, name), content);
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
