/**
 * The spec patcher against variations of every fixture spec (armkit's own, and the shared corpus when it is there):
 * the Configure arguments re-wrapped, re-indented and reordered, CRLF line ends, tabs for spaces, and the text
 * fields the patcher reads or copies (Summary, License, URL, %description, Release, the openssl.cnf and engines
 * paths of %files, --openssldir, the recipe's changelog packager) filled with random strings of %, $, quotes,
 * backticks and newlines. For each: the flags go in exactly once per invocation, the options that disable the
 * engine are gone, a second run changes nothing, and no random string reaches a line armkit wrote (a macro or
 * shell position) unescaped. A seeded PRNG makes every case reproducible: ARMKIT_FUZZ_SEED=<seed> replays one.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArmkitError } from '../../src/errors.js';
import { loadOpensslRecipe, type OpensslRecipe } from '../../src/recipes/openssl.js';
import { buildSection, findInvocations } from '../../src/rpmspec/configure.js';
import { chooseEngine } from '../../src/rpmspec/engine.js';
import { resolveOpensslVersion } from '../../src/rpmspec/header.js';
import { type PatchResult, patchOpensslSpec } from '../../src/rpmspec/openssl.js';
import { conditional, isComment } from '../../src/rpmspec/text.js';

const ROOT = resolve(import.meta.dirname, '../..');
const OWN = join(ROOT, 'test/fixtures/specs');
const CORPUS = resolve(ROOT, '../shared/fixtures/specs');
const haveCorpus = existsSync(CORPUS);
const NOW = new Date('2026-11-27T12:00:00Z');
const { recipe } = loadOpensslRecipe();
/** Cases per spec file; each has a seed of its own, printed with any failure. */
const CASES = Number(process.env.ARMKIT_FUZZ_CASES ?? 24);
/** ARMKIT_FUZZ_SEED replays one case; ARMKIT_FUZZ_BASE starts another series. */
const BASE_SEED = Number(process.env.ARMKIT_FUZZ_SEED ?? process.env.ARMKIT_FUZZ_BASE ?? 20261127);

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return {
    next,
    int,
    pick: <T>(items: readonly T[]): T => items[int(items.length)]!,
    chance: (p: number) => next() < p,
    shuffle<T>(items: T[]): T[] {
      const out = [...items];
      for (let i = out.length - 1; i > 0; i--) {
        const j = int(i + 1);
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    },
  };
}
type Rng = ReturnType<typeof prng>;

/** Characters rpm or the shell would interpret, and plain ones between them. */
const HOSTILE = ['%', '%%', '%(touch PWNED)', '%{_bindir}', '%{?x:y}', '$', '$(id)', '${IFS}', '`id`', "'", '"', '\\', ';', '|', '&', '#', '*', '\n'];
const LETTERS = 'abcdefghijklmnopqrstuvwxyz0123456789 ._-';
/** What armkit may copy from a spec into lines of its own. */
const PLAIN = /^(?:[A-Za-z0-9._/+-]|%\{[A-Za-z_][A-Za-z0-9_]*\})+$/;

/** A random value that starts with a marker of its own (QZ<n>Q), so it can be found wherever it lands. */
function hostile(rng: Rng, id: number, newlines: boolean): string {
  let s = `QZ${id}Q`;
  const parts = 2 + rng.int(6);
  for (let i = 0; i < parts; i++) {
    s += rng.chance(0.5) ? rng.pick(HOSTILE.filter((h) => newlines || h !== '\n')) : LETTERS[rng.int(LETTERS.length)]!;
  }
  return s;
}

/** Words of a line as sh splits them (quotes kept with their word); undefined when a quote stays open. */
function words(line: string): string[] | undefined {
  const out: string[] = [];
  let word = '';
  let quote: string | undefined;
  for (const c of line) {
    if (quote) {
      word += c;
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') {
      quote = c;
      word += c;
    } else if (/\s/.test(c)) {
      if (word) out.push(word);
      word = '';
    } else word += c;
  }
  if (quote) return undefined;
  if (word) out.push(word);
  return out;
}

