/**
 * The `openssl speed` reader on real outputs from 0.9.8 to 3.x: the shared corpus (read where it lies, never
 * copied; skipped with the reason when it is absent) and the suite's own small files (test/fixtures/speed).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArmkitError } from '../../src/errors.js';
import { cellBytes, parseSpeedOutput, type SpeedRun } from '../../src/speed/parse.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CORPUS = resolve(ROOT, '../shared/fixtures/speed');
const OWN = join(ROOT, 'test/fixtures/speed');
const haveCorpus = existsSync(CORPUS);
if (!haveCorpus) console.warn(`speed corpus tests skipped: ${CORPUS} is absent`);

const read = (dir: string, file: string) => parseSpeedOutput(readFileSync(join(dir, file), 'utf8'), file);
const only = (runs: SpeedRun[]) => {
  expect(runs).toHaveLength(1);
  return runs[0]!;
};
const sizes = (run: SpeedRun) => run.algorithms[0]!.samples.map((s) => s.blockSize);
const at = (run: SpeedRun, size: number) => run.algorithms[0]!.samples.find((s) => s.blockSize === size)!;

interface Expected {
  version?: string;
  key: string;
  timeBase: 'cpu' | 'elapsed';
  engine?: { id: string; set: boolean };
  sizes: number[];
  /** count and measured seconds at one block size, as the file prints them */
  sample: [number, number, number];
  table: boolean;
  messages?: RegExp;
  time?: { userSeconds: number; systemSeconds: number; elapsedSeconds: number };
}

const STD = [16, 64, 256, 1024, 8192];
const STD6 = [...STD, 16384];
const NINE = [16, 64, 256, 512, 1024, 2048, 4096, 8192, 16384];

/** One row per corpus file: a new file fails the suite until its expected reading is written down here. */
const CORPUS_EXPECTED: Record<string, Expected> = {
  'aws-c7a-amazonlinux2023-openssl-3.0.8-redhat-build-elapsed.txt': {
    version: '3.0.8',
    key: 'aes-128-cbc',
    timeBase: 'elapsed',
    sizes: STD6,
    sample: [1024, 4178464, 3],
    table: true,
  },
  'pfsense-docs-alix-openssl-0.9.8e-software.txt': {
    version: '0.9.8e',
    key: 'aes-128-cbc',
    timeBase: 'cpu',
    sizes: STD,
    sample: [64, 265799, 2.89],
    table: true,
  },
  'polarfire-mpfs-openssl-3.0.5-devcrypto-elapsed.txt': {
    version: '3.0.5',
    key: 'aes-128-cbc',
    timeBase: 'elapsed',
    engine: { id: 'devcrypto', set: true },
    sizes: STD6,
    sample: [16384, 1347, 3],
    table: true,
  },
  'seed-atom-n450-openssl-1.0.0-software.txt': { key: 'aes-128-cbc', timeBase: 'cpu', sizes: STD, sample: [8192, 9245, 2.99], table: false },
  'seed-kirkwood-openssl-1.0.0-cryptodev.txt': { key: 'aes-128-cbc', timeBase: 'cpu', sizes: STD, sample: [8192, 8227, 0], table: false },
  'seed-kirkwood-openssl-1.0.0-software.txt': { key: 'aes-128-cbc', timeBase: 'cpu', sizes: STD, sample: [1024, 33342, 3], table: false },
  'ti-sdk-am335x-openssl-1.0.0b-cryptodev.txt': {
    version: '1.0.0b',
    key: 'aes-128-cbc',
    timeBase: 'cpu',
    engine: { id: 'cryptodev', set: true },
    sizes: STD,
    sample: [256, 15181, 0.03],
    table: true,
  },
  'ti-sdk-am335x-openssl-1.0.0b-software-time-v.txt': {
    version: '1.0.0b',
    key: 'aes-128-cbc',
    timeBase: 'cpu',
    sizes: STD,
    sample: [16, 697674, 2.99],
    table: true,
    time: { userSeconds: 15.03, systemSeconds: 0, elapsedSeconds: 15.07 },
  },
  'ti-sdk-dthev2-am62l-openssl-3.2.3-devcrypto.txt': {
    version: '3.2.3',
    key: 'aes-128-cbc',
    timeBase: 'cpu',
    engine: { id: 'devcrypto', set: true },
    sizes: STD6,
    sample: [8192, 18784, 0],
    table: true,
  },
  'ti-sdk-dthev2-am62l-openssl-3.2.3-software.txt': {
    version: '3.2.3',
    key: 'aes-128-cbc',
    timeBase: 'cpu',
    sizes: STD6,
    sample: [1024, 2437075, 2.99],
    table: true,
    time: { userSeconds: 17.91, systemSeconds: 0.04, elapsedSeconds: 18.02 },
  },
  'zynq-aes-openssl-1.1.1a-devcrypto-hw-evp-aes-128-cbc-elapsed.txt': {
    version: '1.1.1a',
    key: 'aes-128-cbc',
    timeBase: 'elapsed',
    sizes: NINE,
    sample: [512, 70474, 3],
    table: true,
  },
  'zynq-aes-openssl-1.1.1a-software-elapsed-could-not-open-dev-crypto.txt': {
    version: '1.1.1a',
    key: 'aes-128-ecb',
    timeBase: 'elapsed',
    sizes: NINE,
    sample: [4096, 18555, 3],
    table: true,
    messages: /^Could not open \/dev\/crypto: No such file or directory$/,
  },
};

