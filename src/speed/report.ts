/**
 * The figures of `armkit bench crypto`, per algorithm and block size, from parsed `openssl speed` runs. Every
 * throughput is operations over wall-clock time: openssl's own figure divides by user CPU time unless -elapsed was
 * given, and an asynchronous engine uses almost none (its figure is `infk`, or a 2000 MB/s an AM335x never did), so
 * that figure is kept only as openssl's. Pure.
 */
import type { SpeedRun, SpeedSample } from './parse.js';

export const REPORT_SCHEMA = 'armkit.bench.crypto/1';

export type Role = 'software' | 'engine' | 'other';

/** Did the engine do the work, and was that work off the CPU? */
export interface OffloadVerdict {
  /**
   * offload: the engine handled the work on a hardware driver; not-offload: it fell back to software, or a kernel
   * software driver did the work; unproven: the engine was used, but nothing says by what (a saved output).
   */
  status: 'offload' | 'not-offload' | 'unproven';
  reason: string;
  evidence: string[];
  /** The kernel driver that served the algorithm, when known (`mv-cbc-aes`, `cbc(aes-generic)`). */
  driver?: string;
}

export interface RunInput {
  label: string;
  role: Role;
  /** How the role was decided: given by the user (`engine=FILE`), by the output, or by the CPU time. */
  roleFrom: 'given' | 'engine-line' | 'cpu-time' | 'default' | 'measured';
  run: SpeedRun;
  /** For the engine run. */
  offload?: OffloadVerdict;
}

/** One run at one block size. */
export interface Figure {
  /** Operations (blocks) counted, when the output has them. */
  count?: number;
  /** The wall-clock seconds the count was made in. */
  wallSeconds?: number;
  opsPerSecond: number;
  bytesPerSecond: number;
  /**
   * wall: over wall-clock time, as every figure of the report should be; cpu-second: only openssl's figure per
   * CPU second is known (a table without its Doing lines, without -elapsed), not comparable with an engine's.
   */
  basis: 'wall' | 'cpu-second';
  /** CPU seconds the run used at this block size, and which: openssl's user time, or user + system measured. */
  cpuSeconds?: number;
  cpuKind?: 'user' | 'user+system';
  /** cpuSeconds / wallSeconds: the share of one CPU the run kept busy. */
  cpuShare?: number;
  /** openssl's own figure (bytes per CPU second without -elapsed); null for infk. */
  opensslBytesPerSecond?: number | null;
}

export interface EngineComparison {
  /** engine / software. */
  ratio: number;
  gainPercent: number;
  /** Share of the software run's CPU time per operation that the engine does not use. */
  cpuFreedPercent?: number;
  /** CPU seconds the engine frees per second of work at the software's rate. */
  cpuFreedSecondsPerSecond?: number;
}

export interface Combined {
  how: 'measured' | 'estimated';
  opsPerSecond: number;
  bytesPerSecond: number;
  /** Blocks in the runs' common duration (`seconds`), when they share one: the brief's "74281 blocks". */
  count?: number;
  seconds?: number;
}

export interface Versus {
  label: string;
  /** Percent: other against software, against the engine; combined against the other. */
  vsSoftwarePercent?: number;
  vsEnginePercent?: number;
  combinedVsPercent?: number;
}

export interface Row {
  blockSize: number;
  figures: Record<string, Figure | undefined>;
  engine?: EngineComparison;
  combined?: Combined;
  versus: Versus[];
}

export interface AlgorithmReport {
  key: string;
  name: string;
  rows: Row[];
}

export interface RunSummary {
  label: string;
  role: Role;
  roleFrom: RunInput['roleFrom'];
  source: string;
  version?: string;
  command?: string;
  timeBase: SpeedRun['timeBase'];
  timeBaseFrom: SpeedRun['timeBaseFrom'];
  engine?: SpeedRun['engine'];
  engineMessages: string[];
  machineReadable: boolean;
  time?: SpeedRun['time'];
  notes: string[];
  offload?: OffloadVerdict;
}

export interface CryptoReport {
  schema: typeof REPORT_SCHEMA;
  mode: 'parse' | 'compare' | 'measure';
  runs: RunSummary[];
  algorithms: AlgorithmReport[];
  /** How the combined figure was made, in words, when there is one. */
  combinedHow?: string;
  /** Why there is no combined figure, when there could have been one. */
  combinedWithheld?: string;
  /** What the reader must know: an engine that fell back, figures per CPU second, labels. */
  notes: string[];
  /** Where the figures come from (the host, a guest): emulated figures are never hardware figures. */
  environment?: string;
}

