/**
 * OpenSSL version numbers. They are not semver: before 3.0 a release is a numeric part plus letters
 * ("1.0.2u", "0.9.8zh": after "z" come "za", "zb", ...). The numeric part is compared and matched against ranges
 * with semver; the letters sort after it.
 */
import semver from 'semver';

export interface OpensslVersion {
  /** As written in the spec. */
  text: string;
  /** The numeric part as semver ("1.0.2"), with a pre-release when the spec marks one with "~". */
  numeric: string;
  /** The letter release ("", "e", "zh"). */
  letters: string;
}

// Version: 1.0.2u, 3.0.7, 3.0 (read as 3.0.0), 3.0.0~alpha17 (RPM's pre-release), 1.0.2o+git5 (build metadata).
const VERSION = /^(\d+)\.(\d+)(?:\.(\d+))?([a-z]*)(?:~([0-9A-Za-z.]+))?(?:[+^][0-9A-Za-z.+^]*)?$/;

export function parseOpensslVersion(text: string): OpensslVersion | undefined {
  const m = VERSION.exec(text.trim());
  if (!m) return undefined;
  const [, major, minor, patch = '0', letters = '', pre] = m;
  const numeric = `${Number(major)}.${Number(minor)}.${Number(patch)}${pre ? `-${pre}` : ''}`;
  if (!semver.valid(numeric)) return undefined;
  return { text: text.trim(), numeric, letters };
}

/**
 * OpenSSL's letter releases go a, b, ..., z, za, zb, ..., zz, zza: every name after "z" starts with "z" and is longer.
 * Plain string order therefore sorts them in release order ("" < "a" < "y" < "z" < "za" < "zh"); this function exists
 * so that the rule is written down in one place.
 */
export function compareLetters(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

export function compareOpensslVersions(a: OpensslVersion, b: OpensslVersion): number {
  return semver.compare(a.numeric, b.numeric) || compareLetters(a.letters, b.letters);
}

/**
 * Whether the version's series is in a semver range: letters never move a release out of its series, and neither
 * does a pre-release (4.0.0~alpha1 already lacks ENGINE, as 4.0.0 does).
 */
export function inRange(version: OpensslVersion, range: string): boolean {
  const v = semver.parse(version.numeric)!;
  return semver.satisfies(`${v.major}.${v.minor}.${v.patch}`, range);
}

/** "3.x", "1.1.x", "1.0.x": the series a version belongs to, for messages. */
export function seriesOf(version: OpensslVersion): string {
  const v = semver.parse(version.numeric)!;
  return v.major >= 3 ? `${v.major}.x` : `${v.major}.${v.minor}.x`;
}