/**
 * Re-lays out every Configure invocation of %build: runs of plain argument lines (no %if, comment or quote that
 * spans lines) are re-wrapped, re-indented and reordered. The command stays one sh command.
 */
function relayout(text: string, rng: Rng): string {
  const lines = text.split('\n');
  const build = buildSection(lines, 'fuzz.spec');
  const invocations = findInvocations(lines, build);
  for (const inv of [...invocations].reverse()) {
    if (inv.end - inv.line < 2) continue;
    // Runs of argument lines between conditionals, each line ending in a backslash except maybe the last.
    let i = inv.line + 1;
    while (i < inv.end) {
      const start = i;
      while (i < inv.end && !conditional(lines[i]!) && !isComment(lines[i]!) && lines[i]!.trim() !== '') i++;
      const run = lines.slice(start, i);
      const lastOfCommand = i === inv.end;
      if (run.length > 0) {
        const split = run.map((l) => words(l.replace(/\\\s*$/, '')));
        if (split.every((w) => w !== undefined)) {
          const endsOpen = /\\\s*$/.test(run[run.length - 1]!);
          let tokens = split.flat() as string[];
          // The last argument of the command stays last (a target such as linux-armv4 may be position-bound).
          const keepLast = lastOfCommand && !endsOpen ? tokens.pop() : undefined;
          if (rng.chance(0.6)) tokens = rng.shuffle(tokens);
          const indent = rng.pick(['\t', '  ', '        ', ' \t', '']);
          const grouped: string[][] = [];
          for (const t of tokens) {
            if (grouped.length === 0 || rng.chance(0.4)) grouped.push([]);
            grouped[grouped.length - 1]!.push(t);
          }
          if (keepLast !== undefined) grouped.push([keepLast]);
          const rewritten = grouped.map((g, k) => {
            const last = k === grouped.length - 1;
            const tail = last && !endsOpen ? '' : rng.pick([' \\', '\\', '  \\', ' \\ ']);
            return `${indent}${g.join(rng.pick([' ', '  ', '\t']))}${tail}`;
          });
          if (rewritten.length > 0) lines.splice(start, run.length, ...rewritten);
          i = start + rewritten.length;
          inv.end += rewritten.length - run.length;
        }
      }
      i++;
    }
  }
  return lines.join('\n');
}

/** Tabs after preamble tags and for indentation. */
const tabbed = (text: string) => text.replace(/^([A-Za-z][A-Za-z0-9]*(?:\([^)]*\))?):[ ]+/gm, '$1:\t').replace(/^ {8}/gm, '\t');

interface Variant {
  text: string;
  recipe: OpensslRecipe;
  /** Every random value planted, with where. */
  planted: Array<{ where: string; value: string }>;
  what: string[];
}

/** Replaces the value of the first preamble tag (case-insensitive) or adds the tag after Name:. */
function setTag(text: string, tag: string, value: string): string {
  const re = new RegExp(`^(${tag}\\s*:\\s*).*$`, 'im');
  if (re.test(text)) return text.replace(re, (_m, head: string) => `${head}${value}`);
  return text.replace(/^(Name\s*:.*)$/im, (line) => `${line}\n${tag}: ${value}`);
}

/** A random value as it may stand in a spec line: what follows a newline is indented, so it starts no section. */
const inLine = (value: string) => value.replace(/\n/g, '\n ');