function checkExpected(run: SpeedRun, e: Expected, text: string) {
  expect(run.version).toBe(e.version);
  expect(run.timeBase).toBe(e.timeBase);
  expect(run.engine).toEqual(e.engine);
  expect(run.algorithms.map((a) => a.key)).toEqual([e.key]);
  expect(sizes(run)).toEqual(e.sizes);
  const [size, count, measured] = e.sample;
  expect(at(run, size)).toMatchObject({ count, measuredSeconds: measured, nominalSeconds: 3 });
  // Every block size has its count, and the file's own numbers are the ones read (no silent zero).
  for (const s of run.algorithms[0]!.samples) {
    expect(s.count, `${s.blockSize}`).toBeGreaterThan(0);
    expect(text).toContain(`on ${s.blockSize} size blocks: ${s.count} `);
    if (e.table) expect(s.opensslBytesPerSecond === null || s.opensslBytesPerSecond! > 0).toBe(true);
    else expect(s.opensslBytesPerSecond).toBeUndefined();
  }
  if (e.messages) expect(run.engineMessages.some((m) => e.messages!.test(m))).toBe(true);
  else expect(run.engineMessages).toEqual([]);
  if (e.time) expect(run.time).toMatchObject(e.time);
  // Where openssl printed both, its table agrees with the count: the columns were matched to the right sizes.
  expect(run.notes.filter((n) => n.includes('table says'))).toEqual([]);
}

describe.skipIf(!haveCorpus)(`the shared corpus of real outputs${haveCorpus ? '' : ` (skipped: ${CORPUS} is absent)`}`, () => {
  const files = haveCorpus ? readdirSync(CORPUS).filter((f) => f.endsWith('.txt')) : [];
  it('has an expected reading for every file', () => {
    expect(files.sort()).toEqual(Object.keys(CORPUS_EXPECTED).sort());
  });
  for (const file of Object.keys(CORPUS_EXPECTED)) {
    it(`reads ${file}`, () => {
      const text = readFileSync(join(CORPUS, file), 'utf8');
      checkExpected(only(read(CORPUS, file)), CORPUS_EXPECTED[file]!, text.replace(/[’‘]/g, "'"));
    });
  }
  it("reads 1.0.0's 'aes-128 cbc' label and the curly apostrophes as the same algorithm as aes-128-cbc", () => {
    const sw = only(read(CORPUS, 'seed-kirkwood-openssl-1.0.0-software.txt'));
    expect(sw.algorithms[0]!.name).toBe('aes-128 cbc');
    expect(readFileSync(join(CORPUS, 'seed-kirkwood-openssl-1.0.0-software.txt'), 'utf8')).toContain('cbc\u2019s in');
  });
  it("keeps openssl's infk as no figure, never as a number, with the count from the 3.2 'ops' lines", () => {
    const run = only(read(CORPUS, 'ti-sdk-dthev2-am62l-openssl-3.2.3-devcrypto.txt'));
    for (const s of run.algorithms[0]!.samples) expect(s.opensslBytesPerSecond).toBeNull();
    expect(at(run, 16)).toMatchObject({ count: 37316, measuredSeconds: 0 });
  });
  it('reads 7-digit cells that fill their columns, and tables whose spacing documentation collapsed', () => {
    expect(at(only(read(CORPUS, 'aws-c7a-amazonlinux2023-openssl-3.0.8-redhat-build-elapsed.txt')), 16).opensslBytesPerSecond).toBe(1152791050);
    expect(at(only(read(CORPUS, 'ti-sdk-am335x-openssl-1.0.0b-cryptodev.txt')), 8192).opensslBytesPerSecond).toBe(1998438400);
  });
});

