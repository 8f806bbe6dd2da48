/**
 * The patched spec must still parse: rpmspec -P on it, with the Fedora macros this host's rpm lacks supplied
 * (rpm-macros.ts). When it does not, the original is parsed the same way: if the original fails too, the patch is
 * not to blame but the host's rpm, which lacks the distribution's macros (OpenMandriva's %mklibname and
 * %{cross_compiling}, an %include of a macros file it does not ship). Then each missing macro gets a harmless
 * stand-in, missing %include files are left out, and both specs are parsed again under exactly the same
 * stand-ins: the patch is verified when both parse and the patched one has the engine flags. The caller says
 * which macros were missing and that the final check belongs on the target. A failure is a verification error
 * carrying rpmspec's own words.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mismatch } from '../errors.js';
import type { Runner } from '../proc/runner.js';
import { tail } from '../proc/runner.js';
import { scratch } from '../scratch.js';
import { withInstallHints } from './hints.js';
import { defineArgs, missingParseMacros, PARSE_FALLBACK_MACROS } from './rpm-macros.js';
import { sections, tagLine } from './text.js';

export interface ParseCheck {
  /** The macros armkit supplied because the host's rpm lacks them. */
  supplied: string[];
  /** rpmspec -P's output: the spec as rpm sees it. */
  parsed: string;
}

/** How the patched spec was verified. */
export interface SpecVerification {
  /** parsed: rpmspec -P parses the patched spec. compared: only under stand-ins, the original alike. */
  status: 'parsed' | 'compared';
  /** The Fedora macros armkit supplied because this rpm lacks them (rpm-macros.ts). */
  supplied: string[];
  /** Macros neither this rpm nor armkit defines, given stand-ins for the comparison. */
  standIns: string[];
  /** %include files this rpm does not have, left out of both specs for the comparison. */
  includes: string[];
}

/** Spec directives and section names: `%name` words rpm interprets itself, never macros to stand in for. */
const DIRECTIVES = new Set(
  (
    'if ifarch ifnarch ifos ifnos elif elifarch elifos else endif include global define undefine package description prep build install ' +
    'check clean files changelog pre post preun postun pretrans posttrans preuntrans postuntrans verifyscript triggerprein triggerin ' +
    'triggerun triggerpostun filetriggerin filetriggerun filetriggerpostun transfiletriggerin transfiletriggerun transfiletriggerpostun ' +
    'sourcelist patchlist generate_buildrequires conf setup patch dir doc docdir license config attr defattr verify ghost exclude lang ' +
    'caps artifact readme missingok noreplace buildsubdir'
  ).split(' '),
);

export interface MacroUse {
  name: string;
  /** Used as %{name args} or "%name args" (a parametric macro such as %mklibname). */
  withArgs: boolean;
  /** Every use is %{?name...} or %{!?name...}: the spec copes with it undefined. */
  conditionalOnly: boolean;
}

