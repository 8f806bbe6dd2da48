/**
 * The structure of an RPM spec as lines: sections, preamble tags, %if nesting, package names. The patcher edits
 * single lines, so everything here works on line indexes into the original text and never reformats anything.
 */

/** Directives that start a new part of a spec (everything up to the next one belongs to it). */
const SECTION_NAMES = [
  'package',
  'description',
  'prep',
  'conf',
  'generate_buildrequires',
  'build',
  'install',
  'check',
  'clean',
  'files',
  'changelog',
  'pre',
  'post',
  'preun',
  'postun',
  'pretrans',
  'posttrans',
  'preuntrans',
  'postuntrans',
  'verifyscript',
  'triggerprein',
  'triggerin',
  'triggerun',
  'triggerpostun',
  'filetriggerin',
  'filetriggerun',
  'filetriggerpostun',
  'transfiletriggerin',
  'transfiletriggerun',
  'transfiletriggerpostun',
  'sourcelist',
  'patchlist',
];
const SECTION = new RegExp(`^%(${SECTION_NAMES.join('|')})(?=\\s|$)(.*)$`);

export interface Section {
  /** "preamble" for the lines before the first section, else the directive without "%". */
  name: string;
  /** Arguments after the directive ("libs", "-n libopenssl3", "-f filelist"). */
  args: string;
  /** Index of the directive line (-1 for the preamble). */
  header: number;
  /** First line after the header, and one past the last line. */
  start: number;
  end: number;
}

export function splitLines(text: string): string[] {
  return text.split('\n');
}

export function sections(lines: string[]): Section[] {
  const out: Section[] = [];
  let current: Section = { name: 'preamble', args: '', header: -1, start: 0, end: lines.length };
  lines.forEach((line, i) => {
    const m = SECTION.exec(line);
    // After %changelog every line is changelog text, whatever it starts with.
    if (!m || current.name === 'changelog') return;
    current.end = i;
    out.push(current);
    current = { name: m[1]!, args: m[2]!.trim(), header: i, start: i + 1, end: lines.length };
  });
  out.push(current);
  return out;
}

export function findSections(lines: string[], name: string): Section[] {
  return sections(lines).filter((s) => s.name === name);
}

export type Conditional = 'if' | 'else' | 'endif';

export function conditional(line: string): Conditional | undefined {
  const m = /^\s*%(if|ifarch|ifnarch|ifos|ifnos|elif|elifarch|elifos|else|endif)\b/.exec(line);
  if (!m) return undefined;
  if (m[1] === 'endif') return 'endif';
  if (m[1] === 'else' || m[1]!.startsWith('elif')) return 'else';
  return 'if';
}

/** The %if nesting depth each line is at (a directive line counts as outside its own block). */
export function depths(lines: string[]): number[] {
  let depth = 0;
  return lines.map((line) => {
    const kind = conditional(line);
    if (kind === 'endif') depth = Math.max(0, depth - 1);
    const here = kind === 'else' ? Math.max(0, depth - 1) : depth;
    if (kind === 'if') depth += 1;
    return here;
  });
}

export interface TagLine {
  tag: string;
  /** Everything between the tag name and the value: ":" and the spacing, kept when a similar line is written. */
  sep: string;
  value: string;
}

export function tagLine(line: string): TagLine | undefined {
  const m = /^([A-Za-z][A-Za-z0-9]*(?:\([^)]*\))?)(\s*:\s*)(.*?)\s*$/.exec(line);
  if (!m) return undefined;
  return { tag: m[1]!, sep: m[2]!, value: m[3]! };
}

/** "Tag: value" spaced like model (a line of the same spec), so aligned preambles stay aligned. */
export function formatTagLike(tag: string, value: string, model?: string): string {
  const like = model ? tagLine(model) : undefined;
  if (!like) return `${tag}: ${value}`;
  if (like.sep.includes('\t')) return `${tag}:\t${value}`;
  const column = like.tag.length + like.sep.length;
  return `${tag}:${' '.repeat(Math.max(1, column - tag.length - 1))}${value}`;
}

/** The package a %package/%files/%description section is about: the full name, given the main package's. */
export function sectionPackage(args: string, mainName: string): string {
  const tokens = args.split(/\s+/).filter(Boolean);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === '-n') return tokens[i + 1] ?? mainName;
    if (t === '-f' || t === '-p') {
      i += 1;
      continue;
    }
    if (!t.startsWith('-')) return `${mainName}-${t}`;
  }
  return mainName;
}

/** Indexes of the lines of a section that are tags at %if depth 0 (where an added tag applies unconditionally). */
export function topLevelTags(lines: string[], section: Section, depth: number[], tag: RegExp): number[] {
  const out: number[] = [];
  for (let i = section.start; i < section.end; i++) {
    const t = tagLine(lines[i]!);
    if (t && tag.test(t.tag) && depth[i] === 0) out.push(i);
  }
  return out;
}

export function isComment(line: string): boolean {
  return /^\s*#/.test(line);
}

export function endsWithContinuation(line: string): boolean {
  return /\\\s*$/.test(line);
}
