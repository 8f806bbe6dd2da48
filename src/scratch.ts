/**
 * Temporary files and directories armkit is making (a download's .part file, a publish's staging directory, a
 * scratch directory). They are removed by the code that made them as it unwinds; this list is for the exit
 * that does not unwind (a second interrupt, or one the running step ignored too long).
 */
import { rmSync } from 'node:fs';

const paths = new Set<string>();

/** Registers a path and returns a function that forgets it (call it once the path is gone or kept). */
export function scratch(path: string): () => void {
  paths.add(path);
  return () => void paths.delete(path);
}

export function removeScratch(): void {
  for (const path of paths) rmSync(path, { recursive: true, force: true });
  paths.clear();
}
