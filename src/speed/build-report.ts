/**
 * The report of `armkit bench build`: per mode the best of N runs in seconds and as a percent of the fastest
 * mode, every run's time, or exactly why the mode could not run (or failed) here; with the host the figures were
 * measured on. Pure: the terminal table and the JSON come from it, and the chart (build-chart.ts).
 */
import type { BuildMode } from '../plan/bench-build.js';
import type { BuildTimes } from './build-steps.js';

export interface HostFacts {
  cpu: string;
  cores: number;
  memoryGiB: number;
  machine: string;
  kernel: string;
}

export type ModeOutcome =
  | { mode: BuildMode; how: string; times: BuildTimes }
  | { mode: BuildMode; unable: string }
  | { mode: BuildMode; how: string; failed: string };

export interface ModeFigure {
  mode: BuildMode;
  status: 'measured' | 'unable' | 'failed';
  /** How the mode builds: which compiler, where. */
  how?: string;
  /** The best (shortest) timed run. */
  seconds?: number;
  /** seconds as a percent of the fastest mode's (100 for the fastest). */
  percentOfFastest?: number;
  runs?: number[];
  warmup?: number[];
  /** Why the mode could not run here, or how it failed. */
  reason?: string;
}

export interface BuildBenchReport {
  schema: 'armkit.bench.build/1';
  recipe: string;
  version: string;
  arch: string;
  kernel: string;
  /** The make command timed (as the kmod spec's %build runs it). */
  build: string;
  runs: number;
  warmup: number;
  host: HostFacts;
  fastest?: BuildMode;
  modes: ModeFigure[];
}

export interface ReportFacts {
  recipe: string;
  version: string;
  arch: string;
  kernel: string;
  build: string;
  runs: number;
  warmup: number;
  host: HostFacts;
}

export function buildBenchReport(facts: ReportFacts, outcomes: ModeOutcome[]): BuildBenchReport {
  const best = (t: BuildTimes) => Math.min(...t.runs);
  const measured = outcomes.filter((o): o is Extract<ModeOutcome, { times: BuildTimes }> => 'times' in o && o.times.runs.length > 0);
  const fastest = measured.length ? measured.reduce((a, b) => (best(b.times) < best(a.times) ? b : a)) : undefined;
  const modes = outcomes.map((o): ModeFigure => {
    if ('unable' in o) return { mode: o.mode, status: 'unable', reason: o.unable };
    if ('failed' in o) return { mode: o.mode, status: 'failed', how: o.how, reason: o.failed };
    const seconds = best(o.times);
    return {
      mode: o.mode,
      status: 'measured',
      how: o.how,
      seconds,
      // To a tenth of a percent: (100 * s) / s is not always 100 in floating point (99.99999999999999).
      percentOfFastest: Math.round((1000 * seconds) / best(fastest!.times)) / 10,
      runs: o.times.runs,
      warmup: o.times.warmup,
    };
  });
  return { schema: 'armkit.bench.build/1', ...facts, ...(fastest ? { fastest: fastest.mode } : {}), modes };
}

export const seconds = (s: number) => (s < 10 ? s.toFixed(2) : s < 100 ? s.toFixed(1) : s.toFixed(0));

export function hostLine(h: HostFacts): string {
  return `${h.cpu}, ${h.cores} cores, ${h.memoryGiB.toFixed(1)} GiB, ${h.machine}, Linux ${h.kernel}`;
}

/** The table on the terminal: one row per mode, the reason beneath a mode that did not run. */
export function buildBenchTable(report: BuildBenchReport): string[] {
  const lines = [
    `armkit bench build: ${report.recipe} ${report.version} for ${report.arch} against Linux ${report.kernel}`,
    `  timed: ${report.build} (best of ${report.runs}, after ${report.warmup} warm-up run${report.warmup === 1 ? '' : 's'})`,
    `  host:  ${hostLine(report.host)}`,
    '',
    `  ${'mode'.padEnd(9)} ${'seconds'.padStart(8)} ${'of fastest'.padStart(11)}  ${'runs (s)'.padEnd(22)} how`,
  ];
  for (const m of report.modes) {
    if (m.status === 'measured') {
      lines.push(
        `  ${m.mode.padEnd(9)} ${seconds(m.seconds!).padStart(8)} ${`${m.percentOfFastest!.toFixed(0)}%`.padStart(11)}  ${m.runs!.map(seconds).join(' ').padEnd(22)} ${m.how}`,
      );
    } else {
      lines.push(`  ${m.mode.padEnd(9)} ${'-'.padStart(8)} ${'-'.padStart(11)}  ${m.status === 'unable' ? 'cannot run here' : 'FAILED'}: ${m.reason}`);
    }
  }
  return lines;
}
