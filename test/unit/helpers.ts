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