describe('the suite’s own outputs', () => {
  it('reads a real 3.0 -elapsed output (the sentence says so)', () => {
    const run = only(read(OWN, 'openssl-3.0.19-x86_64-elapsed.txt'));
    expect(run).toMatchObject({ version: '3.0.19', timeBase: 'elapsed', timeBaseFrom: 'stated', machineReadable: false });
    expect(sizes(run)).toEqual(STD6);
    expect(run.command).toBe('openssl speed -elapsed -seconds 1 -evp aes-128-cbc');
  });

  it('reads -mr lines by the algorithm name, counts from +R and the table from +F', () => {
    const run = only(read(OWN, 'openssl-3.0.19-x86_64-mr.txt'));
    expect(run).toMatchObject({ machineReadable: true, timeBase: 'elapsed', timeBaseFrom: 'command' });
    expect(run.algorithms.map((a) => a.key)).toEqual(['aes-128-cbc']);
    expect(at(run, 16)).toMatchObject({ count: 35956512, nominalSeconds: 1, measuredSeconds: 1, opensslBytesPerSecond: 575304192 });
    expect(sizes(run)).toEqual(STD6);
  });

  it('keys -mr on the name whatever the +F index: 1.1.1 numbers the same cipher differently', () => {
    const text = ['+DT:aes-128-cbc:3:16', '+R:1000:aes-128-cbc:3.00', '+H:16', '+F:22:aes-128-cbc:5333.33'].join('\n');
    const a = only(parseSpeedOutput(text, 'a'));
    const b = only(parseSpeedOutput(text.replace('+F:22:', '+F:25:'), 'b'));
    expect(a.algorithms).toEqual(b.algorithms);
    expect(a.algorithms[0]!.samples[0]).toMatchObject({ count: 1000, opensslBytesPerSecond: 5333.33 });
  });

  it('records the engine that failed and the one that was "set", with the command asking for it', () => {
    const afalg = only(read(OWN, 'openssl-3.0.19-afalg-invalid-engine.txt'));
    expect(afalg.engine).toEqual({ id: 'afalg', set: false });
    expect(afalg.engineMessages[0]).toBe('Invalid engine "afalg"');
    expect(afalg.engineMessages.some((m) => m.includes('ENGINE_by_id:no such engine'))).toBe(true);
    expect(at(afalg, 1024).count).toBeGreaterThan(0);
    const padlock = only(read(OWN, 'openssl-3.0.19-padlock-engine-set.txt'));
    expect(padlock.engine).toEqual({ id: 'padlock', set: true });
  });

  it('reads two algorithms of one table, one block size only', () => {
    const run = only(read(OWN, 'openssl-3.0.19-two-digests-cpu.txt'));
    expect(run.algorithms.map((a) => [a.key, a.samples.map((s) => s.blockSize)])).toEqual([
      ['md5', [64]],
      ['sha256', [64]],
    ]);
  });

  it('joins lines that documentation wrapped: Doing lines, the compiler flags, the table header and row', () => {
    const run = only(read(OWN, 'wrapped-by-documentation-1.0.2.txt'));
    expect(run.version).toBe('1.0.2k');
    expect(sizes(run)).toEqual(STD);
    expect(at(run, 16)).toMatchObject({ count: 4034411, measuredSeconds: 2.99, opensslBytesPerSecond: 21588820 });
    expect(at(run, 256)).toMatchObject({ count: 273131, measuredSeconds: 3 });
    expect(at(run, 8192)).toMatchObject({ count: 8590, opensslBytesPerSecond: 23455740 });
  });

  it('reads a table without Doing lines as openssl’s figures only', () => {
    const run = only(read(OWN, 'table-only-cpu-1.1.1.txt'));
    expect(at(run, 1024)).toEqual({ blockSize: 1024, opensslBytesPerSecond: 95105710, line: 3 });
  });

  it('refuses an infk table without the counts: nothing to measure, never a zero', () => {
    const error = (() => {
      try {
        read(OWN, 'infk-table-only-3.2.txt');
      } catch (e) {
        return e as ArmkitError;
      }
      throw new Error('no error');
    })();
    expect(error).toBeInstanceOf(ArmkitError);
    expect(error.message).toBe(
      'infk-table-only-3.2.txt:4: AES-128-CBC at 16 bytes is "infk" (a time of 0.00 s) and the output has no "Doing ..." line with the count: there is nothing to measure.',
    );
  });

  it('names the file and the line it cannot read', () => {
    expect(() => read(OWN, 'unreadable-line.txt')).toThrow(
      /^unreadable-line\.txt:3: a line armkit cannot place in an "openssl speed" output: "Segmentation fault \(core dumped\) while timing 256 size blocks"$/,
    );
  });
});

