/**
 * The guest's verdict, read from its serial log. QEMU's exit code says nothing about the guest, so /init prints
 * one `ARMKIT:CHECK <name> pass|fail [detail]` line per check; a check that never reports has failed.
 */
export type CheckStatus = 'pass' | 'fail' | 'skipped';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail?: string;
}

export function parseSerialLog(text: string, expected: string[], skipped: Array<{ name: string; reason: string }>): CheckResult[] {
  const reported = new Map<string, CheckResult>();
  for (const raw of text.split('\n')) {
    const m = /ARMKIT:CHECK (\S+) (pass|fail)(?: (.*))?$/.exec(raw.replace(/\r$/, ''));
    const detail = m?.[3]?.trim();
    if (m && !reported.has(m[1]!)) reported.set(m[1]!, { name: m[1]!, status: m[2] as CheckStatus, ...(detail ? { detail } : {}) });
  }
  const tail = text.replace(/\r/g, '').trimEnd().split('\n').slice(-5).join(' | ');
  const results: CheckResult[] = expected.map(
    (name) => reported.get(name) ?? { name, status: 'fail', detail: `the guest never reported it (last serial output: ${tail || 'none'})` },
  );
  for (const s of skipped) results.push({ name: s.name, status: 'skipped', detail: s.reason });
  return results;
}

export function summarize(results: CheckResult[]): string {
  const count = (s: CheckStatus) => results.filter((r) => r.status === s).length;
  return `${count('pass')} passed, ${count('fail')} failed, ${count('skipped')} could not run`;
}

export function formatResults(results: CheckResult[]): string[] {
  const width = Math.max(...results.map((r) => r.name.length));
  const label: Record<CheckStatus, string> = { pass: 'PASS', fail: 'FAIL', skipped: 'SKIP' };
  return results.map((r) => `  ${label[r.status]}  ${r.name.padEnd(width)}${r.detail ? `  ${r.detail}` : ''}`);
}
