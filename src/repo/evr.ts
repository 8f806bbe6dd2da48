/**
 * rpm's version comparison (rpmvercmp) and epoch:version-release order, for picking the newest of several
 * packages in a repository as dnf would.
 */

/** rpmvercmp: runs of digits compare as numbers, runs of letters as text, `~` sorts before anything, `^` after. */
export function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  const sep = /[^A-Za-z0-9~^]/;
  while (i < a.length || j < b.length) {
    while (i < a.length && sep.test(a[i]!)) i++;
    while (j < b.length && sep.test(b[j]!)) j++;
    if (a[i] === '~' || b[j] === '~') {
      if (a[i] !== '~') return 1;
      if (b[j] !== '~') return -1;
      i++;
      j++;
      continue;
    }
    if (a[i] === '^' || b[j] === '^') {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (a[i] !== '^') return 1;
      if (b[j] !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (i >= a.length || j >= b.length) break;
    const digits = /[0-9]/.test(a[i]!);
    const run = digits ? /[0-9]/ : /[A-Za-z]/;
    let ei = i;
    let ej = j;
    while (ei < a.length && run.test(a[ei]!)) ei++;
    while (ej < b.length && run.test(b[ej]!)) ej++;
    const x = a.slice(i, ei);
    const y = b.slice(j, ej);
    // A numeric run is newer than an alphabetic one.
    if (y === '') return digits ? 1 : -1;
    if (digits) {
      const nx = x.replace(/^0+/, '');
      const ny = y.replace(/^0+/, '');
      if (nx.length !== ny.length) return nx.length > ny.length ? 1 : -1;
      if (nx !== ny) return nx > ny ? 1 : -1;
    } else if (x !== y) return x > y ? 1 : -1;
    i = ei;
    j = ej;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

export function compareEvr(a: { epoch?: string; version: string; release: string }, b: { epoch?: string; version: string; release: string }): number {
  const ea = Number(a.epoch || 0);
  const eb = Number(b.epoch || 0);
  if (ea !== eb) return ea > eb ? 1 : -1;
  return rpmvercmp(a.version, b.version) || rpmvercmp(a.release, b.release);
}
