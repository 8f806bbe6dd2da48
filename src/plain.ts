/**
 * Names and paths that reach an RPM spec, an rpmbuild --define, a make command line or kbuild are data, never
 * code. Where escaping cannot make a value safe in all of those at once (rpm expands `%`, the spec's shell lines
 * run `$(...)`, kbuild breaks on spaces), armkit accepts only plain values and says why it refuses the others.
 */
import { usageError } from './errors.js';

/** Characters of a path armkit will hand to rpmbuild and kbuild. */
const PLAIN_PATH = /^[A-Za-z0-9._/+@:,=~-]+$/;
/** One path component of the same characters (an archive's top directory, a file name in SOURCES). */
const PLAIN_NAME = /^[A-Za-z0-9._+^~-]+$/;

export function isPlainPath(path: string): boolean {
  return PLAIN_PATH.test(path);
}

export function isPlainName(name: string): boolean {
  return PLAIN_NAME.test(name) && name !== '.' && name !== '..';
}

/** Refuses a path with characters rpm, the shell or kbuild would interpret, naming them and what to do. */
export function assertPlainPath(path: string, what: string, instead: string): void {
  if (isPlainPath(path)) return;
  const odd = [...new Set([...path].filter((c) => !/[A-Za-z0-9._/+@:,=~-]/.test(c)))].map((c) => JSON.stringify(c)).join(' ');
  throw usageError(`${what} "${path.replace(/[\n\r]/g, '\\n')}" contains ${odd}, which rpm, the shell or kbuild would interpret: ${instead}.`);
}
