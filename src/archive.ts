/**
 * Reading and unpacking tar archives armkit did not make (a --source tarball, a source RPM's archive, Debian's
 * data.tar), with bounds: no device node or FIFO is ever created (they are skipped and the archive refused), what
 * unpacking writes is bounded in bytes and entries (ARMKIT_UNPACK_MAX), a gzip stream that unpacks to more than
 * 1000 times its size stops at once (tar's own ratio bound), and a damaged or truncated archive is an error, not a
 * warning that leaves half a tree behind. Problems are ArchiveProblems: the caller words them for its file.
 */
import { createReadStream } from 'node:fs';
import type { ReadEntry } from 'tar';
import { usageError } from './errors.js';

/** Entries no source or package archive armkit unpacks needs, and that would be created as root. */
export const SPECIAL_ENTRY = /^(CharacterDevice|BlockDevice|FIFO)$/;

/** What unpacking may write at most, unless ARMKIT_UNPACK_MAX says otherwise: 2 GiB. */
export const DEFAULT_UNPACK_MAX = 2 * 1024 ** 3;
/** Entries an archive may hold (a Debian kernel image package has about 5000). */
export const MAX_ENTRIES = 500_000;

export type ProblemKind = 'special' | 'too-large' | 'too-many' | 'ratio' | 'damaged' | 'not-tar';

/** What is wrong with an archive, as the end of a sentence that starts with its name. */
export class ArchiveProblem extends Error {
  constructor(
    readonly problem: ProblemKind,
    message: string,
    readonly entries: string[] = [],
  ) {
    super(message);
    this.name = 'ArchiveProblem';
  }
}

/** ARMKIT_UNPACK_MAX: bytes, or a number with K, M or G (powers of 1024). */
export function unpackLimit(env: NodeJS.ProcessEnv = process.env): number {
  const value = env.ARMKIT_UNPACK_MAX?.trim();
  if (!value) return DEFAULT_UNPACK_MAX;
  const m = /^(\d+(?:\.\d+)?)\s*([KMG]?)i?B?$/i.exec(value);
  if (!m) throw usageError(`ARMKIT_UNPACK_MAX=${value}: expected a size such as 500M or 4G (bytes without a suffix).`);
  const scale = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Math.floor(Number(m[1]) * scale);
}

const mib = (n: number) => `${Math.round(n / 1024 ** 2)} MiB`;

export interface Bounds {
  /** Bytes of entry data at most (default: unpackLimit()). */
  maxBytes?: number;
  maxEntries?: number;
}

/** Counts what an archive's entries would write; returns the problem once a bound is passed. */
function counter(bounds: Bounds) {
  const maxBytes = bounds.maxBytes ?? unpackLimit();
  const maxEntries = bounds.maxEntries ?? MAX_ENTRIES;
  let bytes = 0;
  let entries = 0;
  return (entry: ReadEntry): ArchiveProblem | undefined => {
    entries += 1;
    bytes += entry.size ?? 0;
    if (bytes > maxBytes) {
      return new ArchiveProblem(
        'too-large',
        `unpacks to more than ${mib(maxBytes)} (at ${entry.path}): armkit stops there (a decompression bomb?; ARMKIT_UNPACK_MAX raises the bound)`,
      );
    }
    if (entries > maxEntries) return new ArchiveProblem('too-many', `holds more than ${maxEntries} entries: armkit stops there (a decompression bomb?)`);
    return undefined;
  };
}

/** tar's errors and fatal warnings as problems (zlib's words kept: they say what is damaged). */
function asProblem(error: unknown): unknown {
  if (error instanceof ArchiveProblem) return error;
  const message = (error as Error)?.message ?? String(error);
  // A warning tar raised as an error ("TAR_BAD_ARCHIVE: Truncated input ...").
  const tarCode = (error as { tarCode?: string })?.tarCode;
  const raised = tarCode ? fatalWarning(tarCode, message.replace(/^TAR_[A-Z_]+: /, ''), error) : undefined;
  if (raised) return raised;
  if (/max decompression ratio exceeded/.test(message)) {
    return new ArchiveProblem('ratio', 'unpacks to more than 1000 times its compressed size: a decompression bomb, or not a source archive');
  }
  // zlib's own errors (Z_DATA_ERROR, Z_BUF_ERROR): a damaged or cut-off compressed stream.
  if (/^zlib: /.test(message) || /^Z_/.test(String((error as NodeJS.ErrnoException)?.code ?? ''))) {
    return new ArchiveProblem('damaged', `is damaged or truncated (${message})`);
  }
  return error;
}

