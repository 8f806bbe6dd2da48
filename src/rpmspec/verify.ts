/**
 * The patched spec must still parse: rpmspec -P on it, with the Fedora macros this host's rpm lacks supplied
 * (src/spec/rpm-macros.ts). A failure is a verification error carrying rpmspec's own words.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mismatch } from '../errors.js';
import type { Runner } from '../proc/runner.js';
import { tail } from '../proc/runner.js';
import { scratch } from '../scratch.js';
import { defineArgs, missingParseMacros } from './rpm-macros.js';

export interface ParseCheck {
  /** The macros armkit supplied because the host's rpm lacks them. */
  supplied: string[];
  /** rpmspec -P's output: the spec as rpm sees it. */
  parsed: string;
}

export async function checkSpecParses(text: string, name: string, runner: Runner): Promise<ParseCheck> {
  const dir = mkdtempSync(join(tmpdir(), 'armkit-spec-'));
  const forget = scratch(dir);
  try {
    const file = join(dir, name);
    writeFileSync(file, text);
    const missing = await missingParseMacros(runner);
    const argv = ['rpmspec', '-P', ...defineArgs(missing), file];
    const result = await runner.capture(argv);
    if (result.exitCode !== 0) {
      throw mismatch(`The patched ${name} does not parse: rpmspec -P exited with ${result.exitCode}.`, tail(result.stderr || result.stdout, 15));
    }
    return { supplied: missing.map((m) => m.name), parsed: result.stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    forget();
  }
}