/** Every macro a spec refers to, with how it is used; directives, the spec's own macros and its tags left out. */
export function macroUses(text: string): MacroUse[] {
  const lines = text.split(/\r?\n/);
  const own = new Set<string>();
  for (const line of lines) {
    const m = /^\s*%(?:global|define)\s+([A-Za-z_][A-Za-z0-9_]*)/.exec(line);
    if (m) own.add(m[1]!);
  }
  const preamble = sections(lines)[0]!;
  for (let i = preamble.start; i < preamble.end; i++) {
    const tag = tagLine(lines[i]!)?.tag;
    if (tag) own.add(tag.replace(/\(.*$/, '').toLowerCase());
  }
  const uses = new Map<string, MacroUse>();
  const note = (name: string, conditional: boolean, withArgs: boolean) => {
    if (DIRECTIVES.has(name) || own.has(name) || /^(SOURCE|PATCH)\d*$|^[SP]$|^patch\d+$/.test(name)) return;
    const use = uses.get(name) ?? { name, withArgs: false, conditionalOnly: true };
    use.withArgs ||= withArgs;
    use.conditionalOnly &&= conditional;
    uses.set(name, use);
  };
  for (const line of lines) {
    if (/^\s*#/.test(line)) continue;
    const condition = /^\s*%(el)?if/.test(line);
    const text = line.replace(/%%/g, '');
    for (const m of text.matchAll(/%\{([!?]*)([A-Za-z_][A-Za-z0-9_]*)(\s+[^}\s]|[:}]|\s*$)?/g)) {
      note(m[2]!, m[1]!.includes('?'), Boolean(m[3] && /^\s+\S/.test(m[3])));
    }
    for (const m of text.matchAll(/(?<![%{A-Za-z0-9_])%([A-Za-z_][A-Za-z0-9_]*)([ \t]+[^\s&|)]+)?/g)) {
      note(m[1]!, false, Boolean(m[2]) && !condition);
    }
  }
  return [...uses.values()];
}

/** Which of the names this rpm (with armkit's fallbacks) does not define, asked in one `rpm --eval`. */
async function undefinedMacros(names: string[], defines: string[], runner: Runner): Promise<string[]> {
  if (names.length === 0) return [];
  const probe = names.map((n) => `%{?${n}:1}%{!?${n}:0}`).join(' ');
  const result = await withInstallHints(['rpm'], () => runner.capture(['rpm', ...defines, '--eval', probe]));
  const answers = result.stdout.trim().split(/\s+/);
  if (result.exitCode !== 0 || answers.length !== names.length) return [];
  return names.filter((_, i) => answers[i] === '0');
}

/** The spec's %include lines whose file does not exist here, as this rpm expands their names. */
async function missingIncludes(
  text: string,
  expand: (written: string) => Promise<{ exitCode: number; stdout: string }>,
): Promise<Array<{ line: string; file: string }>> {
  const lines = text.split('\n').filter((l) => /^\s*%include\s+\S/.test(l));
  const out: Array<{ line: string; file: string }> = [];
  for (const line of [...new Set(lines)]) {
    const written = line.trim().replace(/^%include\s+/, '');
    const result = await withInstallHints(['rpm'], () => expand(written));
    const file = result.exitCode === 0 ? result.stdout.trim() : written;
    if (!existsSync(file)) out.push({ line, file });
  }
  return out;
}

/**
 * A stand-in that parses wherever the macro may stand: "0" where it is a value or a condition, a name made of its
 * arguments where it is called with some (so %{mklibname crypto 3} and %{mklibname ssl 3} stay two packages).
 */
export function standInDefines(uses: MacroUse[]): string[] {
  return uses.flatMap((u) =>
    u.withArgs
      ? [
          '--define',
          `${u.name}(-) %{lua: local a = {} for i = 1, #arg do a[#a + 1] = arg[i] end if #a == 0 then print("0") else print((("armkit_standin_${u.name}_" .. table.concat(a, "_")):gsub("[^%w_.+]", "_"))) end}`,
        ]
      : ['--define', `${u.name} 0`],
  );
}

interface Parse {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** rpmspec -P on text, in a scratch directory of its own. */
async function parse(text: string, name: string, defines: string[], runner: Runner): Promise<Parse> {
  const dir = mkdtempSync(join(tmpdir(), 'armkit-spec-'));
  const forget = scratch(dir);
  try {
    const file = join(dir, name);
    writeFileSync(file, text);
    return await withInstallHints(['rpmspec'], () => runner.capture(['rpmspec', '-P', ...defines, file]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
    forget();
  }
}

const said = (p: Parse) => tail(p.stderr || p.stdout, 15);

/** rpmspec -P on the patched spec alone (the build command's check). */
export async function checkSpecParses(text: string, name: string, runner: Runner): Promise<ParseCheck> {
  const missing = await missingParseMacros(runner);
  const result = await parse(text, name, defineArgs(missing), runner);
  if (result.exitCode !== 0) {
    throw mismatch(`The patched ${name} does not parse: rpmspec -P exited with ${result.exitCode}.`, said(result));
  }
  return { supplied: missing.map((m) => m.name), parsed: result.stdout };
}

/**
 * Verifies the patch: the patched spec parses, or, where the original does not parse here either, both parse alike
 * under stand-ins for what this rpm lacks and the patched one carries `flags`.
 */
export async function verifyPatchedSpec(original: string, patched: string, name: string, runner: Runner, flags: string[]): Promise<SpecVerification> {
  const fallbacks = await missingParseMacros(runner);
  const defines = defineArgs(fallbacks);
  const supplied = fallbacks.map((m) => m.name);
  const first = await parse(patched, name, defines, runner);
  if (first.exitCode === 0) return { status: 'parsed', supplied, standIns: [], includes: [] };

  const before = await parse(original, name, defines, runner);
  if (before.exitCode === 0) {
    throw mismatch(`The patched ${name} does not parse, while the original does: rpmspec -P exited with ${first.exitCode}.`, said(first));
  }

  // Both fail: what does this rpm lack? Fedora's fallbacks are defined already. Macros the spec uses that this rpm
  // does not define get stand-ins, those rpmspec's errors name first, and missing %include files are left out.
  const known = new Set(PARSE_FALLBACK_MACROS.map((m) => m.name));
  const merged = new Map<string, MacroUse>();
  for (const u of [...macroUses(original), ...macroUses(patched)]) {
    if (u.conditionalOnly || known.has(u.name)) continue;
    const seen = merged.get(u.name);
    merged.set(u.name, { ...u, withArgs: u.withArgs || Boolean(seen?.withArgs) });
  }
  const lacking = new Set(await undefinedMacros([...merged.keys()], defines, runner));
  const pool = [...merged.values()].filter((u) => lacking.has(u.name));
  const missingFiles = await missingIncludes(`${original}\n${patched}`, (file) => runner.capture(['rpm', ...defines, '--eval', file]));
  const drop = new Set(missingFiles.map((i) => i.line));
  const without = (text: string) =>
    text
      .split('\n')
      .map((l) => (drop.has(l) ? '' : l))
      .join('\n');
  const standIns: MacroUse[] = [];
  const argsFor = () => [...defines, ...standInDefines(standIns)];
  let current = missingFiles.length > 0 ? await parse(without(original), name, argsFor(), runner) : before;
  for (let round = 0; current.exitCode !== 0 && round < 8; round++) {
    const errors = `${current.stderr}\n${current.stdout}`;
    const rest = pool.filter((u) => !standIns.includes(u));
    const named = rest.filter((u) => new RegExp(`%\\{?[!?]*${u.name}(?![A-Za-z0-9_])`).test(errors));
    // rpm's errors do not always quote the macro: then every other one this rpm lacks (printf's %s is no macro).
    const added = named.length > 0 ? named : rest.filter((u) => u.name.length > 1);
    if (added.length === 0) break;
    standIns.push(...added);
    current = await parse(without(original), name, argsFor(), runner);
  }
  const what = [...standIns.map((u) => `%${u.name}`), ...missingFiles.map((i) => `%include ${i.file}`)].join(', ');
  if (standIns.length === 0 && missingFiles.length === 0) {
    throw mismatch(
      `rpmspec -P cannot parse ${name} here, the original as well as the patched spec, and not for a macro this rpm lacks: rpmspec -P exited with ${before.exitCode}.`,
      [...said(before), 'Check it with rpmspec -P on the target, or pass --no-verify to write the patched spec unchecked.'],
    );
  }
  if (current.exitCode !== 0) {
    throw mismatch(
      `The original ${name} does not parse here even with stand-ins for what this rpm lacks (${what}): rpmspec -P exited with ${current.exitCode}.`,
      [...said(current), 'Check the patched spec with rpmspec -P on the target, or pass --no-verify to write it unchecked.'],
    );
  }
  const standInArgs = argsFor();
  const patchedParse = await parse(without(patched), name, standInArgs, runner);
  if (patchedParse.exitCode !== 0) {
    throw mismatch(
      `The patched ${name} does not parse with stand-ins for what this rpm lacks (${what}), while the original does: rpmspec -P exited with ${patchedParse.exitCode}.`,
      said(patchedParse),
    );
  }
  const words = patchedParse.stdout.split(/[\s'"\\]+/);
  const absent = flags.filter((f) => !words.includes(f));
  if (absent.length > 0) {
    throw mismatch(
      `The patched ${name} parses with stand-ins for ${what}, but rpm does not see ${absent.join(' ')} in it: the %if branches rpm takes here leave them out.`,
    );
  }
  return { status: 'compared', supplied, standIns: standIns.map((u) => u.name), includes: missingFiles.map((i) => i.file) };
}
