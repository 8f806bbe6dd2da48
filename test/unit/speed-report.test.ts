/**
 * The report of `armkit bench crypto --compare`: the brief's published figures from its three seed outputs, wall
 * time whatever openssl divided by, engines that fell back never shown as offload, the Markdown and the SVG chart.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRuns, savedReport } from '../../src/commands/bench.js';
import { chartModel, niceScale, renderChart } from '../../src/speed/chart.js';
import { markdown, percent, terminalTable } from '../../src/speed/format.js';
import { parseSpeedOutput } from '../../src/speed/parse.js';
import { assignRoles, buildReport, type CryptoReport, type Row } from '../../src/speed/report.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CORPUS = resolve(ROOT, '../shared/fixtures/speed');
const OWN = join(ROOT, 'test/fixtures/speed');
const haveCorpus = existsSync(CORPUS);
const seed = (name: string) => join(CORPUS, `seed-${name}.txt`);
const rowAt = (report: CryptoReport, size: number): Row => report.algorithms[0]!.rows.find((r) => r.blockSize === size)!;

/** A small XML well-formedness check: every tag closed in order, attributes quoted, only the five entities. */
function wellFormedXml(text: string): void {
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

describe.skipIf(!haveCorpus)(`the brief's seed outputs${haveCorpus ? '' : ` (skipped: ${CORPUS} is absent)`}`, () => {
  const report = () =>
    savedReport({
      compare: [seed('kirkwood-openssl-1.0.0-software'), seed('kirkwood-openssl-1.0.0-cryptodev'), `atom=${seed('atom-n450-openssl-1.0.0-software')}`],
    });

  it('takes the Kirkwood runs as software and engine (the engine from its CPU time) and the Atom as another run', () => {
    const r = report();
    expect(r.runs.map((x) => [x.label, x.role, x.roleFrom])).toEqual([
      ['seed-kirkwood-openssl-1.0.0-software', 'software', 'default'],
      ['seed-kirkwood-openssl-1.0.0-cryptodev', 'engine', 'cpu-time'],
      ['atom', 'other', 'given'],
    ]);
  });

  it('with cryptodev, 1 KB blocks are 23% faster and 8 KB blocks 1.97 times', () => {
    const r = report();
    expect(rowAt(r, 1024).engine!.gainPercent).toBeCloseTo(22.79, 2);
    expect(percent(rowAt(r, 1024).engine!.gainPercent)).toBe('+23%');
    expect(rowAt(r, 8192).engine!.ratio.toFixed(2)).toBe('1.97');
  });

  it('the Atom is 82% faster than the Kirkwood engine at 1 KB and 12% at 8 KB', () => {
    const r = report();
    expect(percent(rowAt(r, 1024).versus[0]!.vsEnginePercent!)).toBe('+82%');
    expect(percent(rowAt(r, 8192).versus[0]!.vsEnginePercent!)).toBe('+12%');
  });

  it('software and engine combined give 74281 (1 KB) and 12398 (8 KB) blocks: level with the Atom at 1 KB, 34% ahead at 8 KB', () => {
    const r = report();
    expect(rowAt(r, 1024).combined).toMatchObject({ how: 'estimated', count: 74281, seconds: 3 });
    expect(rowAt(r, 8192).combined).toMatchObject({ how: 'estimated', count: 12398, seconds: 3 });
    expect(percent(rowAt(r, 1024).versus[0]!.combinedVsPercent!, { level: true })).toBe('-0.3% (level)');
    expect(percent(rowAt(r, 8192).versus[0]!.combinedVsPercent!)).toBe('+34%');
    expect(r.combinedHow).toMatch(/^estimated from the separate runs/);
  });

  it('measures over wall time, not per CPU second: the engine’s 0.00 s of CPU at 8 KB gives 2742 ops/s, not infinity', () => {
    const e = rowAt(report(), 8192).figures['seed-kirkwood-openssl-1.0.0-cryptodev']!;
    expect(e).toMatchObject({ count: 8227, wallSeconds: 3, cpuSeconds: 0, cpuKind: 'user', basis: 'wall' });
    expect(e.opsPerSecond).toBeCloseTo(2742.33, 2);
    expect(Number.isFinite(e.bytesPerSecond)).toBe(true);
    // The Atom's 2.99 s of CPU is not its wall time either: 9245 blocks in the 3 s run, not in 2.99 s.
    expect(rowAt(report(), 8192).figures.atom!.opsPerSecond).toBeCloseTo(9245 / 3, 6);
    expect(rowAt(report(), 1024).engine!.cpuFreedPercent!).toBeCloseTo(99.73, 1);
  });

  it('says the offload is unproven from a saved output, and why', () => {
    const engine = report().runs[1]!;
    expect(engine.offload).toMatchObject({ status: 'unproven' });
    expect(engine.offload!.reason).toContain('a kernel software driver behind /dev/crypto looks the same as hardware');
  });

  it('prints the figures in the table, the Markdown and the chart', () => {
    const r = report();
    const table = terminalTable(r).join('\n');
    expect(table).toMatch(/1 KB .*\+23% \(1\.23×\).*= 74281 blocks in 3 s.*\+82% vs engine, combined -0\.3% \(level\)/);
    expect(table).toMatch(/8 KB .*\+97% \(1\.97×\).*= 12398 blocks in 3 s.*\+12% vs engine, combined \+34%/);
    const md = markdown(r);
    expect(md).toContain('| block | software | engine [offload unproven] | engine gain | CPU freed | combined (estimated) | atom | atom vs |');
    expect(md).toMatch(
      /^\| 1 KB \| .* \| \+23% \(1\.23×\) \| 99\.7% \| .*= 74281 blocks in 3 s \| .* \| \+124% vs software, \+82% vs engine, combined -0\.3% \(level\) \|$/m,
    );
    const svg = renderChart(r);
    wellFormedXml(svg);
    // 5 block sizes × (software, engine, combined, atom)
    expect(svg.match(/<rect class="bar"/g)).toHaveLength(20);
    expect(svg).toContain('combined (estimated: sum of the separate runs)');
    expect(svg).toContain('<pattern id="hatch-2"');
  });
});

describe('engines that did not do the work', () => {
  const own = (f: string) => join(OWN, f);

  it('an "Invalid engine" run labelled as the engine is NOT offload, and no combined figure is made of it', () => {
    const r = savedReport({
      compare: [`software=${own('openssl-3.0.19-padlock-engine-set.txt')}`, `engine=${own('openssl-3.0.19-afalg-invalid-engine.txt')}`],
    });
    const engine = r.runs.find((x) => x.role === 'engine')!;
    expect(engine.offload).toMatchObject({ status: 'not-offload' });
    expect(engine.offload!.reason).toBe('the engine failed and openssl went on in software: Invalid engine "afalg"');
    expect(rowAt(r, 1024).combined).toBeUndefined();
    expect(r.combinedWithheld).toMatch(/^no combined figure: the engine run is not offload/);
    const table = terminalTable(r).join('\n');
    expect(table).toContain('engine [NOT offload]');
    expect(table).toContain('engine run vs software');
    expect(table).not.toContain('engine gain');
    expect(renderChart(r)).toContain('NOT offload');
  });

  it('an engine "set" while openssl’s own user time fills the run is NOT offload (padlock on a CPU without PadLock)', () => {
    const [padlock] = readRuns([own('openssl-3.0.19-padlock-engine-set.txt')]);
    const r = buildReport([{ label: 'padlock', role: 'engine', roleFrom: 'given', run: padlock!.run }], { mode: 'compare' });
    expect(r.runs[0]!.offload!.status).toBe('not-offload');
    expect(r.runs[0]!.offload!.reason).toMatch(/^openssl itself used \d+% of a CPU in user time at 1024 bytes: the cipher ran in openssl's software/);
  });

  it.skipIf(!haveCorpus)('a devcrypto build that could not open /dev/crypto counts as software when its role is not given', () => {
    const [zynq] = readRuns([join(CORPUS, 'zynq-aes-openssl-1.1.1a-software-elapsed-could-not-open-dev-crypto.txt')]);
    expect(assignRoles([zynq!])[0]).toMatchObject({ role: 'software', roleFrom: 'engine-line' });
  });
});

describe('figures over wall time whatever openssl divided by', () => {
  it.skipIf(!haveCorpus)('3.2 infk engine against its software run: compared by counts over the 3 s', () => {
    const r = savedReport({
      compare: [join(CORPUS, 'ti-sdk-dthev2-am62l-openssl-3.2.3-software.txt'), join(CORPUS, 'ti-sdk-dthev2-am62l-openssl-3.2.3-devcrypto.txt')],
    });
    expect(r.runs.map((x) => x.role)).toEqual(['software', 'engine']);
    const row = rowAt(r, 16384);
    expect(row.engine!.ratio).toBeCloseTo(18701 / 171986, 6);
    expect(row.figures['ti-sdk-dthev2-am62l-openssl-3.2.3-devcrypto']!.opensslBytesPerSecond).toBeNull();
  });

  it('-elapsed runs: the measured seconds are wall seconds, CPU time unknown', () => {
    const r = savedReport({ parse: [join(OWN, 'openssl-3.0.19-x86_64-elapsed.txt')] });
    const f = rowAt(r, 1024).figures['openssl-3.0.19-x86_64-elapsed']!;
    expect(f).toMatchObject({ wallSeconds: 1, basis: 'wall' });
    expect(f.cpuSeconds).toBeUndefined();
    expect(f.opsPerSecond).toBe(916442);
  });

  it('a table without counts and without -elapsed is per CPU second: labelled, not drawn, not compared', () => {
    const r = savedReport({ compare: [`software=${join(OWN, 'table-only-cpu-1.1.1.txt')}`, `engine=${join(OWN, 'openssl-3.0.19-x86_64-elapsed.txt')}`] });
    expect(rowAt(r, 1024).figures['table-only-cpu-1.1.1']!.basis).toBe('cpu-second');
    expect(rowAt(r, 1024).engine).toBeUndefined();
    expect(r.notes[0]).toMatch(/^table-only-cpu-1\.1\.1: the output has openssl's table but not its Doing lines/);
    const model = chartModel(r);
    expect(model.panels[0]!.subtitle).toContain('not drawn (figures per CPU second only): table-only-cpu-1.1.1');
    expect(model.panels[0]!.bars.every((b) => b.series === 1)).toBe(true);
  });

  it('a measured combined figure adds the two runs made at the same time', () => {
    const run = (count: number, engine?: string) =>
      parseSpeedOutput(
        `${engine ? `Engine "${engine}" set.\n` : ''}Doing AES-128-CBC ops for 3s on 1024 size blocks: ${count} AES-128-CBC ops in 3.00s\n`,
        'x',
      )[0]!;
    const r = buildReport(
      [
        { label: 'sw', role: 'software', roleFrom: 'measured', run: run(3000) },
        { label: 'hw', role: 'engine', roleFrom: 'measured', run: run(6000, 'devcrypto'), offload: { status: 'offload', reason: 'test', evidence: [] } },
      ],
      { mode: 'measure', combined: { software: run(2400), engine: run(5400, 'devcrypto') } },
    );
    expect(rowAt(r, 1024).combined).toEqual({ how: 'measured', opsPerSecond: 2600, bytesPerSecond: 2600 * 1024, count: 7800, seconds: 3 });
    expect(r.combinedHow).toMatch(/^measured: software and engine runs at the same time/);
    expect(terminalTable(r).join('\n')).toContain('engine [offload]');
  });
});

describe('the chart', () => {
  it('escapes every text it prints, and its bars are as tall as their values', () => {
    const run = parseSpeedOutput(
      "Doing md5 for 3s on 16 size blocks: 3000000 md5's in 3.00s\nDoing md5 for 3s on 64 size blocks: 1500000 md5's in 3.00s\n",
      'x',
    )[0]!;
    const r = buildReport([{ label: 'a<b & "c"', role: 'other', roleFrom: 'default', run }], { mode: 'parse' });
    const svg = renderChart(r);
    wellFormedXml(svg);
    expect(svg).toContain('a&lt;b &amp; &quot;c&quot;');
    const bars = chartModel(r).panels[0]!.bars;
    // 16 MB/s and 32 MB/s: the second bar twice the first.
    expect(bars.map((b) => b.label)).toEqual(['16.0', '32.0']);
    expect(bars[1]!.height / bars[0]!.height).toBeCloseTo(2, 6);
  });
  it('rounds its axis to 1, 2, 2.5 or 5 times a power of ten', () => {
    expect(niceScale(33.9)).toEqual({ max: 40, step: 10 });
    expect(niceScale(0.45)).toEqual({ max: 0.6, step: 0.2 });
    expect(niceScale(1436)).toEqual({ max: 1500, step: 500 });
  });
  it('is rendered by the template, not by code', () => {
    expect(readFileSync(join(ROOT, 'templates/bench/crypto.svg.ejs'), 'utf8')).toContain('<rect class="bar"');
  });
});