/** Wall-clock seconds of a sample: the measured time with -elapsed, else the duration openssl ran for. */
function wallSeconds(run: SpeedRun, s: SpeedSample): number | undefined {
  if (run.timeBase === 'elapsed') return s.measuredSeconds ?? s.nominalSeconds;
  return s.nominalSeconds;
}

export function figureOf(run: SpeedRun, s: SpeedSample): Figure | undefined {
  const wall = wallSeconds(run, s);
  const cpu = s.cpuSeconds ?? (run.timeBase === 'cpu' ? s.measuredSeconds : undefined);
  const cpuKind = s.cpuSeconds !== undefined ? 'user+system' : cpu !== undefined ? 'user' : undefined;
  const base = {
    ...(cpu !== undefined ? { cpuSeconds: cpu, cpuKind } : {}),
    ...(s.opensslBytesPerSecond !== undefined ? { opensslBytesPerSecond: s.opensslBytesPerSecond } : {}),
  } as Pick<Figure, 'cpuSeconds' | 'cpuKind' | 'opensslBytesPerSecond'>;
  if (s.count !== undefined && wall) {
    const ops = s.count / wall;
    return {
      count: s.count,
      wallSeconds: wall,
      opsPerSecond: ops,
      bytesPerSecond: ops * s.blockSize,
      basis: 'wall',
      ...base,
      ...(cpu !== undefined ? { cpuShare: cpu / wall } : {}),
    };
  }
  if (s.opensslBytesPerSecond) {
    const basis = run.timeBase === 'elapsed' ? 'wall' : 'cpu-second';
    return { opsPerSecond: s.opensslBytesPerSecond / s.blockSize, bytesPerSecond: s.opensslBytesPerSecond, basis, ...base };
  }
  return undefined;
}

