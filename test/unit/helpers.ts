/** Shared helpers for the fast unit tests: temp dirs, a fake Host, a Runner that must not be called. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach } from 'vitest';
import { findArch } from '../../src/arch.js';
import { ArmkitError } from '../../src/errors.js';
import type { Host } from '../../src/host.js';
import type { Runner } from '../../src/proc/runner.js';

const made: string[] = [];

/** A fresh temp directory, removed after the current test. */
export function tempDir(prefix = 'armkit-unit-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

afterEach(() => {
  while (made.length) rmSync(made.pop()!, { recursive: true, force: true });
});

/** Writes files (relative path → content) under dir, creating directories. */
export function writeTree(dir: string, files: Record<string, string>): string {
  for (const [rel, content] of Object.entries(files)) {
    const path = join(dir, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
  return dir;
}

export function fakeHost(overrides: Partial<Host> = {}, programs: string[] = []): Host {
  return {
    machine: 'x86_64',
    arch: findArch('x86_64'),
    kernelRelease: '6.1.0-99-amd64',
    family: 'debian',
    codename: 'bookworm',
    isRoot: false,
    cpus: 2,
    which: (program: string) => (programs.includes(program) ? `/usr/bin/${program}` : undefined),
    ...overrides,
  };
}

/** A runner whose every use fails the test: for code paths that must not run anything. */
export const forbiddenRunner: Runner = {
  run: async (argv) => {
    throw new Error(`runner.run must not be called (argv: ${argv.join(' ')})`);
  },
  attempt: async (argv) => {
    throw new Error(`runner.attempt must not be called (argv: ${argv.join(' ')})`);
  },
  capture: async (argv) => {
    throw new Error(`runner.capture must not be called (argv: ${argv.join(' ')})`);
  },
};

/** Runs fn, expects an ArmkitError and returns it (fails the test otherwise). */
export function catchArmkit(fn: () => unknown): ArmkitError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ArmkitError) return error;
    throw new Error(`expected an ArmkitError, got ${String(error)}`);
  }
  throw new Error('expected an ArmkitError, but nothing was thrown');
}

export async function catchArmkitAsync(fn: () => Promise<unknown>): Promise<ArmkitError> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof ArmkitError) return error;
    throw new Error(`expected an ArmkitError, got ${String(error)}`);
  }
  throw new Error('expected an ArmkitError, but nothing was thrown');
}

/** Throws unless `text` is one well-formed XML element (after the declaration): tags nest, entities are XML's. */
export function wellFormedXml(text: string): void {
  const body = text.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<!--[\s\S]*?-->/g;
  let last = 0;
  for (const m of body.matchAll(tag)) {
    const between = body.slice(last, m.index);
    if (/[<>]/.test(between)) throw new Error(`stray < or > near ${JSON.stringify(between.slice(0, 60))}`);
    for (const e of between.matchAll(/&([^;\s]*);?/g)) if (!/^&(amp|lt|gt|quot|apos|#\d+);$/.test(e[0])) throw new Error(`bad entity ${e[0]}`);
    last = m.index + m[0].length;
    if (m[0].startsWith('<!--')) continue;
    if (m[1]) {
      if (stack.pop() !== m[2]) throw new Error(`</${m[2]}> closes the wrong element`);
    } else if (!m[4]) stack.push(m[2]!);
  }
  if (body.slice(last).trim() !== '') throw new Error('text after the root element');
  if (stack.length) throw new Error(`unclosed: ${stack.join(' ')}`);
}
