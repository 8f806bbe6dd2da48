/**
 * The bar chart of `armkit bench build`: one horizontal bar per mode, the best run's seconds (less is better),
 * labelled with the percent of the fastest; a mode that could not run keeps its row with the reason in a note.
 * The geometry is computed here (pure, tested) with bench crypto's scale and text helpers (chart.ts); the SVG is
 * written by templates/bench/build.svg.ejs.
 */
import { renderTemplate } from '../templates.js';
import type { BuildBenchReport } from './build-report.js';
import { hostLine, seconds } from './build-report.js';
import { niceScale, type Tick, wrap, xmlText } from './chart.js';

export interface ModeBar {
  mode: string;
  y: number;
  /** Absent for a mode without figures: `note` says why instead. */
  bar?: { x: number; width: number; label: string; title: string };
  note?: string;
}

export interface BuildChartModel {
  width: number;
  height: number;
  title: string;
  subtitle: string;
  plot: { left: number; top: number; width: number; height: number };
  barHeight: number;
  ticks: Array<Tick & { x: number }>;
  rows: ModeBar[];
  xLabel: string;
  footnotes: string[];
  fill: string;
}

const WIDTH = 760;
const LEFT = 96;
const RIGHT = 150;
const BAR = 26;
const GAP = 16;
const TOP = 70;

export function buildChartModel(report: BuildBenchReport): BuildChartModel {
  const plot = { left: LEFT, top: TOP, width: WIDTH - LEFT - RIGHT, height: report.modes.length * (BAR + GAP) + GAP };
  const max = Math.max(0, ...report.modes.map((m) => m.seconds ?? 0));
  const scale = niceScale(max);
  const xOf = (s: number) => plot.left + (s / scale.max) * plot.width;
  const ticks: Array<Tick & { x: number }> = [];
  for (let v = 0; v <= scale.max + scale.step / 1000; v += scale.step) {
    ticks.push({ x: xOf(v), y: plot.top + plot.height, label: scale.step >= 1 ? v.toFixed(0) : v.toFixed(Math.min(3, Math.ceil(-Math.log10(scale.step)))) });
  }
  const rows = report.modes.map((m, k): ModeBar => {
    const y = plot.top + GAP + k * (BAR + GAP);
    if (m.status !== 'measured') return { mode: m.mode, y, note: m.status === 'unable' ? 'cannot run here (see note)' : 'failed (see note)' };
    const pct = `${m.percentOfFastest!.toFixed(0)}%`;
    return {
      mode: m.mode,
      y,
      bar: {
        x: plot.left,
        width: Math.max(1, xOf(m.seconds!) - plot.left),
        label: `${seconds(m.seconds!)} s (${pct})`,
        title: `${m.mode}: best of ${m.runs!.length} ${seconds(m.seconds!)} s, ${pct} of the fastest; ${m.how}`,
      },
    };
  });
  const notes = [
    `host: ${hostLine(report.host)}`,
    `timed: ${report.build}, best of ${report.runs} after ${report.warmup} warm-up run${report.warmup === 1 ? '' : 's'}`,
    ...report.modes.filter((m) => m.status === 'measured').map((m) => `${m.mode}: ${m.how}`),
    ...report.modes.filter((m) => m.status !== 'measured').map((m) => `${m.mode}: ${m.status === 'unable' ? 'cannot run here' : 'failed'}: ${m.reason}`),
  ];
  const footnotes = notes.flatMap((f) => wrap(f, Math.floor(WIDTH / 6.2)));
  const height = plot.top + plot.height + 46 + footnotes.length * 14 + 6;
  return {
    width: WIDTH,
    height,
    title: `armkit bench build: ${report.recipe} ${report.version} for ${report.arch}`,
    subtitle: `against Linux ${report.kernel}; seconds of the best run, percent of the fastest mode (less is better)`,
    plot,
    barHeight: BAR,
    ticks,
    rows,
    xLabel: 'seconds (wall time of the module build)',
    footnotes,
    fill: '#4e79a7',
  };
}

const n = (x: number) => Number(x.toFixed(2));

export function renderBuildChart(report: BuildBenchReport): string {
  return renderTemplate('bench/build.svg.ejs', { chart: buildChartModel(report), x: xmlText, n });
}
