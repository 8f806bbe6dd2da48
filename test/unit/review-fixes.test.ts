/** Cases from the review of the first version: each failed before its fix. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArmkitError } from '../../src/errors.js';
import { createRunner } from '../../src/proc/runner.js';
import { asArmkitError } from '../../src/run/execute.js';
import * as shell from '../../src/run/shell.js';
import type { Step as ShellStep } from '../../src/step.js';
import { STEP_KINDS } from '../../src/steps/index.js';

const stepToShell = (s: ShellStep, logsDir: string) => shell.stepToShell(s, logsDir, STEP_KINDS);

import { tempDir } from './helpers.js';

describe('review fixes', () => {
  it('two commands sharing a log both keep their output', async () => {
    const log = join(tempDir(), 'shared.log');
    const runner = createRunner();
    await runner.run(['sh', '-c', 'echo first'], { logFile: log });
    await runner.run(['sh', '-c', 'echo second'], { logFile: log });
    const text = readFileSync(log, 'utf8');
    expect(text).toContain('first\n');
    expect(text).toContain('second\n');
  });

  it('file-system errors inside a step get a kind and name the step', () => {
    const errno = (code: string) => Object.assign(new Error(`${code}: permission denied, mkdir '/out/x'`), { code });
    const denied = asArmkitError(errno('EACCES'), 'Publish to /out/x') as ArmkitError;
    expect(denied).toBeInstanceOf(ArmkitError);
    expect(denied.kind).toBe('prerequisite');
    expect(denied.message).toBe("Publish to /out/x: EACCES: permission denied, mkdir '/out/x'.");
    expect((asArmkitError(errno('ENOENT'), 'Copy') as ArmkitError).kind).toBe('step-failed');
    const plain = new Error('no code');
    expect(asArmkitError(plain, 'x')).toBe(plain);
  });

  it('the dry-run copy of a directory path ending in / lands where the executor puts it', () => {
    const base = tempDir();
    mkdirSync(join(base, 'from/crypto'), { recursive: true });
    writeFileSync(join(base, 'from/crypto/aes.ko'), 'x');
    const script = stepToShell({ kind: 'copy', title: 't', from: join(base, 'from/crypto/'), to: join(base, 'root/lib/crypto/'), optional: true }, base);
    execFileSync('sh', ['-c', script]);
    expect(existsSync(join(base, 'root/lib/crypto/aes.ko'))).toBe(true);
    expect(existsSync(join(base, 'root/lib/crypto/crypto'))).toBe(false);
  });
});