function variant(input: string, rng: Rng, seed: number): Variant {
  const planted: Variant['planted'] = [];
  const what: string[] = [];
  let text = input;
  let id = 0;
  /** A hostile value, as it is written into the spec (after `shape`), remembered with where it went. */
  const plant = (where: string, newlines = true, shape: (v: string) => string = (v) => v) => {
    const value = shape(hostile(rng, seed * 100 + id++, newlines));
    planted.push({ where, value });
    return value;
  };
  if (rng.chance(0.8)) {
    text = relayout(text, rng);
    what.push('relayout');
  }
  if (rng.chance(0.5)) {
    text = setTag(text, 'Summary', inLine(plant('Summary')));
    text = setTag(text, 'License', inLine(plant('License')));
    text = setTag(text, 'URL', inLine(plant('URL')));
    what.push('tags');
  }
  if (rng.chance(0.5)) {
    // Lines of random text at the top of the main %description (none starts with "%" or "*").
    const body = `${plant('description')
      .split('\n')
      .map((l) => `x${l}`)
      .join('\n')}`;
    text = text.replace(/^%description\s*\n/m, (m) => `${m}${body}\n`);
    what.push('description');
  }
  if (rng.chance(0.4)) {
    // A Release with hostile text after its number: the changelog copies the release.
    text = text.replace(/^(Release\s*:\s*)(\d+)/im, (_m, head: string, n: string) => `${head}${n}${plant('Release', false, (v) => v.replace(/[\s#]/g, '_'))}`);
    what.push('release');
  }
  if (rng.chance(0.4)) {
    // Hostile directories where the patcher looks for openssl.cnf and the engines directory.
    const dir = `/etc/${plant('cnf dir', false, (v) => v.replace(/[\s/]/g, '_'))}`;
    // Function replacements: a $ in the value must not act as a replacement pattern.
    text = text.replace(/^(%config\S*\s+)(\S*)\/(openssl[0-9._-]*\.cnf)\s*$/m, (_m, head: string, _d: string, file: string) => `${head}${dir}/${file}`);
    const engines = `/usr/lib/${plant('engines dir', false, (v) => v.replace(/[\s/]/g, '_'))}/engines-3`;
    text = text.replace(/^(.*\s|)(\S*\/engines-[^/\s]+)(\S*)\s*$/m, (_m, head: string, _d: string, rest: string) => `${head}${engines}${rest}`);
    const openssldir = `--openssldir=/etc/${plant('openssldir', false, (v) => v.replace(/[\s/\\]/g, '_'))}`;
    text = text.replace(/--openssldir=\S+/, () => openssldir);
    what.push('paths');
  }
  if (rng.chance(0.3)) {
    text = tabbed(text);
    what.push('tabs');
  }
  let fuzzed = recipe;
  if (rng.chance(0.4)) {
    fuzzed = { ...recipe, changelog: { packager: `${plant('packager', rng.chance(0.3))} <fuzz@example.org>` } };
    what.push('packager');
  }
  if (rng.chance(0.3)) {
    text = text.replace(/\r?\n/g, '\r\n');
    what.push('crlf');
  }
  return { text, recipe: fuzzed, planted, what };
}

const patch = (text: string, r: OpensslRecipe): PatchResult => patchOpensslSpec(text, { recipe: r, file: 'fuzz.spec', now: NOW, armkitVersion: '9.9.9' });