/** Warnings tar would only print that mean the archive is not what it must be. */
function fatalWarning(code: string, message: string, data: unknown): unknown {
  if (code === 'TAR_BAD_ARCHIVE') {
    return /Unrecognized archive format/.test(message)
      ? new ArchiveProblem('not-tar', 'is not a tar archive (compressed or not)')
      : new ArchiveProblem('damaged', `is damaged or truncated (${message})`);
  }
  if (code === 'TAR_ENTRY_INVALID') return new ArchiveProblem('damaged', `is damaged, or not a tar archive at all (${message})`);
  // A write that failed (a full disk, a read-only place): the errno error itself, which has a kind.
  const errno = (data as NodeJS.ErrnoException)?.code;
  if (code === 'TAR_ENTRY_ERROR' && errno && /^(ENOSPC|EDQUOT|EROFS|EACCES|EPERM|EIO)$/.test(errno)) return data;
  return undefined;
}

function specialProblem(entries: string[]): ArchiveProblem {
  return new ArchiveProblem(
    'special',
    `holds device nodes or FIFOs (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? `, and ${entries.length - 3} more` : ''}): no source or package armkit unpacks needs them, and armkit never creates them`,
    entries,
  );
}

/**
 * Reads every entry of an archive (gzip, bzip2, xz... as tar detects them) without writing anything. onEntry sees
 * each entry before its data; an entry it does not read is skipped. Stops at the first bound passed.
 */
export async function readTar(file: string, onEntry: (entry: ReadEntry) => void, bounds: Bounds = {}): Promise<void> {
  const tar = await import('tar');
  const count = counter(bounds);
  let failure: unknown;
  const parser = new tar.Parser({
    onReadEntry: (entry) => {
      const over = failure ? undefined : count(entry);
      if (over) {
        failure = over;
        parser.abort(new Error(over.message));
      } else if (!failure) {
        onEntry(entry);
      }
      entry.resume();
    },
    onwarn: (code, message, data) => {
      failure ??= fatalWarning(code, message, data);
    },
  });
  await new Promise<void>((done, fail) => {
    const input = createReadStream(file);
    input.on('error', fail);
    parser.on('error', (error: unknown) => fail(failure ?? asProblem(error)));
    parser.on('end', () => done());
    input.pipe(parser);
  });
  if (failure) throw failure;
}

export interface ExtractOptions extends Bounds {
  /** Leading path components dropped, as tar's --strip-components. */
  strip?: number;
  /** Which entries to write. */
  filter?: (path: string) => boolean;
}

/**
 * Unpacks an archive into dest (which must exist): path tricks are left to tar (no "..", nothing through links,
 * absolute paths made relative), device nodes and FIFOs are never created and fail it afterwards, bounds stop it.
 */
export async function extractTar(file: string, dest: string, options: ExtractOptions = {}): Promise<void> {
  const tar = await import('tar');
  const count = counter(options);
  const special: string[] = [];
  let failure: unknown;
  const unpack = new tar.Unpack({
    cwd: dest,
    ...(options.strip ? { strip: options.strip } : {}),
    filter: (path, entry) => {
      const e = entry as ReadEntry;
      if (SPECIAL_ENTRY.test(e.type)) {
        special.push(`${e.path} (${e.type})`);
        return false;
      }
      if (failure || (options.filter && !options.filter(path))) return false;
      const over = count(e);
      if (over) {
        failure = over;
        unpack.abort(new Error(over.message));
        return false;
      }
      return true;
    },
    onwarn: (code, message, data) => {
      failure ??= fatalWarning(code, message, data);
    },
  });
  await new Promise<void>((done, fail) => {
    const input = createReadStream(file);
    input.on('error', fail);
    unpack.on('error', (error: unknown) => fail(failure ?? asProblem(error)));
    unpack.on('close', () => done());
    input.pipe(unpack);
  });
  if (failure) throw failure;
  if (special.length > 0) throw specialProblem(special);
}

/** readTar's refusal of special entries, for callers that only list (a --source tarball before rpmbuild unpacks it). */
export function refuseSpecial(entries: string[]): void {
  if (entries.length > 0) throw specialProblem(entries);
}
