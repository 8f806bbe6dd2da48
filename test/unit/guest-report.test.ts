import { describe, expect, it } from 'vitest';
import { type CheckResult, formatResults, parseSerialLog, summarize } from '../../src/guest/report.js';

describe('parseSerialLog', () => {
  it('reads pass/fail lines ending in \\r\\n and keeps their detail text', () => {
    const log = [
      'Booting Linux on physical CPU 0x0000000000 [0x411fd070]',
      'ARMKIT:BOOT 6.1.0-56-arm64 aarch64',
      'ARMKIT:CHECK kernel-release pass 6.1.0-56-arm64',
      'ARMKIT:CHECK modules-load pass cryptodev loaded from /etc/modules-load.d/cryptodev.conf',
      'ARMKIT:CHECK dev-crypto fail no /dev/crypto character device',
      'ARMKIT:CHECK unload pass',
      'ARMKIT:DONE',
      '',
    ].join('\r\n');
    expect(parseSerialLog(log, ['kernel-release', 'modules-load', 'dev-crypto', 'unload'], [])).toEqual([
      { name: 'kernel-release', status: 'pass', detail: '6.1.0-56-arm64' },
      { name: 'modules-load', status: 'pass', detail: 'cryptodev loaded from /etc/modules-load.d/cryptodev.conf' },
      { name: 'dev-crypto', status: 'fail', detail: 'no /dev/crypto character device' },
      { name: 'unload', status: 'pass' },
    ]);
  });

  it('has no detail key for a line without detail, also with \\r\\n', () => {
    const [result] = parseSerialLog('ARMKIT:CHECK unload pass\r\n', ['unload'], []);
    expect(result).toStrictEqual({ name: 'unload', status: 'pass' });
    expect(Object.keys(result!)).toEqual(['name', 'status']);
  });

  it('trims the detail text', () => {
    expect(parseSerialLog('ARMKIT:CHECK upstream-hmac fail exit 3: line2 line3 \r\n', ['upstream-hmac'], [])).toEqual([
      { name: 'upstream-hmac', status: 'fail', detail: 'exit 3: line2 line3' },
    ]);
  });

  it('returns results in the expected order, not the order of the log', () => {
    const log = 'ARMKIT:CHECK b pass\nARMKIT:CHECK a fail oops\n';
    expect(parseSerialLog(log, ['a', 'b'], [])).toEqual([
      { name: 'a', status: 'fail', detail: 'oops' },
      { name: 'b', status: 'pass' },
    ]);
  });

  it('keeps the first report of a name', () => {
    const log = [
      'ARMKIT:CHECK kat-sha256 fail digest mismatch',
      'ARMKIT:CHECK kat-sha256 pass',
      'ARMKIT:CHECK kernel-release pass 6.1.0-56-arm64',
      'ARMKIT:CHECK kernel-release fail second report',
    ].join('\n');
    expect(parseSerialLog(log, ['kernel-release', 'kat-sha256'], [])).toEqual([
      { name: 'kernel-release', status: 'pass', detail: '6.1.0-56-arm64' },
      { name: 'kat-sha256', status: 'fail', detail: 'digest mismatch' },
    ]);
  });

  it('finds the check inside other text on the line (kernel timestamp, console prefix)', () => {
    const log = [
      '[    3.141592] ARMKIT:CHECK dev-crypto pass crw-rw-rw- 1 0 0 10, 123 /dev/crypto',
      'console: ARMKIT:CHECK unload fail module unloaded but /dev/crypto remains',
    ].join('\n');
    expect(parseSerialLog(log, ['dev-crypto', 'unload'], [])).toEqual([
      { name: 'dev-crypto', status: 'pass', detail: 'crw-rw-rw- 1 0 0 10, 123 /dev/crypto' },
      { name: 'unload', status: 'fail', detail: 'module unloaded but /dev/crypto remains' },
    ]);
  });

  it('ignores lines that are not "ARMKIT:CHECK <name> pass|fail [detail]"', () => {
    const log = [
      'ARMKIT:CHECK a passed',
      'ARMKIT:CHECK b skipped not here',
      'ARMKIT:CHECK c',
      'ARMKIT:CHECKc pass',
      'armkit:check d pass',
      'ARMKIT:DMESG e pass',
      'ARMKIT:CHECK f PASS',
    ].join('\n');
    const results = parseSerialLog(log, ['a', 'b', 'c', 'd', 'e', 'f'], []);
    expect(results.map((r) => r.status)).toEqual(['fail', 'fail', 'fail', 'fail', 'fail', 'fail']);
    for (const r of results) expect(r.detail).toMatch(/^the guest never reported it/);
  });

  it('fails a check that never reports, naming the last five serial lines', () => {
    const log = [
      'line 1',
      'line 2',
      'ARMKIT:CHECK kernel-release pass 6.1.0-56-arm64',
      'line 4',
      'line 5',
      'line 6',
      'Kernel panic - not syncing: Attempted to kill init!',
      '',
      '',
    ].join('\r\n');
    expect(parseSerialLog(log, ['kernel-release', 'modules-load'], [])).toEqual([
      { name: 'kernel-release', status: 'pass', detail: '6.1.0-56-arm64' },
      {
        name: 'modules-load',
        status: 'fail',
        detail:
          'the guest never reported it (last serial output: ARMKIT:CHECK kernel-release pass 6.1.0-56-arm64 | line 4 | line 5 | line 6 | Kernel panic - not syncing: Attempted to kill init!)',
      },
    ]);
  });

  it('says "none" when the serial log is empty or blank', () => {
    const none = { name: 'kernel-release', status: 'fail', detail: 'the guest never reported it (last serial output: none)' };
    expect(parseSerialLog('', ['kernel-release'], [])).toEqual([none]);
    expect(parseSerialLog('\r\n\r\n  \n', ['kernel-release'], [])).toEqual([none]);
  });

  it('appends skipped checks with their reasons after the expected ones', () => {
    const log = 'ARMKIT:CHECK kernel-release pass 6.1.0-56-arm64\nARMKIT:CHECK unload pass removed, /dev/crypto gone\n';
    const skipped = [
      { name: 'kat-aes-128-cbc', reason: 'no real header' },
      { name: 'kat-sha256', reason: 'no real header' },
      { name: 'upstream-tests', reason: 'the source has no tests/' },
    ];
    expect(parseSerialLog(log, ['kernel-release', 'unload'], skipped)).toEqual([
      { name: 'kernel-release', status: 'pass', detail: '6.1.0-56-arm64' },
      { name: 'unload', status: 'pass', detail: 'removed, /dev/crypto gone' },
      { name: 'kat-aes-128-cbc', status: 'skipped', detail: 'no real header' },
      { name: 'kat-sha256', status: 'skipped', detail: 'no real header' },
      { name: 'upstream-tests', status: 'skipped', detail: 'the source has no tests/' },
    ]);
  });

  it('keeps a skipped entry skipped even when the guest reports that name', () => {
    const results = parseSerialLog('ARMKIT:CHECK upstream-tests pass\n', [], [{ name: 'upstream-tests', reason: 'not built' }]);
    expect(results).toEqual([{ name: 'upstream-tests', status: 'skipped', detail: 'not built' }]);
  });
});

