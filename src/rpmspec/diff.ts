/** The unified diff written beside the patched spec: `patch -p1` applies it to the original. */
import { createTwoFilesPatch } from 'diff';

export function unifiedDiff(name: string, before: string, after: string): string {
  if (before === after) return '';
  const patch = createTwoFilesPatch(`a/${name}`, `b/${name}`, before, after, undefined, undefined, { context: 3 });
  // The "Index:" and "=====" lines are the diff package's; patch and git start at "---".
  return patch.slice(patch.indexOf('--- '));
}