/** The tokens of each Configure invocation of %build (comments and %if lines left out). */
function invocationTokens(text: string): string[][] {
  const lines = text.replace(/\r/g, '').split('\n');
  return findInvocations(lines, buildSection(lines, 'fuzz.spec')).map((inv) =>
    lines
      .slice(inv.line, inv.end)
      .filter((l) => !isComment(l) && !conditional(l))
      .flatMap((l) => l.match(/[^\s'"\\]+/g) ?? []),
  );
}

type Patcher = (text: string, r: OpensslRecipe) => PatchResult;

/** Checks one variant; returns what is wrong, or nothing. */
function check(input: Variant, run: Patcher = patch): string[] {
  const problems: string[] = [];
  let result: PatchResult;
  try {
    result = run(input.text, input.recipe);
  } catch (error) {
    // A packager of several lines is refused (a recipe error), never written.
    const packager = input.planted.find((p) => p.where === 'packager');
    if (error instanceof ArmkitError && error.kind === 'recipe' && packager?.value.includes('\n') && /packager .* is not one line/.test(error.message))
      return [];
    return [`the patcher threw ${error instanceof ArmkitError ? `ArmkitError(${error.kind}): ${error.message}` : String((error as Error).stack ?? error)}`];
  }
  const { version } = resolveOpensslVersion(input.text.replace(/\r/g, '').split('\n'), input.recipe, 'fuzz.spec');
  const engine = chooseEngine(input.recipe, version);
  const before = invocationTokens(input.text);
  const after = invocationTokens(result.text);
  if (after.length !== before.length) problems.push(`${before.length} Configure invocations before, ${after.length} after`);
  after.forEach((tokens, i) => {
    for (const flag of engine.flags) {
      const n = tokens.filter((t) => t === flag).length;
      if (n !== 1) problems.push(`invocation ${i + 1} has ${flag} ${n} times`);
    }
    for (const d of engine.disabling) if (tokens.includes(d.option)) problems.push(`invocation ${i + 1} still has ${d.option}`);
  });
  const again = run(result.text, input.recipe);
  if (again.text !== result.text) problems.push('a second run changed the spec');
  if (again.changed) problems.push('a second run reported changes');
  if (input.text.includes('\r\n') && /[^\r]\n/.test(result.text)) problems.push('CRLF input, but lines armkit wrote end in LF only');
  // A planted value may stay where the spec had it, but armkit copies none anywhere else (a macro or shell
  // position of its own making), except into its changelog entry as text: there every % is doubled.
  const out = result.text.replace(/\r/g, '').split('\n');
  const changelogLines = new Set(result.changes.filter((c) => c.kind === 'changelog').flatMap((c) => c.lines.map((n) => n - 1)));
  const elsewhere = out.filter((_, i) => !changelogLines.has(i)).join('\n');
  const entry = out.filter((_, i) => changelogLines.has(i));
  for (const { where, value } of input.planted) {
    const marker = value.slice(0, value.indexOf('Q', 2) + 1);
    const times = (text: string) => text.split(marker).length - 1;
    // A plain path (letters, digits, ._/+- and %{macro} references) may be copied: it is what armkit's defaults are.
    if (!PLAIN.test(value) && times(elsewhere) > times(input.text)) {
      const lines = out.filter((l, i) => l.includes(marker) && !changelogLines.has(i));
      problems.push(`the ${where} value was copied into lines of armkit's: ${JSON.stringify(lines)}`);
    }
    for (const line of entry) {
      if (
        line.includes(marker) &&
        line
          .replace(/%%/g, '')
          .replace(/%autorelease\b/, '')
          .includes('%')
      ) {
        problems.push(`the ${where} value reached the changelog with a % rpm would expand: ${JSON.stringify(line)}`);
      }
    }
    if (!PLAIN.test(value) && result.config?.content.includes(marker)) problems.push(`the ${where} value reached ${result.config.file}`);
  }
  return problems;
}

function specsIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.spec'))
    .filter((f) => {
      // Only specs the patcher patches: refusals (0.9.8, 4.x, not OpenSSL, no Configure) have nothing to fuzz.
      try {
        patch(readFileSync(join(dir, f), 'utf8'), recipe);
        return true;
      } catch {
        return false;
      }
    });
}

function fuzz(dir: string, file: string) {
  const input = readFileSync(join(dir, file), 'utf8');
  const failures: string[] = [];
  const seeds = process.env.ARMKIT_FUZZ_SEED ? [BASE_SEED] : Array.from({ length: CASES }, (_, i) => BASE_SEED + i * 7919 + file.length);
  for (const seed of seeds) {
    const v = variant(input, prng(seed), seed);
    const problems = check(v);
    if (problems.length > 0) failures.push(`seed ${seed} (${v.what.join(', ')}; replay with ARMKIT_FUZZ_SEED=${seed}): ${problems.join('; ')}`);
  }
  expect(failures, `${file}:\n${failures.join('\n')}`).toEqual([]);
}

describe('the spec patcher on fuzzed variations of armkit’s fixture specs', () => {
  const own = specsIn(OWN);
  it('has fixtures to fuzz', () => {
    expect(own.length).toBeGreaterThanOrEqual(4);
  });
  it.each(own)('%s', (file) => fuzz(OWN, file));
});

(haveCorpus ? describe : describe.skip)(
  `the spec patcher on fuzzed variations of the shared corpus (${haveCorpus ? CORPUS : `skipped: ${CORPUS} is absent`})`,
  () => {
    const corpus = haveCorpus ? specsIn(CORPUS) : [];
    it.each(corpus)('%s', (file) => fuzz(CORPUS, file));
  },
);

describe('the fuzzer itself (so the checks above can fail)', () => {
  it('the same seed gives the same variant, another seed another one', () => {
    const input = readFileSync(join(OWN, 'fedora-style-3.0.9.spec'), 'utf8');
    expect(variant(input, prng(42), 42).text).toBe(variant(input, prng(42), 42).text);
    expect(variant(input, prng(42), 42).text).not.toBe(variant(input, prng(43), 43).text);
  });

  it('relayout keeps every argument and changes the layout', () => {
    const input = readFileSync(join(OWN, 'fedora-style-3.0.9.spec'), 'utf8');
    const moved = relayout(input, prng(7));
    expect(moved).not.toBe(input);
    expect(invocationTokens(moved)[0]!.sort()).toEqual(invocationTokens(input)[0]!.sort());
  });

  it('finds a flag that went in twice, a value copied into a line of armkit’s, a % left for rpm and a second run that changes the spec', () => {
    const input = readFileSync(join(OWN, 'fedora-style-3.0.9.spec'), 'utf8');
    const value = 'QZ999Q$(touch PWNED)%(id)';
    const base: Variant = { text: input, recipe, planted: [{ where: 'test', value }], what: ['self-test'] };
    expect(check(base)).toEqual([]);
    const twice = { ...base, text: input.replace('./Configure \\', './Configure enable-devcryptoeng enable-devcryptoeng \\') };
    expect(check(twice).join(' ')).toMatch(/enable-devcryptoeng 2 times/);
    // Patchers with the bugs the checks are for.
    const copying: Patcher = (text, r) => {
      const result = patch(text, r);
      return { ...result, text: result.text.replace(/^(install -D .*)$/m, (line) => `${line} ${value}`) };
    };
    expect(check(base, copying).join(' ')).toMatch(/the test value was copied into lines of armkit's/);
    const unescaped: Patcher = (text, r) => {
      const result = patch(text, { ...r, changelog: { packager: `${value} <p@example.org>` } });
      const lines = result.text.split('\n');
      const entry = result.changes.find((c) => c.kind === 'changelog');
      if (!entry) return result;
      const at = entry.lines[0]! - 1;
      lines[at] = lines[at]!.replace(/%%/g, '%');
      return { ...result, text: lines.join('\n') };
    };
    expect(check(base, unescaped).join(' ')).toMatch(/reached the changelog with a % rpm would expand/);
    const growing: Patcher = (text, r) => {
      const result = patch(text, r);
      return { ...result, text: `${result.text}\n# again` };
    };
    expect(check(base, growing).join(' ')).toMatch(/a second run changed the spec/);
  });

  it('a packager of several lines is refused as a recipe error, never written', () => {
    const input = readFileSync(join(OWN, 'fedora-style-3.0.9.spec'), 'utf8');
    const error = (() => {
      try {
        patch(input, { ...recipe, changelog: { packager: 'a\n%post\ntouch PWNED <p@example.org>' } });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ArmkitError);
    expect((error as ArmkitError).kind).toBe('recipe');
    expect((error as ArmkitError).message).toMatch(/is not one line/);
  });
});
