/**
 * The rebuilt package must sort after the distribution's build it came from and before the distribution's next
 * update. Appending ".<suffix>" to Release does both under rpm's comparison: "5.fc43" < "5.fc43.cryptodev1" (one more
 * segment) < "6.fc43" (the first segment decides). %autorelease gets the suffix after the expanded value, never as
 * its -e extraver, which rpmautospec puts before %{?dist} ("5.cryptodev1.fc43" would sort before "5.fc43").
 */
import { usageError } from '../errors.js';
import type { SpecEditor } from './editor.js';
import { sections, tagLine } from './text.js';

const SUFFIX = /^\.[A-Za-z0-9][A-Za-z0-9._+^]*$/;

/** A --release-suffix as armkit uses it: starting with ".", RPM release characters only. */
export function normalizeReleaseSuffix(input: string): string {
  const suffix = input.trim().startsWith('.') ? input.trim() : `.${input.trim()}`;
  if (suffix.includes('~')) {
    throw usageError(
      `--release-suffix ${input}: "~" sorts before everything in rpm, so the rebuild would be older than the distribution's package; use letters, digits, ".", "_", "+" or "^".`,
    );
  }
  if (!SUFFIX.test(suffix)) {
    throw usageError(
      `--release-suffix ${input}: a Release suffix is "." followed by a letter or digit, then letters, digits, ".", "_", "+" or "^" (for example .cryptodev1).`,
    );
  }
  return suffix;
}

/** Release with the suffix: "5%{?dist}" → "5%{?dist}.cryptodev1", "%autorelease" → "%{autorelease}.cryptodev1". */
export function suffixedRelease(value: string, suffix: string): string {
  const bare = /^%autorelease(\s+.*)?$/.exec(value);
  if (bare) return `%{autorelease${bare[1] ? ` ${bare[1].trim()}` : ''}}${suffix}`;
  return `${value}${suffix}`;
}

export interface ReleaseEdit {
  before: string;
  after: string;
}

export function patchRelease(editor: SpecEditor, suffix: string): ReleaseEdit {
  const lines = editor.lines();
  const preamble = sections(lines)[0]!;
  let edit: ReleaseEdit | undefined;
  for (let i = preamble.start; i < preamble.end; i++) {
    const t = tagLine(lines[i]!);
    if (t?.tag.toLowerCase() !== 'release') continue;
    if (t.value.includes(suffix)) {
      editor.unchanged.push(`Release ${t.value} already carries ${suffix}`);
      edit ??= { before: t.value, after: t.value };
      continue;
    }
    const after = suffixedRelease(t.value, suffix);
    const touched = editor.replace(i, `${t.tag}${t.sep}${after}`);
    editor.record(
      {
        kind: 'release',
        what: `Release ${t.value} → ${after}`,
        why: `the rebuild sorts after the distribution's build (${t.value}) and before its next update`,
      },
      [touched],
    );
    edit ??= { before: t.value, after };
  }
  return edit ?? { before: '', after: '' };
}
