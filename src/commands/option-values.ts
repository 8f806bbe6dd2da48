/** Option values that several commands read the same way. */
import { usageError } from '../errors.js';

/** A positive number of seconds (`--timeout`, `--remote-timeout`). */
export function secondsOf(value: string | number, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw usageError(`${flag} ${value}: expected a number of seconds.`);
  return n;
}
