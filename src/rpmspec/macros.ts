/**
 * Just enough of rpm's macro expansion to read a spec's own header: %global/%define values and the Name, Version,
 * Release and Epoch tags, with %{name}, %name, %{?name}, %{!?name}, %{?name:text}, %{!?name:text} and %%.
 * Macros the spec does not define (the distribution's) are left as written; a caller decides whether that matters.
 */
import { sections, tagLine } from './text.js';

export type MacroTable = Map<string, string>;

const DEFINE = /^\s*%(?:global|define)\s+([A-Za-z_][A-Za-z0-9_]*)(\([^)]*\))?\s+(.*?)\s*$/;

/**
 * The spec's own plain macros: %global/%define anywhere (first definition wins, as the preamble's usually does) and
 * the preamble's Name/Version/Release/Epoch tags as %{name}, %{version}, %{release}, %{epoch}.
 */
export function specMacros(lines: string[]): MacroTable {
  const table: MacroTable = new Map();
  for (const line of lines) {
    const m = DEFINE.exec(line);
    // Parametric macros (name(opts)) and multi-line bodies are programs, not values.
    if (m && !m[2] && !m[3]!.endsWith('\\') && !table.has(m[1]!)) table.set(m[1]!, m[3]!);
  }
  const preamble = sections(lines)[0]!;
  for (let i = preamble.start; i < preamble.end; i++) {
    const t = tagLine(lines[i]!);
    const key = t?.tag.toLowerCase();
    if (t && (key === 'name' || key === 'version' || key === 'release' || key === 'epoch') && !table.has(key)) table.set(key, t.value);
  }
  return table;
}

/** Expands the macros the table knows; unknown ones stay as written, so "%{?dist}" survives for rpm. */
export function expand(text: string, table: MacroTable, depth = 0): string {
  if (depth > 20) return text;
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c !== '%') {
      out += c;
      i += 1;
      continue;
    }
    const next = text[i + 1];
    if (next === '%') {
      out += '%%';
      i += 2;
      continue;
    }
    if (next === '{') {
      const close = matchingBrace(text, i + 1);
      if (close < 0) {
        out += text.slice(i);
        break;
      }
      out += expandBraced(text.slice(i, close + 1), text.slice(i + 2, close), table, depth);
      i = close + 1;
      continue;
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1));
    if (m && table.has(m[0])) {
      out += expand(table.get(m[0])!, table, depth + 1);
      i += 1 + m[0].length;
      continue;
    }
    out += c;
    i += 1;
  }
  return depth === 0 ? out.replace(/%%/g, '%') : out;
}

function matchingBrace(text: string, open: number): number {
  let level = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') level += 1;
    else if (text[i] === '}' && --level === 0) return i;
  }
  return -1;
}

function expandBraced(whole: string, body: string, table: MacroTable, depth: number): string {
  const m = /^(!?\??|\?!)([A-Za-z_][A-Za-z0-9_]*)(?::([\s\S]*))?$/.exec(body);
  if (!m) return whole;
  const [, flags, name, arg] = m;
  const conditional = flags!.includes('?');
  const negated = flags!.includes('!');
  const defined = table.has(name!);
  if (!conditional) return defined ? expand(table.get(name!)!, table, depth + 1) : whole;
  // Whether an unknown macro is defined is the distribution's business: keep the expression for rpm.
  if (!defined) return whole;
  if (negated) return '';
  return expand(arg !== undefined ? arg : table.get(name!)!, table, depth + 1);
}

/** Whether text still has a macro in it after expansion. */
export function hasMacro(text: string): boolean {
  return /%(\{|[A-Za-z_])/.test(text.replace(/%%/g, ''));
}