/** Fallback or failure messages of an engine in an output: the engine did not do the work. */
export function engineFailure(run: SpeedRun): string | undefined {
  return run.engineMessages.find((m) => /could not|cannot|can't|invalid|error|fail|unavailable|no such/i.test(m));
}

/** What a saved output alone can say about its engine. */
export function verdictFromOutput(run: SpeedRun): OffloadVerdict {
  const failure = engineFailure(run);
  if (failure) return { status: 'not-offload', reason: `the engine failed and openssl went on in software: ${failure}`, evidence: [failure] };
  const evidence: string[] = [];
  if (run.engine?.set) evidence.push(`openssl says: engine "${run.engine.id}" set`);
  const shares = run.algorithms.flatMap((a) => a.samples.map((s) => ({ s, f: figureOf(run, s) }))).filter((x) => x.f?.cpuShare !== undefined);
  if (shares.length > 0) {
    const max = Math.max(...shares.map((x) => x.f!.cpuShare!));
    const cpus = shares.map((x) => x.f!.cpuSeconds!);
    evidence.push(
      `${shares[0]!.f!.cpuKind === 'user' ? 'user ' : ''}CPU ${Math.min(...cpus).toFixed(2)}-${Math.max(...cpus).toFixed(2)} s per ${shares[0]!.f!.wallSeconds} s run (at most ${(100 * max).toFixed(0)}% of a CPU)`,
    );
  }
  // An engine leaves openssl's user time near zero (the seeds: 0-3% of a CPU; the AM335x: 5%); a cipher run in
  // openssl itself fills it, or a third of it on a machine shared with other work.
  const busy = shares.filter((x) => x.f!.cpuKind === 'user' && x.f!.cpuShare! >= 0.3);
  if (busy.length > 0) {
    const worst = busy.reduce((a, b) => (a.f!.cpuShare! > b.f!.cpuShare! ? a : b));
    return {
      status: 'not-offload',
      reason: `openssl itself used ${(100 * worst.f!.cpuShare!).toFixed(0)}% of a CPU in user time at ${worst.s.blockSize} bytes: the cipher ran in openssl's software, not in the engine`,
      evidence,
    };
  }
  return {
    status: 'unproven',
    reason:
      'a saved output cannot show which kernel driver did the work: openssl counts user CPU time only, so a kernel software driver behind /dev/crypto looks the same as hardware',
    evidence,
  };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The role a run of `--compare` plays when the user did not say: from the engine line, else from its CPU time. */
export function inferRole(run: SpeedRun): { role: Role; from: RunInput['roleFrom'] } {
  if (engineFailure(run)) return { role: 'software', from: 'engine-line' };
  if (run.engine) return { role: 'engine', from: 'engine-line' };
  const shares = run.algorithms.flatMap((a) => a.samples.map((s) => figureOf(run, s)?.cpuShare)).filter((x): x is number => x !== undefined);
  // An asynchronous engine leaves openssl's user time near zero: the seed's Kirkwood used 0.00-0.08 s of 3 s.
  if (shares.length > 0 && Math.max(...shares) < 0.2) return { role: 'engine', from: 'cpu-time' };
  return { role: 'software', from: 'default' };
}

/** Assigns roles: given ones stand; of the rest, the first software-looking run is software, the first engine-looking one the engine. */
export function assignRoles(items: Array<{ label: string; run: SpeedRun; given?: Role }>): RunInput[] {
  const taken = new Set(items.filter((i) => i.given && i.given !== 'other').map((i) => i.given));
  return items.map((i) => {
    if (i.given) return { label: i.label, role: i.given, roleFrom: 'given', run: i.run };
    const inferred = inferRole(i.run);
    if (taken.has(inferred.role)) return { label: i.label, role: 'other', roleFrom: 'default', run: i.run };
    taken.add(inferred.role);
    return { label: i.label, role: inferred.role, roleFrom: inferred.from, run: i.run };
  });
}

const pct = (a: number, b: number) => (a / b - 1) * 100;

/**
 * The report. `combined` runs, when given, are the software and engine runs measured at the same time (board
 * mode); without them the combined figure is estimated from the separate runs and labelled so.
 */
export function buildReport(
  inputs: RunInput[],
  options: { mode: CryptoReport['mode']; combined?: { software: SpeedRun; engine: SpeedRun }; environment?: string },
): CryptoReport {
  const notes: string[] = [];
  const software = inputs.find((i) => i.role === 'software');
  const engine = inputs.find((i) => i.role === 'engine');
  for (const i of inputs) if (!i.offload && (i.role === 'engine' || i.run.engine || engineFailure(i.run))) i.offload = verdictFromOutput(i.run);
  const others = inputs.filter((i) => i.role === 'other');

  const keys: Array<{ key: string; name: string }> = [];
  for (const i of inputs) {
    for (const a of i.run.algorithms) {
      const known = keys.find((k) => k.key === a.key);
      if (!known) keys.push({ key: a.key, name: a.name });
      // The name as openssl spells it today (`aes-128-cbc`), over 1.0.0's `aes-128 cbc`.
      else if (known.name !== a.key && a.name === a.key) known.name = a.name;
    }
  }

  // An estimate adds the two runs as if the engine left the CPU to the software run: only when it (nearly) did.
  let combinedWithheld: string | undefined;
  if (software && engine && !options.combined) {
    if (engine.offload?.status === 'not-offload') combinedWithheld = `no combined figure: the engine run is not offload (${engine.offload.reason})`;
  }

  const algorithms: AlgorithmReport[] = keys.map(({ key, name }) => {
    const sizes = new Set<number>();
    const samplesOf = (run: SpeedRun) => run.algorithms.find((a) => a.key === key)?.samples ?? [];
    for (const i of inputs) for (const s of samplesOf(i.run)) sizes.add(s.blockSize);
    const rows: Row[] = [...sizes]
      .sort((a, b) => a - b)
      .map((size) => {
        const figures: Record<string, Figure | undefined> = {};
        for (const i of inputs) {
          const s = samplesOf(i.run).find((x) => x.blockSize === size);
          figures[i.label] = s ? figureOf(i.run, s) : undefined;
        }
        const row: Row = { blockSize: size, figures, versus: [] };
        const S = software ? figures[software.label] : undefined;
        const E = engine ? figures[engine.label] : undefined;
        if (S && E && S.basis === 'wall' && E.basis === 'wall') {
          const ratio = E.opsPerSecond / S.opsPerSecond;
          const cmp: EngineComparison = { ratio, gainPercent: (ratio - 1) * 100 };
          if (S.cpuSeconds !== undefined && E.cpuSeconds !== undefined && S.count && E.count && S.cpuSeconds > 0) {
            const perOpS = S.cpuSeconds / S.count;
            const perOpE = E.cpuSeconds / E.count;
            cmp.cpuFreedPercent = (1 - perOpE / perOpS) * 100;
            cmp.cpuFreedSecondsPerSecond = (perOpS - perOpE) * S.opsPerSecond;
          }
          row.engine = cmp;
          if (options.combined) {
            const cs = options.combined.software.algorithms.find((a) => a.key === key)?.samples.find((x) => x.blockSize === size);
            const ce = options.combined.engine.algorithms.find((a) => a.key === key)?.samples.find((x) => x.blockSize === size);
            const fs = cs ? figureOf(options.combined.software, cs) : undefined;
            const fe = ce ? figureOf(options.combined.engine, ce) : undefined;
            if (fs && fe && fs.basis === 'wall' && fe.basis === 'wall') {
              row.combined = {
                how: 'measured',
                opsPerSecond: fs.opsPerSecond + fe.opsPerSecond,
                bytesPerSecond: fs.bytesPerSecond + fe.bytesPerSecond,
                ...(fs.count !== undefined && fe.count !== undefined && fs.wallSeconds === fe.wallSeconds
                  ? { count: fs.count + fe.count, seconds: fs.wallSeconds }
                  : {}),
              };
            }
          } else if (!combinedWithheld) {
            row.combined = {
              how: 'estimated',
              opsPerSecond: S.opsPerSecond + E.opsPerSecond,
              bytesPerSecond: S.bytesPerSecond + E.bytesPerSecond,
              ...(S.count !== undefined && E.count !== undefined && S.wallSeconds === E.wallSeconds
                ? { count: S.count + E.count, seconds: S.wallSeconds }
                : {}),
            };
          }
        }
        for (const o of others) {
          const O = figures[o.label];
          if (O?.basis !== 'wall') continue;
          const v: Versus = { label: o.label };
          if (S?.basis === 'wall') v.vsSoftwarePercent = pct(O.opsPerSecond, S.opsPerSecond);
          if (E?.basis === 'wall') v.vsEnginePercent = pct(O.opsPerSecond, E.opsPerSecond);
          if (row.combined) v.combinedVsPercent = pct(row.combined.opsPerSecond, O.opsPerSecond);
          row.versus.push(v);
        }
        return row;
      });
    return { key, name, rows };
  });

  for (const i of inputs) {
    const cpuSecond = algorithms.some((a) => a.rows.some((r) => r.figures[i.label]?.basis === 'cpu-second'));
    if (cpuSecond) {
      notes.push(
        `${i.label}: the output has openssl's table but not its Doing lines, and no -elapsed: its figures are bytes per CPU second, not over wall time, and are not compared`,
      );
    }
  }
  if (software && engine) {
    const shares = algorithms.flatMap((a) => a.rows.map((r) => r.figures[engine.label]?.cpuShare)).filter((x): x is number => x !== undefined);
    if (shares.length > 0 && mean(shares) > 0.5 && engine.offload?.status !== 'offload') {
      notes.push(
        `${engine.label} kept ${(100 * mean(shares)).toFixed(0)}% of a CPU busy on average: whatever did the work, it was not off the CPU, so it frees nothing for software to use`,
      );
    }
  }
  const seconds = algorithms.flatMap((a) => a.rows.map((r) => r.combined?.seconds)).find((s) => s !== undefined);
  const engineCpu = engine ? algorithms.flatMap((a) => a.rows.map((r) => r.figures[engine.label]?.cpuShare)).filter((x): x is number => x !== undefined) : [];
  const combinedHow = algorithms.some((a) => a.rows.some((r) => r.combined))
    ? options.combined
      ? 'measured: software and engine runs at the same time, their operations added'
      : `estimated from the separate runs: software + engine${seconds ? ` (blocks in ${seconds} s)` : ''}, assuming the engine's own CPU use${engineCpu.length ? ` (at most ${(100 * Math.max(...engineCpu)).toFixed(0)}% of a CPU)` : ''} leaves the software as fast; "armkit bench crypto" on the board measures it`
    : undefined;

  return {
    schema: REPORT_SCHEMA,
    mode: options.mode,
    runs: inputs.map((i) => ({
      label: i.label,
      role: i.role,
      roleFrom: i.roleFrom,
      source: i.run.source,
      ...(i.run.version ? { version: i.run.version } : {}),
      ...(i.run.command ? { command: i.run.command } : {}),
      timeBase: i.run.timeBase,
      timeBaseFrom: i.run.timeBaseFrom,
      ...(i.run.engine ? { engine: i.run.engine } : {}),
      engineMessages: i.run.engineMessages,
      machineReadable: i.run.machineReadable,
      ...(i.run.time ? { time: i.run.time } : {}),
      notes: i.run.notes,
      ...(i.offload ? { offload: i.offload } : {}),
    })),
    algorithms,
    ...(combinedHow ? { combinedHow } : {}),
    ...(combinedWithheld ? { combinedWithheld } : {}),
    notes,
    ...(options.environment ? { environment: options.environment } : {}),
  };
}
