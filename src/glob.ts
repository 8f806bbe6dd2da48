/** Expands `*` inside the last path component only: enough for RPMS/<arch>/*.rpm, and predictable. */
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export function expandGlob(pattern: string): string[] {
  if (!pattern.includes('*')) return existsSync(pattern) ? [pattern] : [];
  const dir = dirname(pattern);
  if (dir.includes('*')) throw new Error(`glob ${pattern}: only the last component may contain *`);
  if (!existsSync(dir)) return [];
  const re = new RegExp(
    `^${basename(pattern)
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return readdirSync(dir)
    .filter((f) => re.test(f))
    .sort()
    .map((f) => join(dir, f));
}