describe('what the reader refuses', () => {
  const refuse = (text: string) => {
    try {
      parseSpeedOutput(text, 'out.txt');
    } catch (error) {
      expect(error).toBeInstanceOf(ArmkitError);
      expect((error as ArmkitError).exitCode).toBe(2);
      return (error as ArmkitError).message;
    }
    throw new Error('accepted');
  };
  it('an output without figures', () => {
    expect(refuse('root@board:~# openssl speed -evp aes-128-cbc\nroot@board:~#\n')).toMatch(/^out\.txt: no "openssl speed" figures in it/);
  });
  it('a Doing line cut short', () => {
    expect(refuse("Doing aes-128-cbc for 3s on 16 size blocks: 977706 aes-128-cbc's\n\nThe end")).toMatch(
      /^out\.txt:1: a "Doing \.\.\." line armkit cannot read/,
    );
  });
  it('a row with fewer values than the header has sizes', () => {
    expect(refuse('type 16 bytes 64 bytes\naes-128-cbc 5291.37k\n')).toBe(
      'out.txt:2: a table row with 1 values under a header of 2 block sizes (line 1): "aes-128-cbc 5291.37k"',
    );
  });
  it('+R without its +DT, +F before +H', () => {
    expect(refuse('+R:1:aes-128-cbc:3.00')).toMatch(/^out\.txt:1: a "\+R:" result without its "\+DT:" line/);
    expect(refuse('+F:22:aes-128-cbc:1.00')).toMatch(/^out\.txt:1: a "\+F:" line before the "\+H:" line/);
  });
  it('two figures for one block size in one run', () => {
    const line = "Doing md5 for 3s on 16 size blocks: 10 md5's in 3.00s";
    expect(refuse(`${line}\n${line}`)).toMatch(/^out\.txt:2: a second figure for md5 at 16 bytes in one run/);
  });
});

describe('table cells', () => {
  it('k is thousands, a cell up to 10000 bytes/s has no k, infk is no figure', () => {
    expect(cellBytes('5291.37k')).toBe(5291370);
    expect(cellBytes('9876.54')).toBe(9876.54);
    expect(cellBytes('infk')).toBeNull();
  });
  it('splits cells that overflowed into each other', () => {
    const run = only(parseSpeedOutput('type 16 bytes 64 bytes\nAES-128-CBC 1152791.05k1352142.81k\n', 'x'));
    expect(run.algorithms[0]!.samples.map((s) => s.opensslBytesPerSecond)).toEqual([1152791050, 1352142810]);
  });
  it('starts a second run when a second output follows the first table', () => {
    const one = "Doing md5 for 3s on 16 size blocks: 10 md5's in 3.00s\ntype 16 bytes\nmd5 0.05\n";
    const runs = parseSpeedOutput(`${one}${one.replace('10 md5', '20 md5')}`, 'x');
    expect(runs.map((r) => r.algorithms[0]!.samples[0]!.count)).toEqual([10, 20]);
  });
});
