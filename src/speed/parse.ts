/**
 * Reads what `openssl speed` prints, from OpenSSL 0.9.8 to 3.x, as saved by people: the "Doing ..." lines (the
 * `X's in` wording up to 3.1, `X ops in` from 3.2, straight or curly apostrophes), the table (fixed columns that
 * 7-digit values overflow, whitespace collapsed by documentation, `infk` for a zero time, raw bytes/s for cells
 * up to 10000), the `-mr` lines (keyed on the algorithm's name: the `+F` index changes between versions), and what
 * surrounds them: shell prompts, the 0.9.8 banner, `version:`/`built on:`/`compiler:` lines, engine messages
 * (`Engine "devcrypto" set.`, `Could not open /dev/crypto`, `Invalid engine`), `time -v` and `time` blocks, lines
 * wrapped by documentation. A line it cannot place is an error naming the file and the line: never a silent zero.
 * Pure: text in, runs out.
 */
import { ArmkitError } from '../errors.js';

/** What openssl divided by: user CPU time (its default) or wall-clock time (`-elapsed`). */
export type TimeBase = 'cpu' | 'elapsed';

/** One algorithm at one block size. */
export interface SpeedSample {
  blockSize: number;
  /** Operations (blocks) done: from the Doing line or `+R:`. */
  count?: number;
  /** The duration openssl ran for ("for 3s"): wall-clock time, timed by an alarm. */
  nominalSeconds?: number;
  /** The time openssl divided by ("in 2.99s"): user CPU seconds, or wall seconds with -elapsed. */
  measuredSeconds?: number;
  /** openssl's own figure (table or `+F:`), bytes per measured second; null for `infk` (a zero time). */
  opensslBytesPerSecond?: number | null;
  /** CPU seconds (user + system) the process used for this block size, when armkit measured them. */
  cpuSeconds?: number;
  /** 1-based line of the figure that gave the count (or the table cell), for messages. */
  line: number;
}

export interface SpeedAlgorithm {
  /** As openssl printed it (`aes-128-cbc`, `AES-128-CBC`, `aes-128 cbc`). */
  name: string;
  /** Lower case, words joined by `-`: `aes-128 cbc` and `AES-128-CBC` are one algorithm. */
  key: string;
  samples: SpeedSample[];
}

export interface TimeBlock {
  userSeconds?: number;
  systemSeconds?: number;
  elapsedSeconds?: number;
  command?: string;
}

export interface SpeedRun {
  /** The file (or label) the run was read from. */
  source: string;
  /** The `openssl speed ...` command line, when the output shows it. */
  command?: string;
  /** OpenSSL's version (`1.0.0b`, `3.2.3`), when the output says it. */
  version?: string;
  timeBase: TimeBase;
  /** How armkit knows the time base: openssl said so, the command has -elapsed, or openssl's default. */
  timeBaseFrom: 'stated' | 'command' | 'default';
  /** Engine openssl reported set (`engine "cryptodev" set.`), or the one the command asked for. */
  engine?: { id: string; set: boolean };
  /** What the output says about engines and /dev/crypto besides "set": failures, fallbacks. */
  engineMessages: string[];
  machineReadable: boolean;
  algorithms: SpeedAlgorithm[];
  /** `time -v` (or `time`) around the run: the whole process's CPU and wall time. */
  time?: TimeBlock;
  /** CPU time of the openssl process (user, system), measured by armkit's wrapper (`ARMKIT:TIMES`, the shell's `times`). */
  processCpu?: { userSeconds: number; systemSeconds: number };
  /** Things the reader should know (ignored public-key results, a table that disagrees with the counts). */
  notes: string[];
}

export class SpeedParseError extends ArmkitError {
  constructor(source: string, line: number, text: string, why: string) {
    super('usage', `${source}:${line}: ${why}: ${JSON.stringify(text.length > 160 ? `${text.slice(0, 160)}...` : text)}`, {
      details: ['armkit reads the output of "openssl speed" (0.9.8 to 3.x, also -mr); see docs/bench.md for what it accepts.'],
    });
  }
}

export const algorithmKey = (name: string) =>
  name
    .trim()
    .toLowerCase()
    .replace(/[\s_]+/g, '-');

