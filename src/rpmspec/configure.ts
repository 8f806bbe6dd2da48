/**
 * The OpenSSL Configure invocation in %build, as real specs write it: "./Configure \" or "./config \" followed by
 * backslash-continued argument lines (with %ifarch blocks among them, some ending a branch without a backslash),
 * "../Configure", "%{__perl} ./Configure", a one-line call inside a shell "case". Flags are added as one new line
 * right after the command line (or after the command word on a one-line call), so every branch gets them and the
 * diff shows one added line; options that disable the engine are taken out wherever %build sets them.
 */
import { mismatch } from '../errors.js';
import type { EngineSeries } from '../recipes/openssl.js';
import type { SpecEditor } from './editor.js';
import { conditional, endsWithContinuation, findSections, isComment, type Section } from './text.js';

export interface Invocation {
  /** The command word as written ("./Configure", "../config"). */
  command: string;
  /** Index of the line with the command word. */
  line: number;
  /** Column just after the command word. */
  commandEnd: number;
  /** One past the last line of the invocation. */
  end: number;
}

/** What the patcher looks for, for the error message when nothing is found. */
export const SEARCHED_FOR = '"./Configure", "../Configure", "<dir>/Configure", "perl Configure", "./config" or "../config" in %build';

const PATH_COMMAND = /^[^\s='"]*\/(?:Configure|config)$/;

function commandWord(line: string): { word: string; end: number } | undefined {
  if (isComment(line) || conditional(line)) return undefined;
  const tokens = [...line.matchAll(/\S+/g)];
  for (const [i, t] of tokens.entries()) {
    const word = t[0].replace(/^\(+/, '');
    const start = t.index! + (t[0].length - word.length);
    if (PATH_COMMAND.test(word) || (word === 'Configure' && i > 0 && /perl/i.test(tokens[i - 1]![0]))) {
      return { word, end: start + word.length };
    }
    // The rest of the line is a shell comment.
    if (word.startsWith('#')) return undefined;
  }
  return undefined;
}

/** The extent of a continued command: through backslashed lines and %if branches, to the line that ends it. */
function invocationEnd(lines: string[], from: number, limit: number): number {
  let open = endsWithContinuation(lines[from]!);
  const stack: Array<{ entry: boolean; anyOpen: boolean; hasElse: boolean }> = [];
  let i = from + 1;
  for (; i < limit; i++) {
    const line = lines[i]!;
    const kind = conditional(line);
    if (kind === 'if') {
      stack.push({ entry: open, anyOpen: false, hasElse: false });
      continue;
    }
    if (kind === 'else' && stack.length > 0) {
      const top = stack[stack.length - 1]!;
      top.anyOpen ||= open;
      top.hasElse = true;
      open = top.entry;
      continue;
    }
    if (kind === 'endif' && stack.length > 0) {
      const top = stack.pop()!;
      // A branch that left the command open keeps it open; so does the implicit empty else.
      open = open || top.anyOpen || (!top.hasElse && top.entry);
      continue;
    }
    if (kind) continue;
    // A blank or comment line ends a continued command in sh; at the top level it ends the invocation.
    if (line.trim() === '' || isComment(line)) {
      if (stack.length === 0) break;
      open = false;
      continue;
    }
    if (!open && stack.length === 0) break;
    open = endsWithContinuation(line);
  }
  return i;
}

export function findInvocations(lines: string[], build: Section): Invocation[] {
  const found: Invocation[] = [];
  for (let i = build.start; i < build.end; i++) {
    const cmd = commandWord(lines[i]!);
    if (!cmd) continue;
    const end = endsWithContinuation(lines[i]!) ? invocationEnd(lines, i, build.end) : i + 1;
    found.push({ command: cmd.word, line: i, commandEnd: cmd.end, end });
    i = end - 1;
  }
  return found;
}

function tokensOf(lines: string[], from: number, to: number): string[] {
  const out: string[] = [];
  for (let i = from; i < to; i++) {
    const line = lines[i]!;
    if (isComment(line) || conditional(line)) continue;
    out.push(...(line.match(/[^\s'"\\]+/g) ?? []));
  }
  return out;
}

/** Indentation of the invocation's argument lines, so the added line looks like its neighbours. */
function argumentIndent(lines: string[], inv: Invocation): string {
  for (let i = inv.line + 1; i < inv.end; i++) {
    const line = lines[i]!;
    if (conditional(line) || isComment(line) || line.trim() === '') continue;
    return /^\s*/.exec(line)![0] || '\t';
  }
  return '\t';
}

export function buildSection(lines: string[], file: string): Section {
  const build = findSections(lines, 'build');
  if (build.length === 0) throw mismatch(`${file} has no %build section, so there is no OpenSSL Configure invocation to patch (searched for ${SEARCHED_FOR}).`);
  return build[0]!;
}

/** Adds the series' flags to every Configure invocation in %build; returns the invocations (after the edit). */
export function addConfigureFlags(editor: SpecEditor, series: EngineSeries, file: string): Invocation[] {
  const lines = editor.lines();
  const build = buildSection(lines, file);
  const invocations = findInvocations(lines, build);
  if (invocations.length === 0) {
    throw mismatch(`${file}: no OpenSSL Configure invocation found in %build (lines ${build.header + 1}-${build.end}); searched for ${SEARCHED_FOR}.`, [
      'armkit adds the engine flags to that command; a spec that configures OpenSSL some other way needs the flags added by hand.',
    ]);
  }
  // Bottom-up, so earlier indexes stay valid while lines are inserted.
  for (const inv of [...invocations].reverse()) {
    const present = tokensOf(lines, inv.line, inv.end);
    const missing = series.flags.filter((f) => !present.includes(f));
    const where = `${inv.command} (line ${inv.line + 1} of the input)`;
    if (missing.length === 0) {
      editor.unchanged.push(`${series.flags.join(' ')} already in ${where}`);
      continue;
    }
    const what = `added ${missing.join(' ')} to ${inv.command}`;
    if (endsWithContinuation(lines[inv.line]!)) {
      const touched = editor.insertAfter(inv.line, [`${argumentIndent(lines, inv)}${missing.join(' ')} \\`]);
      editor.record({ kind: 'configure', what, why: series.why }, touched);
    } else {
      const line = lines[inv.line]!;
      const touched = editor.replace(inv.line, `${line.slice(0, inv.commandEnd)} ${missing.join(' ')}${line.slice(inv.commandEnd)}`);
      editor.record({ kind: 'configure', what, why: series.why }, [touched]);
    }
  }
  return findInvocations(editor.lines(), buildSection(editor.lines(), file));
}

/** Takes options that keep the engine from being built out of %build (Configure arguments and the variables fed to it). */
export function removeDisablingOptions(editor: SpecEditor, series: EngineSeries, file: string): void {
  const lines = editor.lines();
  const build = buildSection(lines, file);
  const why = new Map(series.disabling.map((d) => [d.option, d.why]));
  for (let i = build.end - 1; i >= build.start; i--) {
    const line = lines[i]!;
    if (isComment(line) || conditional(line)) continue;
    const hits = [...line.matchAll(/[^\s'"\\]+/g)].filter((m) => why.has(m[0]));
    if (hits.length === 0) continue;
    let text = line;
    for (const hit of hits.reverse()) {
      const start = hit.index!;
      const end = start + hit[0].length;
      // Take one space with the option: the one before it, or the one after it at the start of a word list.
      const before = start > 0 && /[ \t]/.test(text[start - 1]!) ? 1 : 0;
      const after = before === 0 && /[ \t]/.test(text[end] ?? '') ? 1 : 0;
      text = text.slice(0, start - before) + text.slice(end + after);
    }
    const options = hits.map((h) => h[0]);
    const change = {
      kind: 'disabling-option' as const,
      what: `removed ${options.join(' ')} from %build`,
      why: `${options.map((o) => `${o}: ${why.get(o)}`).join('; ')}`,
    };
    if (/^\s*\\?\s*$/.test(text) && endsWithContinuation(line)) {
      // A line that only held the option inside a continued command: drop it, the continuation stays intact.
      editor.record(
        change,
        [],
        [editor.remove(i)!].filter((n) => n !== undefined),
      );
    } else {
      editor.record(change, [editor.replace(i, /^\s*$/.test(text) ? '' : text)]);
    }
  }
}
