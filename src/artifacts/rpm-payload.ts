/**
 * Unpacks an RPM's payload into a directory: rpm2cpio and cpio through the runner, joined by a file (never a shell
 * pipe). `only` limits cpio to matching members (e.g. "*.spec"); absolute member names stay inside `dir`.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Runner } from '../proc/runner.js';

export async function unpackRpm(runner: Runner, rpm: string, dir: string, options: { logFile?: string; only?: string[] } = {}): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const payload = join(dir, '.payload.cpio');
  try {
    await runner.run(['rpm2cpio', rpm], { stdoutFile: payload, logFile: options.logFile });
    await runner.run(['cpio', '-idm', '--quiet', '--no-absolute-filenames', ...(options.only ?? [])], {
      cwd: dir,
      stdinFile: payload,
      logFile: options.logFile,
    });
  } finally {
    rmSync(payload, { force: true });
  }
}
