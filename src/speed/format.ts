/** The report as a terminal table and as Markdown: the same columns, the same words. Pure. */
import type { AlgorithmReport, CryptoReport, Figure, Row, RunSummary } from './report.js';

export const MB = 1e6;

/** `24760`, `1.4M` is not used: whole operations per second read best in a table. */
export const ops = (x: number) => (x >= 100 ? Math.round(x).toString() : x.toPrecision(3));
export const mbps = (bytes: number) => {
  const v = bytes / MB;
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toPrecision(2);
};
/** A change in percent: `+23%`, `-0.3%`; "level" within one percent. */
export function percent(p: number, { level = false } = {}): string {
  const text = Math.abs(p) < 9.95 ? `${p >= 0 ? '+' : ''}${p.toFixed(1)}%` : `${p >= 0 ? '+' : ''}${p.toFixed(0)}%`;
  return level && Math.abs(p) < 1 ? `${text} (level)` : text;
}
export const ratio = (r: number) => `${r.toFixed(2)}×`;
export const size = (bytes: number) => (bytes >= 1024 && bytes % 1024 === 0 ? `${bytes / 1024} KB` : `${bytes} B`);

function cpu(f: Figure): string {
  if (f.cpuSeconds === undefined) return '';
  return ` ${f.cpuKind === 'user' ? 'user' : 'cpu'} ${f.cpuSeconds.toFixed(2)}s`;
}

export function figureText(f: Figure | undefined): string {
  if (!f) return '-';
  const per = f.basis === 'cpu-second' ? ' per CPU-s' : '';
  return `${ops(f.opsPerSecond)}/s ${mbps(f.bytesPerSecond)}MB/s${per}${cpu(f)}`;
}

function offloadLabel(r: RunSummary): string {
  if (r.role !== 'engine' || !r.offload) return '';
  return r.offload.status === 'offload' ? ' [offload]' : r.offload.status === 'not-offload' ? ' [NOT offload]' : ' [offload unproven]';
}

export function runHeading(r: RunSummary): string {
  return `${r.role === 'other' ? r.label : r.role}${offloadLabel(r)}`;
}

interface Column {
  head: string;
  cell(row: Row): string;
}

function columns(report: CryptoReport): Column[] {
  const cols: Column[] = [{ head: 'block', cell: (r) => size(r.blockSize) }];
  const software = report.runs.find((r) => r.role === 'software');
  const engine = report.runs.find((r) => r.role === 'engine');
  const ordered = [...report.runs.filter((r) => r.role === 'software'), ...report.runs.filter((r) => r.role === 'engine')];
  for (const run of ordered) cols.push({ head: runHeading(run), cell: (r) => figureText(r.figures[run.label]) });
  if (software && engine) {
    const verb = engine.offload?.status === 'not-offload' ? 'engine run vs software' : 'engine gain';
    cols.push({ head: verb, cell: (r) => (r.engine ? `${percent(r.engine.gainPercent)} (${ratio(r.engine.ratio)})` : '-') });
    cols.push({ head: 'CPU freed', cell: (r) => (r.engine?.cpuFreedPercent !== undefined ? `${r.engine.cpuFreedPercent.toFixed(1)}%` : '-') });
    if (report.algorithms.some((a) => a.rows.some((r) => r.combined))) {
      const how = report.algorithms.flatMap((a) => a.rows).find((r) => r.combined)!.combined!.how;
      cols.push({
        head: `combined (${how})`,
        cell: (r) =>
          r.combined
            ? `${ops(r.combined.opsPerSecond)}/s ${mbps(r.combined.bytesPerSecond)}MB/s${r.combined.count !== undefined ? ` = ${r.combined.count} blocks in ${r.combined.seconds} s` : ''}`
            : '-',
      });
    }
  }
  for (const run of report.runs.filter((r) => r.role === 'other')) {
    cols.push({ head: runHeading(run), cell: (r) => figureText(r.figures[run.label]) });
    if (software || engine) {
      cols.push({
        head: `${run.label} vs`,
        cell: (r) => {
          const v = r.versus.find((x) => x.label === run.label);
          if (!v) return '-';
          return [
            v.vsSoftwarePercent !== undefined && software ? `${percent(v.vsSoftwarePercent)} vs software` : '',
            v.vsEnginePercent !== undefined && engine ? `${percent(v.vsEnginePercent)} vs engine` : '',
            v.combinedVsPercent !== undefined ? `combined ${percent(v.combinedVsPercent, { level: true })}` : '',
          ]
            .filter(Boolean)
            .join(', ');
        },
      });
    }
  }
  return cols;
}