const APOS = `['\u2019\u2018\u02bc\`\u00b4]`;
const NUM = String.raw`\d+(?:\.\d+)?`;
const DOING = new RegExp(String.raw`^Doing (.+?) (?:ops )?for (${NUM})s on (\d+) size blocks?: (\d+) (.+?)(?:${APOS}s| ops) in (${NUM})s$`);
/** Public-key and key-exchange runs: not block throughput. */
const DOING_PKEY = /^Doing \d+ bits? .*(?:sign|verify|private|public|encrypt|decrypt|derive|keygen|encaps|decaps)/i;
const TABLE_HEAD = /^type((?:\s+\d+ bytes)+)$/;
const HEAD_CONT = /^(?:\d+ bytes\s*)+$/;
const VALUE = /^(?:\d+\.\d+k?|infk)$/;
const VALUES_RUN = /^(?:\d+\.\d+k?|infk)+$/;
const PKEY_TABLE = /^\s*(?:sign\s+verify|op\s+op\/s|keygen|encaps|derive)\b.*\/s/i;
const PKEY_ROW = /^(?:rsa|dsa|ecdsa|ecdh|eddsa|ed25519|ed448|sm2|ffdh|x25519|x448|kem|sig|\d+ bits?)\b/i;

/** Lines that carry no figures: banners, build facts, advice. */
const NOISE: RegExp[] = [
  /^To get the most accurate results, try to run this$/,
  /^program when this computer is idle\.$/,
  /^You have chosen to measure elapsed time instead of user CPU time\.$/,
  /^The .numbers. are in 1000s of bytes per second processed\.$/,
  /^(?:built on|options|compiler|platform|CPUINFO|available timing options|timing function used|OPENSSLDIR|ENGINESDIR|MODULESDIR|Seeding source)\s*:/,
  /^Forked child \d+$/,
  /^(?:real|user|sys)\s+\d+m\s*[\d.]+s$/,
  /^\+(?:DTP|DSP|DEP|DDP|DKP|DVP|R\d+|F\d+|DH)\b.*$/,
  /^Loaded? (?:engine|provider)\b.*$/i,
];
/** What an engine, or OpenSSL about an engine, says. */
const ENGINE_SET = /^[Ee]ngine "([^"]+)" set\.$/;
const ENGINE_MESSAGE: RegExp[] = [
  /\/dev\/crypto/,
  /^Invalid engine "[^"]+"/i,
  /^invalid engine\b/i,
  /^can'?t use that engine$/i,
  /^[0-9A-F]{8,}:error:[0-9A-F]+:.*$/,
  /^\d+:error:[0-9A-F]+:.*$/,
  /engine/i,
];
/** GNU time -v's lines, and the "Command being timed" that opens them. */
const TIME_V =
  /^(?:Command being timed|User time \(seconds\)|System time \(seconds\)|Percent of CPU this job got|Elapsed \(wall clock\) time \(h:mm:ss or m:ss\)|Average (?:shared text|unshared data|stack|total|resident set) size \(kbytes\)|Maximum resident set size \(kbytes\)|Major \(requiring I\/O\) page faults|Minor \(reclaiming a frame\) page faults|Voluntary context switches|Involuntary context switches|Swaps|File system (?:inputs|outputs)|Socket messages (?:sent|received)|Signals delivered|Page size \(bytes\)|Exit status):\s*(.*)$/;
