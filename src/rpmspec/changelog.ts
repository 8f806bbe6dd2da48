/**
 * A %changelog entry for the rebuild, written in the style of the spec's own top entry: Fedora's openssl.spec mixes
 * "* Thu Sep 04 2025 Name <email> - 1:3.5.1-4" with older "* Wed Jun  2 2010 Name <email> 0.9.8n-2" headers, and
 * day numbers zero-padded, space-padded or bare. A generated (%autochangelog), empty or missing changelog is left
 * alone: inventing one would fight the distribution's tooling, so the caller reports it instead.
 */
import { ArmkitError } from '../errors.js';
import type { SpecEditor } from './editor.js';
import { findSections } from './text.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const HEADER = /^\*\s+([A-Z][a-z]{2})\s+([A-Z][a-z]{2})(\s+)(\d{1,2})\s+(\d{4})\s+(.*?)\s*$/;

export interface ChangelogStyle {
  /** Between the packager and the E:V-R: " - ", " ", or none written at all. */
  separator: ' - ' | ' ' | null;
  day: 'zero' | 'space' | 'bare';
}

export function changelogStyle(header: string): ChangelogStyle | undefined {
  const m = HEADER.exec(header);
  if (!m) return undefined;
  const [, , , gap, day, , rest] = m;
  // A day of 10 or more cannot show its padding; zeros are Fedora's style today.
  const dayStyle: ChangelogStyle['day'] = day!.length === 2 ? 'zero' : gap!.length >= 2 ? 'space' : 'bare';
  const tail = /(?:>|\))\s*(-\s*)?(\S+)?$/.exec(rest!) ?? /\s(-\s+)?(\S+)$/.exec(rest!);
  const separator = !tail?.[2] ? null : tail[1] ? ' - ' : ' ';
  return { separator, day: dayStyle };
}

function headerDate(header: string): Date | undefined {
  const m = HEADER.exec(header);
  if (!m) return undefined;
  const month = MONTHS.indexOf(m[2]!);
  return month < 0 ? undefined : new Date(Date.UTC(Number(m[5]), month, Number(m[4])));
}

export function formatChangelogDate(date: Date, day: ChangelogStyle['day']): string {
  const d = date.getUTCDate();
  const dd = day === 'zero' ? String(d).padStart(2, '0') : day === 'space' ? String(d).padStart(2, ' ') : String(d);
  return `${DAYS[date.getUTCDay()]} ${MONTHS[date.getUTCMonth()]} ${dd} ${date.getUTCFullYear()}`;
}

export type ChangelogOutcome =
  | { kind: 'added'; header: string }
  | { kind: 'none'; reason: 'missing' | 'generated' | 'empty' | 'unreadable' }
  /** Nothing else changed, so there is no rebuild to record. */
  | { kind: 'none'; reason: 'unchanged' };

export interface ChangelogEntry {
  packager: string;
  /** "1:3.5.1-4.cryptodev1" or "1.0.2k-19.cryptodev1". */
  evr: string;
  items: string[];
  now: Date;
}

export function addChangelogEntry(editor: SpecEditor, entry: ChangelogEntry): ChangelogOutcome {
  const lines = editor.lines();
  const section = findSections(lines, 'changelog')[0];
  if (!section) return { kind: 'none', reason: 'missing' };
  const body = lines.slice(section.start, section.end);
  if (body.some((l) => /^\s*%\{?\??autochangelog\}?\s*$/.test(l))) return { kind: 'none', reason: 'generated' };
  const top = body.findIndex((l) => l.startsWith('*'));
  if (top < 0) return { kind: 'none', reason: 'empty' };
  const topHeader = body[top]!;
  const style = changelogStyle(topHeader);
  if (!style) return { kind: 'none', reason: 'unreadable' };
  // rpm wants entries newest first: never date the new one before the current top entry.
  const last = headerDate(topHeader);
  const date = last && last > entry.now ? last : entry.now;
  // rpm expands macros in %changelog: a packager's name is text, on the header's one line.
  if (/[\r\n]/.test(entry.packager)) {
    throw new ArmkitError('recipe', `The changelog packager ${JSON.stringify(entry.packager)} is not one line: it would start lines of its own in %changelog.`);
  }
  const header = `* ${formatChangelogDate(date, style.day)} ${entry.packager.replace(/%/g, '%%')}${style.separator === null ? '' : `${style.separator}${entry.evr}`}`;
  const touched = editor.insertAfter(section.start + top - 1, [header, ...entry.items.map((i) => `- ${i}`), '']);
  editor.record(
    { kind: 'changelog', what: `%changelog entry "${header}"`, why: "records the rebuild in the package, in the style of the spec's newest entry" },
    touched,
  );
  return { kind: 'added', header };
}
