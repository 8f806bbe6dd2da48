/**
 * Reads an RPM file in-process: the header's name, version, release and arch, and one member of a gzip payload.
 * Every build asked rpm -qp for the first and rpm2cpio | cpio for its kernel module, three processes after rpmbuild
 * for a few bytes of a file armkit wrote itself; this module answers both from the file.
 *
 * The format (rpm's doc/manual/format.md): a 96-byte lead, the signature header padded to 8 bytes, the main header,
 * then the payload. A header is 8 bytes of magic, the index entry count and data size (big-endian), 16 bytes per
 * entry (tag, type, offset, count), then the data. Payloads other than gzip'd cpio (newc) are not read here: callers
 * get `undefined` and use rpm2cpio and cpio, which read them all.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { ArmkitError } from '../errors.js';

const LEAD_MAGIC = 0xedabeedb;
const HEADER_MAGIC = 0x8eade801;
const LEAD_SIZE = 96;
// Bounds for a header read from a file that may not be an RPM at all (rpm's own limits: 64 K entries, 256 MB).
const MAX_ENTRIES = 0x10000;
const MAX_DATA = 0x10000000;

const TAG = { name: 1000, version: 1001, release: 1002, epoch: 1003, arch: 1022, sourceRpm: 1044, payloadFormat: 1124, payloadCompressor: 1125 };
const STRING = 6;
const INT32 = 4;
const I18NSTRING = 9;

export interface RpmHeader {
  name: string;
  version: string;
  release: string;
  epoch?: number;
  /** The build arch; a source package's is the arch it was built on, so `source` says what it is. */
  arch: string;
  /** A source package: it has no SOURCERPM tag. */
  source: boolean;
  payloadFormat: string;
  payloadCompressor: string;
  /** Where the payload starts in the file. */
  payloadOffset: number;
}

function notRpm(file: string, why: string): ArmkitError {
  return new ArmkitError('verification', `${file} is not an RPM package armkit can read: ${why}.`);
}

function readAt(fd: number, offset: number, length: number, file: string): Buffer {
  const buffer = Buffer.alloc(length);
  const got = readSync(fd, buffer, 0, length, offset);
  if (got !== length) throw notRpm(file, `it ends at byte ${offset + got}, inside its header`);
  return buffer;
}

/** One header structure at `offset`: its tags' raw entries and data, and where it ends. */
function readHeader(
  fd: number,
  offset: number,
  file: string,
): { entries: Map<number, { type: number; offset: number; count: number }>; data: Buffer; end: number } {
  const intro = readAt(fd, offset, 16, file);
  if (intro.readUInt32BE(0) !== HEADER_MAGIC) throw notRpm(file, `no header magic at byte ${offset}`);
  const count = intro.readUInt32BE(8);
  const size = intro.readUInt32BE(12);
  if (count > MAX_ENTRIES || size > MAX_DATA) throw notRpm(file, `a header of ${count} entries and ${size} bytes is beyond rpm's limits`);
  const index = readAt(fd, offset + 16, count * 16, file);
  const data = readAt(fd, offset + 16 + count * 16, size, file);
  const entries = new Map<number, { type: number; offset: number; count: number }>();
  for (let i = 0; i < count; i++) {
    const at = i * 16;
    const entry = { type: index.readUInt32BE(at + 4), offset: index.readUInt32BE(at + 8), count: index.readUInt32BE(at + 12) };
    if (entry.offset >= size && entry.count > 0) throw notRpm(file, `a header entry points outside its data`);
    entries.set(index.readUInt32BE(at), entry);
  }
  return { entries, data, end: offset + 16 + count * 16 + size };
}

function stringTag(header: ReturnType<typeof readHeader>, tag: number): string | undefined {
  const entry = header.entries.get(tag);
  if (!entry || (entry.type !== STRING && entry.type !== I18NSTRING)) return undefined;
  const end = header.data.indexOf(0, entry.offset);
  return header.data.toString('utf8', entry.offset, end < 0 ? header.data.length : end);
}

