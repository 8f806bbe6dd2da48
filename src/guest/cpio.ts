/**
 * Writes a gzipped newc cpio archive of a directory: the initramfs format the kernel unpacks. Done in-process so
 * no `find | cpio | gzip` pipeline is needed; owner and group are 0 whoever builds it, as the guest expects.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

function header(name: string, mode: number, size: number, ino: number, mtime: number, nlink: number): Buffer {
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  const nameBytes = Buffer.from(`${name}\0`, 'utf8');
  const fields = [
    '070701',
    hex(ino),
    hex(mode),
    hex(0),
    hex(0),
    hex(nlink),
    hex(mtime),
    hex(size),
    hex(0),
    hex(0),
    hex(0),
    hex(0),
    hex(nameBytes.length),
    hex(0),
  ];
  return Buffer.concat([Buffer.from(fields.join(''), 'latin1'), nameBytes]);
}

const pad4 = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);

/** Entries in a stable order (directories before their contents), paths relative to root without "./". */
function walk(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, rel)).sort()) {
    const path = rel ? `${rel}/${name}` : name;
    out.push(path);
    if (lstatSync(join(root, path)).isDirectory()) out.push(...walk(root, path));
  }
  return out;
}

export function packInitramfs(root: string, archive: string, mtime = 0): void {
  const chunks: Buffer[] = [];
  let ino = 1;
  const push = (buf: Buffer) => {
    chunks.push(buf, pad4(buf.length));
  };
  for (const path of walk(root)) {
    const full = join(root, path);
    const st = lstatSync(full);
    let data = Buffer.alloc(0);
    if (st.isSymbolicLink()) data = Buffer.from(readlinkSync(full));
    else if (st.isFile()) data = readFileSync(full);
    else if (!st.isDirectory()) continue; // devices and sockets are made by devtmpfs in the guest
    push(header(path, st.mode, data.length, ino++, mtime, st.isDirectory() ? 2 : 1));
    if (data.length) push(data);
  }
  push(header('TRAILER!!!', 0, 0, 0, 0, 1));
  writeFileSync(archive, gzipSync(Buffer.concat(chunks), { level: 1 }));
}