function describeRun(r: RunSummary): string {
  const facts = [
    r.version ? `OpenSSL ${r.version}` : 'OpenSSL version not shown',
    r.timeBase === 'elapsed' ? '-elapsed (wall time)' : 'CPU time base (no -elapsed)',
    r.engine ? `engine ${r.engine.id}${r.engine.set ? ' set' : ' asked for'}` : '',
    r.machineReadable ? '-mr' : '',
    r.time?.userSeconds !== undefined ? `time: ${r.time.userSeconds.toFixed(2)} s user + ${(r.time.systemSeconds ?? 0).toFixed(2)} s system` : '',
    r.roleFrom === 'cpu-time' ? 'role from its CPU time' : r.roleFrom === 'engine-line' ? 'role from its engine line' : '',
  ].filter(Boolean);
  return `${r.role === 'other' ? '' : `${r.role}: `}${r.label} (${r.source}): ${facts.join(', ')}`;
}

export function reportNotes(report: CryptoReport): string[] {
  const lines: string[] = [];
  if (report.environment) lines.push(report.environment);
  for (const r of report.runs) {
    if (r.offload) lines.push(`${r.label}: ${r.offload.status}: ${r.offload.reason}${r.offload.evidence.length ? ` (${r.offload.evidence.join('; ')})` : ''}`);
    for (const m of r.engineMessages) lines.push(`${r.label}: openssl said: ${m}`);
    for (const n of r.notes) lines.push(`${r.label}: ${n}`);
  }
  if (report.combinedHow) lines.push(`combined: ${report.combinedHow}`);
  if (report.combinedWithheld) lines.push(report.combinedWithheld);
  lines.push(...report.notes);
  return [...new Set(lines)];
}

function title(a: AlgorithmReport): string {
  return `${a.name}: operations per second over wall time, MB/s (10^6 bytes/s), CPU seconds used ("user": openssl's user time; "cpu": user + system, measured by armkit)`;
}

export function terminalTable(report: CryptoReport): string[] {
  const cols = columns(report);
  const out: string[] = [];
  for (const r of report.runs) out.push(describeRun(r));
  for (const a of report.algorithms) {
    const cells = a.rows.map((row) => cols.map((c) => c.cell(row)));
    const widths = cols.map((c, k) => Math.max(c.head.length, ...cells.map((r) => r[k]!.length)));
    out.push('', title(a));
    out.push(`  ${cols.map((c, k) => c.head.padEnd(widths[k]!)).join('  ')}`.trimEnd());
    for (const r of cells) out.push(`  ${r.map((c, k) => c.padEnd(widths[k]!)).join('  ')}`.trimEnd());
  }
  const notes = reportNotes(report);
  if (notes.length) out.push('', ...notes.map((n) => `note: ${n}`));
  return out;
}

const mdCell = (s: string) => s.replace(/\|/g, '\\|');

export function markdown(report: CryptoReport): string {
  const cols = columns(report);
  const out: string[] = ['## openssl speed', ''];
  for (const r of report.runs) out.push(`- ${mdCell(describeRun(r))}`);
  for (const a of report.algorithms) {
    out.push('', `### ${a.name}`, '', `${title(a).replace(/^[^:]+: /, '')}.`, '');
    out.push(`| ${cols.map((c) => mdCell(c.head)).join(' | ')} |`);
    out.push(`|${cols.map((_, k) => (k === 0 ? ' ---: ' : ' --- ')).join('|')}|`);
    for (const row of a.rows) out.push(`| ${cols.map((c) => mdCell(c.cell(row))).join(' | ')} |`);
  }
  const notes = reportNotes(report);
  if (notes.length) out.push('', ...notes.map((n) => `> ${mdCell(n)}  `));
  return `${out.join('\n')}\n`;
}
