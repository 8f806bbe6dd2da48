/**
 * armkit bench crypto: what a crypto engine gains, from saved `openssl speed` outputs (--parse, --compare) or
 * measured here (commands/bench-crypto-run.ts). One report (src/speed/report.ts) printed as a table, JSON,
 * Markdown and an SVG chart.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { usageError } from '../errors.js';
import { renderChart } from '../speed/chart.js';
import { markdown, terminalTable } from '../speed/format.js';
import { parseSpeedOutput, type SpeedRun } from '../speed/parse.js';
import { assignRoles, buildReport, type CryptoReport, type Role, type RunInput } from '../speed/report.js';
import type { BenchCryptoOptions } from './bench-options.js';
import type { Env } from './kmod-input.js';
import { info, printJson } from './output.js';

export type { BenchCryptoOptions };

/** `FILE`, or `ROLE=FILE` / `LABEL=FILE` (software=, engine=, or a label of your own for another run). */
export function splitLabel(arg: string): { file: string; label?: string; role?: Role } {
  const m = /^([A-Za-z][\w.+-]*)=(.+)$/.exec(arg);
  if (!m || existsSync(arg)) return { file: arg };
  const name = m[1]!;
  if (name === 'software' || name === 'engine') return { file: m[2]!, role: name };
  return { file: m[2]!, label: name, role: 'other' };
}

const labelOf = (file: string) => basename(file).replace(/\.(txt|log|out)$/, '');

export function readRuns(args: string[]): Array<{ label: string; run: SpeedRun; given?: Role }> {
  const items: Array<{ label: string; run: SpeedRun; given?: Role }> = [];
  for (const arg of args) {
    const { file, label, role } = splitLabel(arg);
    if (!existsSync(file)) throw usageError(`${file}: no such file (expected a saved "openssl speed" output).`);
    const runs = parseSpeedOutput(readFileSync(file, 'utf8'), file);
    runs.forEach((run, k) => {
      const base = label ?? labelOf(file);
      items.push({ label: runs.length > 1 ? `${base}#${k + 1}` : base, run, ...(role ? { given: role } : {}) });
    });
  }
  const seen = new Set<string>();
  for (const item of items) {
    if (seen.has(item.label)) throw usageError(`Two runs are labelled ${item.label}: give them labels of their own (LABEL=FILE).`);
    seen.add(item.label);
  }
  for (const role of ['software', 'engine'] as const) {
    if (items.filter((i) => i.given === role).length > 1) throw usageError(`Only one run can be the ${role} run (${role}=FILE).`);
  }
  return items;
}

/** The report from saved outputs: --parse reads each on its own, --compare sets them against each other. */
export function savedReport(options: Pick<BenchCryptoOptions, 'parse' | 'compare'>): CryptoReport {
  if (options.compare?.length) {
    const inputs = assignRoles(readRuns(options.compare));
    if (!inputs.some((i) => i.role === 'software') && !inputs.some((i) => i.role === 'engine')) {
      throw usageError('--compare needs a software run or an engine run to compare against: label one (software=FILE or engine=FILE).');
    }
    return buildReport(inputs, { mode: 'compare' });
  }
  const inputs: RunInput[] = readRuns(options.parse ?? []).map((i) => ({ label: i.label, role: 'other', roleFrom: 'default', run: i.run }));
  return buildReport(inputs, { mode: 'parse' });
}

/** Prints the report the ways asked for: the table on stderr (stdout for the product), JSON, Markdown, the chart. */
export function emitReport(report: CryptoReport, options: Pick<BenchCryptoOptions, 'json' | 'markdown' | 'chart'>): void {
  if (options.chart) {
    const file = resolve(options.chart);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, renderChart(report));
  }
  if (options.json) printJson({ ok: true, ...report, ...(options.chart ? { chart: resolve(options.chart) } : {}) });
  else if (options.markdown) process.stdout.write(markdown(report));
  else process.stdout.write(`${terminalTable(report).join('\n')}\n`);
  if (options.chart && !options.json) info(`armkit: chart written to ${resolve(options.chart)}`);
}

export async function benchCryptoCommand(options: BenchCryptoOptions, env: Env, signal?: AbortSignal): Promise<CryptoReport | undefined> {
  if (options.parse?.length && options.compare?.length) throw usageError('--parse and --compare are two ways to read saved outputs: use one.');
  const saved = Boolean(options.parse?.length || options.compare?.length);
  if (options.json && options.markdown) throw usageError('--json and --markdown both print on stdout: use one (--chart writes a file and goes with either).');
  if (options.chart && !options.chart.endsWith('.svg')) throw usageError(`--chart ${options.chart}: the chart is an SVG file (FILE.svg).`);
  if (saved) {
    for (const flag of ['openssl', 'engine', 'algo', 'seconds', 'guest'] as const) {
      if (options[flag] !== undefined) throw usageError(`--${flag} is for measuring; with --parse or --compare the figures come from the files.`);
    }
    const report = savedReport(options);
    emitReport(report, options);
    return report;
  }
  const { measureCrypto } = await import('./bench-crypto-run.js');
  const report = await measureCrypto(options, env, signal);
  if (report) emitReport(report, options);
  return report;
}
