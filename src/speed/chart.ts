/**
 * The bar chart of a crypto report: software / engine / combined (and any other run) per block size, MB/s over
 * wall time, one panel per algorithm. This module computes the geometry (pure, tested); the SVG itself is written
 * by the EJS template templates/bench/crypto.svg.ejs, which XML-escapes every text it prints.
 */
import { renderTemplate } from '../templates.js';
import { MB, mbps, size } from './format.js';
import type { CryptoReport } from './report.js';

export interface Bar {
  series: number;
  x: number;
  y: number;
  width: number;
  height: number;
  /** Printed above the bar, and its tooltip. */
  label: string;
  title: string;
}

export interface Tick {
  y: number;
  label: string;
}

export interface Panel {
  title: string;
  subtitle: string;
  top: number;
  plot: { left: number; top: number; width: number; height: number };
  ticks: Tick[];
  groups: Array<{ x: number; label: string }>;
  bars: Bar[];
}

export interface Series {
  name: string;
  fill: string;
  /** Estimated figures are drawn hatched. */
  hatched: boolean;
}

export interface ChartModel {
  width: number;
  height: number;
  title: string;
  series: Series[];
  panels: Panel[];
  yLabel: string;
  xLabel: string;
  footnotes: string[];
}

const COLOURS = ['#4e79a7', '#f28e2b', '#59a14f', '#76b7b2', '#e15759', '#b07aa1', '#edc948', '#9c755f'];
const BAR = 22;
const GAP = 22;
const LEFT = 78;
const RIGHT = 24;
const PLOT_HEIGHT = 220;
const PANEL_HEIGHT = PLOT_HEIGHT + 96;
const HEAD = 74;

/** A round axis maximum and step: 1, 2, 2.5 or 5 times a power of ten, four or five steps. */
export function niceScale(max: number): { max: number; step: number } {
  if (!(max > 0)) return { max: 1, step: 0.25 };
  const raw = max / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s * 4 >= max) ?? 10 * power;
  const clean = (x: number) => Number(x.toPrecision(12));
  return { max: clean(Math.ceil(max / step - 1e-9) * step), step: clean(step) };
}

const tickLabel = (v: number, step: number) => (step >= 1 ? v.toFixed(0) : v.toFixed(Math.min(3, Math.ceil(-Math.log10(step)))));

