/**
 * How armkit lays out a dnf repository: one repository per architecture, named as dnf names it on the board
 * (`$basearch`: armv7hl boards say armhfp), the source packages in a repository of their own, the public key and
 * the .repo file at the top, and the record armkit keeps of what it published.
 */

/** The file a board copies to /etc/yum.repos.d/. */
export const REPO_FILE = 'armkit.repo';
/** The public key of the signatures, beside the repositories (the .repo file's gpgkey). */
export const KEY_FILE = 'RPM-GPG-KEY-armkit';
/** What armkit published, with the checksums of the packages it came from: for --update, and to know its own. */
export const STATE_FILE = '.armkit-repo.json';
/** The repository of source RPMs (Fedora's `source/tree/` has the same role). */
export const SOURCE_REPO = 'src';

/**
 * dnf's `$basearch` for an RPM architecture (dnf's own table: armv7hl → armhfp, armv5tel → arm). armkit.repo says
 * `baseurl=.../$basearch/`, so each architecture's repository is the directory of that name.
 */
const BASEARCH: Record<string, string> = { armv7hl: 'armhfp', armv7hnl: 'armhfp', armv5tel: 'arm', armv6l: 'arm', armv7l: 'arm' };

export function basearch(rpmArch: string): string {
  return BASEARCH[rpmArch] ?? rpmArch;
}