/** A shell prompt, alone or with a command after it: `root@evm:~# ...`, `[u@h dir]$ ...`, `# ...`. */
const PROMPT = /^(?:\[[^\]]*\]|[\w.-]+@[\w.-]+(?::[^\s#$]*)?|[\w.-]+:[^\s#$]*|[\w.-]*)\s*[#$](?:\s+(.*))?$/;

function seconds(text: string): number | undefined {
  // GNU: "0:15.07" or "1:02:03"; busybox: "0m 15.07s"
  const gnu = /^(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)$/.exec(text.trim());
  if (gnu) return Number(gnu[1] ?? 0) * 3600 + Number(gnu[2]) * 60 + Number(gnu[3]);
  const bb = /^(?:(\d+)h\s*)?(\d+)m\s*(\d+(?:\.\d+)?)s$/.exec(text.trim());
  if (bb) return Number(bb[1] ?? 0) * 3600 + Number(bb[2]) * 60 + Number(bb[3]);
  const plain = /^(\d+(?:\.\d+)?)s?$/.exec(text.trim());
  return plain ? Number(plain[1]) : undefined;
}

/** A table cell in bytes per second: `5291.37k` is 5291370, `9876.54` is 9876.54, `infk` is null. */
export function cellBytes(cell: string): number | null {
  if (cell === 'infk') return null;
  // Two decimals in thousands: whole bytes and tenths, without floating-point dust.
  return cell.endsWith('k') ? Math.round(Number(cell.slice(0, -1)) * 100_000) / 100 : Number(cell);
}

/** Splits a row's trailing cells, including cells that overflowed into each other (`1152791.05k1352142.81k`). */
function splitRow(text: string): { name: string; cells: string[] } | undefined {
  const tokens = text.split(/\s+/);
  const cells: string[] = [];
  while (tokens.length > 1 && VALUES_RUN.test(tokens[tokens.length - 1]!)) {
    const token = tokens.pop()!;
    cells.unshift(...(token.match(/\d+\.\d+k?|infk/g) ?? []));
  }
  if (cells.length === 0 || tokens.length === 0) return undefined;
  return { name: tokens.join(' '), cells };
}

interface Line {
  no: number;
  text: string;
}

/** Removes what documentation adds around a line: indentation, a trailing carriage return, non-breaking spaces. */
function clean(raw: string): string {
  return raw
    .replace(/\r$/, '')
    .replace(/[\u00a0\u2007\u202f\t]/g, ' ')
    .trim();
}

function commandOf(text: string): string | undefined {
  const m = /(?:^|\s)((?:\S*\/)?openssl\s+speed\b.*)$/.exec(text);
  return m ? m[1]!.replace(/\s+/g, ' ').trim() : undefined;
}

export function parseSpeedOutput(text: string, source: string): SpeedRun[] {
  const lines: Line[] = text.split('\n').map((raw, i) => ({ no: i + 1, text: clean(raw) }));
  const runs: SpeedRun[] = [];
  let run: SpeedRun | undefined;
  let header: { sizes: number[]; line: number } | undefined;
  let time: TimeBlock | undefined;
  /** After a `compiler:` line, documentation may have wrapped the flags onto lines of their own. */
  let inCompiler = false;
  let mrHeader: number[] | undefined;
  /** The table is over (a new Doing line after it starts another run of the same output). */
  let tableSeen = false;
  /** The `+DT:` line a `+R:` line answers (they come in pairs). */
  let pendingDT: { algo: SpeedAlgorithm; size: number } | undefined;

  const fresh = (): SpeedRun => ({
    source,
    timeBase: 'cpu',
    timeBaseFrom: 'default',
    engineMessages: [],
    machineReadable: false,
    algorithms: [],
    notes: [],
  });
  const current = (): SpeedRun => {
    if (!run) {
      run = fresh();
      runs.push(run);
    }
    return run;
  };
  const startRun = (command?: string) => {
    // A command line before any figure belongs to the run it starts; one after figures starts a new run.
    if (run && run.algorithms.length === 0 && !run.command) {
      if (command) applyCommand(run, command);
      return;
    }
    run = fresh();
    runs.push(run);
    header = undefined;
    mrHeader = undefined;
    tableSeen = false;
    if (command) applyCommand(run, command);
  };
  const algorithm = (name: string): SpeedAlgorithm => {
    const r = current();
    const key = algorithmKey(name);
    let algo = r.algorithms.find((a) => a.key === key);
    if (!algo) {
      algo = { name, key, samples: [] };
      r.algorithms.push(algo);
    }
    return algo;
  };
  const sample = (algo: SpeedAlgorithm, blockSize: number, line: number): SpeedSample => {
    let s = algo.samples.find((x) => x.blockSize === blockSize);
    if (!s) {
      s = { blockSize, line };
      algo.samples.push(s);
    }
    return s;
  };
  const fail = (l: Line, why: string): never => {
    throw new SpeedParseError(source, l.no, l.text, why);
  };

  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    let t = l.text;
    if (t === '') continue;
    // -multi: each child's lines come back prefixed with "Got: ".
    t = t.replace(/^Got:\s*/, '');

    if (inCompiler && /^(?:-\S+|\S+=\S*|\S+\.(?:c|h|so))(?:\s+(?:-\S+|\S+=\S*|"[^"]*"))*$/.test(t)) continue;
    inCompiler = false;

    // armkit's own wrapper: the shell's `times` after openssl (its own line, then its children's: openssl's).
    if (t === 'ARMKIT:TIMES') {
      const pair = /^(\d+)m\s*(\d+(?:\.\d+)?)s\s+(\d+)m\s*(\d+(?:\.\d+)?)s$/;
      const children = pair.exec(lines[i + 2]?.text ?? '');
      if (!pair.test(lines[i + 1]?.text ?? '') || !children) fail(l, 'armkit\'s "ARMKIT:TIMES" line without the two lines of times after it');
      current().processCpu = {
        userSeconds: Number(children![1]) * 60 + Number(children![2]),
        systemSeconds: Number(children![3]) * 60 + Number(children![4]),
      };
      i += 2;
      continue;
    }
    // `Command being timed: "openssl speed ..."` is time -v's, not a new run.
    if (/^Command being timed:/.test(t)) {
      const r = current();
      r.time ??= {};
      r.time.command = t.replace(/^Command being timed:\s*/, '').replace(/^"|"$/g, '');
      continue;
    }
    const command = commandOf(t);
    if (command) {
      startRun(command);
      continue;
    }
    // `# source: ...`, `# note: ...` and other comments (a root prompt's `# openssl speed ...` is read above).
    if (/^#(?:\s|$)/.test(t)) continue;

    // The Doing line, possibly wrapped by documentation onto the next line(s).
    if (t.startsWith('Doing ')) {
      if (DOING_PKEY.test(t)) {
        noteOnce(current(), 'public-key and key-exchange results (rsa, dsa, ecdsa, ...) are not block throughput; armkit reads cipher and digest runs only');
        continue;
      }
      let joined = t;
      let m = DOING.exec(joined);
      let j = i;
      while (!m && j + 1 < lines.length && j - i < 2 && lines[j + 1]!.text !== '' && !lines[j + 1]!.text.startsWith('Doing ')) {
        j++;
        joined = `${joined} ${lines[j]!.text}`;
        m = DOING.exec(joined);
      }
      if (!m) fail(l, 'a "Doing ..." line armkit cannot read');
      i = j;
      if (tableSeen) startRun();
      const [, name, nominal, size, count, , measured] = m!;
      const algo = algorithm(name!);
      const s = sample(algo, Number(size), l.no);
      if (s.count !== undefined) fail(l, `a second figure for ${name} at ${size} bytes in one run`);
      Object.assign(s, { count: Number(count), nominalSeconds: Number(nominal), measuredSeconds: Number(measured), line: l.no });
      continue;
    }

    // -mr: +DT:name:seconds:size, +R:count:name:time, +H:sizes..., +F:index:name:values...
    if (t.startsWith('+')) {
      const r = current();
      r.machineReadable = true;
      const dt = /^\+DT:(.+):(\d+(?:\.\d+)?):(\d+)$/.exec(t);
      if (dt) {
        if (tableSeen) startRun();
        current().machineReadable = true;
        const algo = algorithm(dt[1]!);
        sample(algo, Number(dt[3]), l.no).nominalSeconds = Number(dt[2]);
        pendingDT = { algo, size: Number(dt[3]) };
        continue;
      }
      const res = /^\+R:(\d+):(.+):(\d+(?:\.\d+)?)$/.exec(t);
      if (res) {
        const algo = algorithm(res[2]!);
        const size = pendingDT && pendingDT.algo === algo ? pendingDT.size : undefined;
        if (size === undefined) fail(l, 'a "+R:" result without its "+DT:" line');
        const s = sample(algo, size!, l.no);
        Object.assign(s, { count: Number(res[1]), measuredSeconds: Number(res[3]), line: l.no });
        pendingDT = undefined;
        continue;
      }
      const h = /^\+H((?::\d+)+)$/.exec(t);
      if (h) {
        mrHeader = h[1]!.slice(1).split(':').map(Number);
        continue;
      }
      const f = /^\+F:(\d+):(.+?):((?:\d+(?:\.\d+)?|inf)(?::(?:\d+(?:\.\d+)?|inf))*)$/.exec(t);
      if (f) {
        if (!mrHeader) fail(l, 'a "+F:" line before the "+H:" line that names its block sizes');
        const values = f[3]!.split(':');
        if (values.length !== mrHeader!.length) fail(l, `${values.length} values for ${mrHeader!.length} block sizes`);
        const algo = algorithm(f[2]!);
        values.forEach((v, k) => {
          sample(algo, mrHeader![k]!, l.no).opensslBytesPerSecond = v === 'inf' ? null : Number(v);
        });
        tableSeen = true;
        continue;
      }
      if (NOISE.some((re) => re.test(t))) {
        noteOnce(r, 'public-key and key-exchange results (rsa, dsa, ecdsa, ...) are not block throughput; armkit reads cipher and digest runs only');
        continue;
      }
      fail(l, 'a machine-readable (-mr) line armkit does not know');
    }

    const head = TABLE_HEAD.exec(t);
    if (head || t === 'type') {
      let sizesText = head?.[1] ?? '';
      // A header wrapped by documentation continues on lines of "N bytes" only.
      while (i + 1 < lines.length && HEAD_CONT.test(lines[i + 1]!.text)) {
        i++;
        sizesText += ` ${lines[i]!.text}`;
      }
      const sizes = [...sizesText.matchAll(/(\d+) bytes/g)].map((m) => Number(m[1]));
      if (sizes.length === 0) fail(l, 'a table header without block sizes');
      header = { sizes, line: l.no };
      continue;
    }

    const version = /^OpenSSL (\d+\.\d+\.\d+[a-z]*)\b/.exec(t) ?? /^version:\s*(\d+\.\d+\.\d+[a-z]*)/.exec(t);
    if (version) {
      current().version = version[1];
      continue;
    }
    if (/^You have chosen to measure elapsed time/.test(t)) {
      const r = current();
      r.timeBase = 'elapsed';
      r.timeBaseFrom = 'stated';
      continue;
    }
    if (/^compiler:/.test(t)) {
      inCompiler = true;
      continue;
    }
    if (NOISE.some((re) => re.test(t))) {
      const tm = /^(real|user|sys)\s+(\d+m\s*[\d.]+s)$/.exec(t);
      if (tm) {
        time = timeBlockOf();
        const v = seconds(tm[2]!);
        if (tm[1] === 'real') time.elapsedSeconds = v;
        if (tm[1] === 'user') time.userSeconds = v;
        if (tm[1] === 'sys') time.systemSeconds = v;
      }
      continue;
    }
    const tv = TIME_V.exec(t);
    if (tv) {
      time = timeBlockOf();
      const key = t.slice(0, t.indexOf(':'));
      if (key === 'Command being timed') time.command = tv[1]!.replace(/^"|"$/g, '');
      if (key === 'User time (seconds)') time.userSeconds = Number(tv[1]);
      if (key === 'System time (seconds)') time.systemSeconds = Number(tv[1]);
      if (key.startsWith('Elapsed')) time.elapsedSeconds = seconds(tv[1]!);
      continue;
    }
    const set = ENGINE_SET.exec(t);
    if (set) {
      const r = current();
      r.engine = { id: set[1]!, set: true };
      continue;
    }
    if (ENGINE_MESSAGE.some((re) => re.test(t))) {
      current().engineMessages.push(t);
      continue;
    }
    if (header) {
      const row = splitRow(t);
      if (row && !PKEY_ROW.test(row.name)) {
        // A row wrapped by documentation continues on lines of values only.
        while (row.cells.length < header.sizes.length && i + 1 < lines.length && lines[i + 1]!.text.split(/\s+/).every((c) => VALUES_RUN.test(c))) {
          i++;
          row.cells.push(...(lines[i]!.text.match(/\d+\.\d+k?|infk/g) ?? []));
        }
        if (row.cells.length !== header.sizes.length) {
          fail(l, `a table row with ${row.cells.length} values under a header of ${header.sizes.length} block sizes (line ${header.line})`);
        }
        if (row.cells.some((c) => !VALUE.test(c))) fail(l, 'a table cell armkit cannot read');
        const algo = algorithm(row.name);
        row.cells.forEach((cell, k) => {
          sample(algo, header!.sizes[k]!, l.no).opensslBytesPerSecond = cellBytes(cell);
        });
        tableSeen = true;
        continue;
      }
    }
    if (PKEY_TABLE.test(t) || (PKEY_ROW.test(t) && /\d+\.\d+s?\s+\d/.test(t))) {
      noteOnce(current(), 'public-key and key-exchange results (rsa, dsa, ecdsa, ...) are not block throughput; armkit reads cipher and digest runs only');
      header = undefined;
      continue;
    }

    if (PROMPT.test(t)) continue;
    fail(l, 'a line armkit cannot place in an "openssl speed" output');
  }

  function timeBlockOf(): TimeBlock {
    const r = current();
    r.time ??= {};
    return r.time;
  }

  for (const r of runs) finish(r, source);
  const withFigures = runs.filter((r) => r.algorithms.length > 0);
  if (withFigures.length === 0) {
    throw new ArmkitError('usage', `${source}: no "openssl speed" figures in it (no "Doing ..." lines, no table, no -mr lines).`, {
      details: ['Save the whole output of the command, stderr included: openssl speed -evp aes-128-cbc > out.txt 2>&1'],
    });
  }
  return withFigures;
}

function noteOnce(run: SpeedRun, note: string): void {
  if (!run.notes.includes(note)) run.notes.push(note);
}

function applyCommand(run: SpeedRun, command: string): void {
  run.command = command;
  const words = command.split(/\s+/);
  if (words.includes('-elapsed') && run.timeBaseFrom !== 'stated') {
    run.timeBase = 'elapsed';
    run.timeBaseFrom = 'command';
  }
  const e = words.indexOf('-engine');
  if (e >= 0 && words[e + 1] && !run.engine) run.engine = { id: words[e + 1]!, set: false };
  if (words.includes('-mr')) run.machineReadable = true;
}

/** Checks what the run says of itself, sorts it, and notes where openssl's figure and the count disagree. */
function finish(run: SpeedRun, source: string): void {
  for (const algo of run.algorithms) {
    algo.samples.sort((a, b) => a.blockSize - b.blockSize);
    for (const s of algo.samples) {
      if (s.count === undefined && s.opensslBytesPerSecond === null) {
        throw new ArmkitError(
          'usage',
          `${source}:${s.line}: ${algo.name} at ${s.blockSize} bytes is "infk" (a time of 0.00 s) and the output has no "Doing ..." line with the count: there is nothing to measure.`,
          { details: ['Save the whole output, stderr included (the Doing lines go to stderr): openssl speed ... > out.txt 2>&1'] },
        );
      }
      if (s.count !== undefined && s.measuredSeconds && s.opensslBytesPerSecond) {
        const implied = (s.count * s.blockSize) / s.measuredSeconds;
        if (Math.abs(implied - s.opensslBytesPerSecond) / s.opensslBytesPerSecond > 0.02) {
          noteOnce(
            run,
            `${algo.name} at ${s.blockSize} bytes: openssl's table says ${(s.opensslBytesPerSecond / 1000).toFixed(2)}k bytes/s, its count implies ${(implied / 1000).toFixed(2)}k; the count is used`,
          );
        }
      }
    }
  }
  // One block size of one algorithm in the process: the process's CPU time is that sample's.
  const all = run.algorithms.flatMap((a) => a.samples);
  if (run.processCpu && all.length === 1) all[0]!.cpuSeconds = run.processCpu.userSeconds + run.processCpu.systemSeconds;
  if (run.engine && !run.engine.set && run.engineMessages.length === 0 && run.algorithms.length > 0) {
    // The command asked for an engine and openssl's "set" line is not in the saved output.
    noteOnce(run, `the command asks for engine ${run.engine.id}, but the output does not show openssl setting it`);
  }
}