export function readRpmHeader(file: string): RpmHeader {
  const fd = openSync(file, 'r');
  try {
    const lead = readAt(fd, 0, LEAD_SIZE, file);
    if (lead.readUInt32BE(0) !== LEAD_MAGIC) throw notRpm(file, 'it does not start with the RPM lead');
    const signature = readHeader(fd, LEAD_SIZE, file);
    const main = readHeader(fd, Math.ceil(signature.end / 8) * 8, file);
    const required = (tag: number, what: string): string => {
      const value = stringTag(main, tag);
      if (value === undefined) throw notRpm(file, `its header has no ${what}`);
      return value;
    };
    const epochEntry = main.entries.get(TAG.epoch);
    return {
      name: required(TAG.name, 'name'),
      version: required(TAG.version, 'version'),
      release: required(TAG.release, 'release'),
      ...(epochEntry?.type === INT32 && epochEntry.offset + 4 <= main.data.length ? { epoch: main.data.readUInt32BE(epochEntry.offset) } : {}),
      arch: required(TAG.arch, 'arch'),
      source: !main.entries.has(TAG.sourceRpm),
      // rpm's defaults when a package does not say (packages older than rpm 4.2).
      payloadFormat: stringTag(main, TAG.payloadFormat) ?? 'cpio',
      payloadCompressor: stringTag(main, TAG.payloadCompressor) ?? 'gzip',
      payloadOffset: main.end,
    };
  } finally {
    closeSync(fd);
  }
}

/** The whole file's bytes from `offset` on. */
function readFrom(file: string, offset: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const chunks: Buffer[] = [];
    for (let at = offset; ; ) {
      const chunk = Buffer.alloc(1 << 20);
      const got = readSync(fd, chunk, 0, chunk.length, at);
      if (got === 0) break;
      chunks.push(chunk.subarray(0, got));
      at += got;
    }
    return Buffer.concat(chunks);
  } finally {
    closeSync(fd);
  }
}

const CPIO_HEADER = 110;
const pad4 = (n: number) => (n + 3) & ~3;

/**
 * The contents of the payload member `member` (a path inside the package, such as lib/modules/R/extra/m.ko), or
 * undefined when this reader cannot tell (a payload other than gzip'd newc cpio, or the member is a hard link whose
 * data another entry carries): the caller then asks rpm2cpio and cpio. A package that plainly lacks the member is
 * null.
 */
export function rpmMember(file: string, member: string): Buffer | null | undefined {
  const header = readRpmHeader(file);
  if (header.payloadFormat !== 'cpio' || header.payloadCompressor !== 'gzip') return undefined;
  let cpio: Buffer;
  try {
    cpio = gunzipSync(readFrom(file, header.payloadOffset));
  } catch (error) {
    throw notRpm(file, `its gzip payload does not decompress (${(error as Error).message})`);
  }
  const wanted = member.replace(/^\.?\/+/, '');
  for (let at = 0; at + CPIO_HEADER <= cpio.length; ) {
    const header = cpio.toString('latin1', at, at + CPIO_HEADER);
    // Anything but a well-formed newc header (another cpio flavour, damage) is left to cpio itself.
    if (!/^070701[0-9A-Fa-f]{104}$/.test(header)) return undefined;
    const field = (i: number) => Number.parseInt(header.slice(6 + i * 8, 14 + i * 8), 16);
    const mode = field(1);
    const nlink = field(4);
    const size = field(6);
    const nameSize = field(11);
    if (nameSize < 1) return undefined;
    const name = cpio.toString('utf8', at + CPIO_HEADER, at + CPIO_HEADER + nameSize - 1);
    const dataAt = pad4(at + CPIO_HEADER + nameSize);
    if (name === 'TRAILER!!!') return null;
    if (dataAt + size > cpio.length) throw notRpm(file, `its payload ends inside ${name}`);
    if (name.replace(/^\.?\/+/, '') === wanted) {
      const type = mode & 0o170000;
      // A directory is no file of that name; a link (or a device) is cpio's to resolve.
      if (type === 0o040000) return null;
      if (type !== 0o100000) return undefined;
      return size === 0 && nlink > 1 ? undefined : cpio.subarray(dataAt, dataAt + size);
    }
    at = pad4(dataAt + size);
  }
  throw notRpm(file, 'its payload ends without the cpio trailer');
}
