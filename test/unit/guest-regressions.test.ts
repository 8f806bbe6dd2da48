/** Cases found in review of the guest modules: each failed before its fix. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { upstreamChecks } from '../../src/commands/test.js';
import { debFileName } from '../../src/guest/assets.js';
import { packInitramfs } from '../../src/guest/cpio.js';
import { parseSerialLog } from '../../src/guest/report.js';
import { tempDir } from './helpers.js';

describe('guest regressions', () => {
  it('packInitramfs keeps non-ASCII names (UTF-8, byte length in the header)', () => {
    const root = tempDir();
    mkdirSync(join(root, 'café'));
    writeFileSync(join(root, 'café', '€uro'), 'x');
    const archive = join(tempDir(), 'i.cpio.gz');
    packInitramfs(root, archive);
    const out = tempDir();
    execFileSync('sh', ['-c', `gunzip -c "$1" | cpio -idm --quiet`, 'sh', archive], { cwd: out });
    expect(readdirSync(join(out, 'café'))).toEqual(['€uro']);
  });

  it('upstreamChecks reads the last program of a Makefile without a final newline', () => {
    const mk = join(tempDir(), 'Makefile');
    writeFileSync(mk, 'check: all\n\t./cipher\n\t./hmac');
    expect(upstreamChecks(mk)).toEqual(['cipher', 'hmac']);
  });

  it('debFileName escapes every colon as apt does', () => {
    expect(debFileName('x', '1:2.3:4-1', 'arm64')).toBe('x_1%3a2.3%3a4-1_arm64.deb');
  });

  it('a check line with only spaces after its status has no detail', () => {
    expect(parseSerialLog('ARMKIT:CHECK a pass   \n', ['a'], [])).toEqual([{ name: 'a', status: 'pass' }]);
  });
});
