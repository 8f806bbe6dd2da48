/**
 * docs/RELIABILITY.md stays honest: every test it names exists under that title in that file, its case numbers
 * run 1, 2, 3…, and its totals are the rows' own (at least 80 cases, as issue 11 asks).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');

interface Row {
  n: number;
  from: string;
  section: string;
  file: string;
  title: string;
}

/** The case rows by section, and the totals table. */
function parseReliability(text: string): { rows: Row[]; totals: Array<{ section: string; cases: number; issue: number; added: number }> } {
  const rows: Row[] = [];
  const totals: Array<{ section: string; cases: number; issue: number; added: number }> = [];
  let section = '';
  for (const line of text.split('\n')) {
    const heading = /^## (.+)$/.exec(line);
    if (heading) {
      section = heading[1]!;
      continue;
    }
    const row = /^\| (\d+) \| (issue|added) \| .+ \| `([^`]+)` › `([^`]+)` \|$/.exec(line);
    if (row) {
      rows.push({ n: Number(row[1]), from: row[2]!, section, file: row[3]!, title: row[4]! });
      continue;
    }
    const total = /^\| (.+?) \| (\d+) \| (\d+) \| (\d+) \|$/.exec(line.replace(/\*\*/g, ''));
    if (total && section === 'Totals') totals.push({ section: total[1]!, cases: Number(total[2]), issue: Number(total[3]), added: Number(total[4]) });
  }
  return { rows, totals };
}

/** What is wrong with the document: each named test that is not where it says, numbering, totals. */
function problems(text: string, root: string): string[] {
  const { rows, totals } = parseReliability(text);
  const found: string[] = [];
  rows.forEach((r, i) => {
    if (r.n !== i + 1) found.push(`case ${r.n} should be number ${i + 1}`);
    const path = join(root, r.file);
    if (!existsSync(path)) {
      found.push(`case ${r.n}: no file ${r.file}`);
      return;
    }
    const source = readFileSync(path, 'utf8');
    // The title as written in the source, quoted as a string of its own (a describe or test title).
    if (![`'${r.title}'`, `"${r.title}"`, `\`${r.title}\``].some((q) => source.includes(q))) found.push(`case ${r.n}: ${r.file} has no test "${r.title}"`);
  });
  const sections = [...new Set(rows.map((r) => r.section))];
  for (const section of sections) {
    const own = rows.filter((r) => r.section === section);
    const total = totals.find((t) => t.section === section);
    const issue = own.filter((r) => r.from === 'issue').length;
    if (!total) found.push(`no total for "${section}"`);
    else if (total.cases !== own.length || total.issue !== issue || total.added !== own.length - issue)
      found.push(`"${section}": totals say ${total.cases}/${total.issue}/${total.added}, the rows ${own.length}/${issue}/${own.length - issue}`);
  }
  const all = totals.find((t) => t.section === 'all');
  if (!all || all.cases !== rows.length) found.push(`the total of all cases is not ${rows.length}`);
  return found;
}

describe('docs/RELIABILITY.md', () => {
  const text = readFileSync(join(ROOT, 'docs/RELIABILITY.md'), 'utf8');

  it('names only tests that exist, under their titles, and its totals are its rows', () => {
    expect(problems(text, ROOT)).toEqual([]);
  });

  it('lists at least 80 cases, the issue’s own among them, in every class', () => {
    const { rows, totals } = parseReliability(text);
    expect(rows.length).toBeGreaterThanOrEqual(80);
    expect(rows.filter((r) => r.from === 'issue').length).toBeGreaterThanOrEqual(40);
    expect(totals.length).toBeGreaterThanOrEqual(10);
  });

  it('the check itself finds a renamed test, a missing file, a skipped number and a wrong total (so it can fail)', () => {
    const { rows } = parseReliability(text);
    const first = rows[0]!;
    const doctored = text
      .replace(`› \`${first.title}\``, '› `a test nobody wrote`')
      .replace(/\| 2 \| (issue|added) \| (.+) \| `[^`]+` ›/, '| 2 | $1 | $2 | `test/unit/no-such.test.ts` ›')
      .replace(/^\| 3 \|/m, '| 33 |')
      .replace(/^\| \*\*all\*\* \| \*\*\d+\*\*/m, '| **all** | **1**');
    const found = problems(doctored, ROOT);
    expect(found).toEqual(
      expect.arrayContaining([
        `case 1: ${first.file} has no test "a test nobody wrote"`,
        'case 2: no file test/unit/no-such.test.ts',
        'case 33 should be number 3',
        `the total of all cases is not ${rows.length}`,
      ]),
    );
  });
});