describe('summarize', () => {
  const r = (name: string, status: CheckResult['status']): CheckResult => ({ name, status });

  it('counts passed, failed and could-not-run checks', () => {
    const results = [r('a', 'pass'), r('b', 'pass'), r('c', 'pass'), r('d', 'pass'), r('e', 'skipped'), r('f', 'skipped'), r('g', 'skipped')];
    expect(summarize(results)).toBe('4 passed, 0 failed, 3 could not run');
  });

  it('counts failures', () => {
    expect(summarize([r('a', 'fail'), r('b', 'pass'), r('c', 'fail')])).toBe('1 passed, 2 failed, 0 could not run');
    expect(summarize([])).toBe('0 passed, 0 failed, 0 could not run');
  });
});

describe('formatResults', () => {
  it('labels PASS/FAIL/SKIP and aligns details after the longest name', () => {
    const lines = formatResults([
      { name: 'kernel-release', status: 'pass', detail: '6.1.0-56-arm64' },
      { name: 'dev-crypto', status: 'fail', detail: 'no /dev/crypto character device' },
      { name: 'kat-aes-128-cbc', status: 'skipped', detail: 'no real header' },
      { name: 'unload', status: 'pass' },
    ]);
    expect(lines.slice(0, 3)).toEqual([
      '  PASS  kernel-release   6.1.0-56-arm64',
      '  FAIL  dev-crypto       no /dev/crypto character device',
      '  SKIP  kat-aes-128-cbc  no real header',
    ]);
    // No detail: nothing after the name (padding aside).
    expect(lines[3]!.trimEnd()).toBe('  PASS  unload');
    expect(lines).toHaveLength(4);
    // Every detail starts in the same column: two spaces after the longest name.
    const column = '  PASS  '.length + 'kat-aes-128-cbc'.length + 2;
    expect(lines[0]!.indexOf('6.1.0-56-arm64')).toBe(column);
    expect(lines[1]!.indexOf('no /dev/crypto')).toBe(column);
    expect(lines[2]!.indexOf('no real header')).toBe(column);
  });

  it('returns no lines for no results', () => {
    expect(formatResults([])).toEqual([]);
  });
});