export function chartModel(report: CryptoReport): ChartModel {
  const series: Array<Series & { value: (row: CryptoReport['algorithms'][number]['rows'][number]) => number | undefined }> = [];
  const wall = (label: string) => (row: CryptoReport['algorithms'][number]['rows'][number]) => {
    const f = row.figures[label];
    return f && f.basis === 'wall' ? f.bytesPerSecond : undefined;
  };
  const ordered = [
    ...report.runs.filter((r) => r.role === 'software'),
    ...report.runs.filter((r) => r.role === 'engine'),
    ...report.runs.filter((r) => r.role === 'other'),
  ];
  const roleName = (r: (typeof ordered)[number]) =>
    r.role === 'software'
      ? `software (${r.label})`
      : r.role === 'engine'
        ? `engine (${r.label})${r.offload?.status === 'not-offload' ? ': not offload' : r.offload?.status === 'unproven' ? ', offload unproven' : ''}`
        : r.label;
  for (const r of ordered.filter((x) => x.role !== 'other')) series.push({ name: roleName(r), fill: '', hatched: false, value: wall(r.label) });
  const combined = report.algorithms.flatMap((a) => a.rows).find((r) => r.combined)?.combined;
  if (combined) {
    series.push({
      name: `combined (${combined.how === 'estimated' ? 'estimated: sum of the separate runs' : 'measured: both at once'})`,
      fill: '',
      hatched: combined.how === 'estimated',
      value: (row) => row.combined?.bytesPerSecond,
    });
  }
  for (const r of ordered.filter((x) => x.role === 'other')) series.push({ name: roleName(r), fill: '', hatched: false, value: wall(r.label) });
  series.forEach((s, k) => {
    s.fill = COLOURS[k % COLOURS.length]!;
  });

  const groupWidth = series.length * BAR + GAP;
  const maxGroups = Math.max(1, ...report.algorithms.map((a) => a.rows.length));
  const plotWidth = Math.max(maxGroups * groupWidth, 360);
  const width = LEFT + plotWidth + RIGHT;
  const legendRows = series.length;
  const head = HEAD + legendRows * 16;
  const panels: Panel[] = report.algorithms.map((a, p) => {
    const top = head + p * PANEL_HEIGHT;
    const plot = { left: LEFT, top: top + 28, width: plotWidth, height: PLOT_HEIGHT };
    const values = a.rows.flatMap((row) => series.map((s) => s.value(row) ?? 0));
    const scale = niceScale(Math.max(0, ...values) / MB);
    const yOf = (mb: number) => plot.top + plot.height - (mb / scale.max) * plot.height;
    const ticks: Tick[] = [];
    for (let v = 0; v <= scale.max + scale.step / 1000; v += scale.step) ticks.push({ y: yOf(v), label: tickLabel(v, scale.step) });
    const offset = (plotWidth - a.rows.length * groupWidth) / 2;
    const groups = a.rows.map((row, g) => ({ x: plot.left + offset + g * groupWidth + GAP / 2 + (series.length * BAR) / 2, label: size(row.blockSize) }));
    const bars: Bar[] = [];
    a.rows.forEach((row, g) => {
      series.forEach((s, k) => {
        const v = s.value(row);
        if (v === undefined) return;
        const y = yOf(v / MB);
        bars.push({
          series: k,
          x: plot.left + offset + g * groupWidth + GAP / 2 + k * BAR,
          y,
          width: BAR - 2,
          height: plot.top + plot.height - y,
          label: mbps(v),
          title: `${s.name}, ${size(row.blockSize)} blocks: ${mbps(v)} MB/s`,
        });
      });
    });
    const skipped = report.runs.filter((r) => a.rows.some((row) => row.figures[r.label]?.basis === 'cpu-second')).map((r) => r.label);
    return {
      title: a.name,
      subtitle: `throughput over wall time${skipped.length ? `; not drawn (figures per CPU second only): ${skipped.join(', ')}` : ''}`,
      top,
      plot,
      ticks,
      groups,
      bars,
    };
  });
  const footnotes = [
    ...(report.environment ? [report.environment] : []),
    ...(combined?.how === 'estimated' ? ['combined: estimated by adding the separate software and engine runs (hatched)'] : []),
    ...report.runs
      .filter((r) => r.role === 'engine' && r.offload && r.offload.status !== 'offload')
      .map((r) => `${r.label}: ${r.offload!.status === 'not-offload' ? 'NOT offload' : 'offload unproven'}: ${r.offload!.reason}`),
  ];
  const lines = footnotes.flatMap((f) => wrap(f, Math.floor(width / 6.2)));
  const height = head + panels.length * PANEL_HEIGHT + lines.length * 14 + 10;
  return {
    width,
    height,
    title: 'openssl speed',
    series: series.map(({ name, fill, hatched }) => ({ name, fill, hatched })),
    panels,
    yLabel: 'MB/s (10⁶ bytes per second, wall time)',
    xLabel: 'block size',
    footnotes: lines,
  };
}

/** Breaks a note into lines of at most `max` characters at spaces (SVG text does not wrap). */
export function wrap(text: string, max: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > max) {
      out.push(line);
      line = `  ${word}`;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}

/** Text for an XML document: the five characters XML gives meaning to, escaped. */
export function xmlText(value: unknown): string {
  return String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const n = (x: number) => Number(x.toFixed(2));

export function renderChart(report: CryptoReport): string {
  return renderTemplate('bench/crypto.svg.ejs', { chart: chartModel(report), x: xmlText, n });
}
