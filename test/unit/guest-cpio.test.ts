import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, lchownSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { packInitramfs } from '../../src/guest/cpio.js';
import { tempDir, writeTree } from './helpers.js';

const sh = (script: string, args: string[], cwd?: string): string =>
  execFileSync('sh', ['-c', script, 'sh', ...args], { encoding: 'utf8', ...(cwd ? { cwd } : {}) });

/** Unpacks with the real gunzip and cpio, as an initramfs consumer would read it. */
const unpack = (archive: string, dest: string) => sh('gunzip -c "$1" | cpio -idm --quiet', [archive], dest);
const list = (archive: string): string[] => sh('gunzip -c "$1" | cpio -t --quiet', [archive]).split('\n').filter(Boolean);
const listVerbose = (archive: string): string[] => sh('gunzip -c "$1" | cpio -tv --numeric-uid-gid --quiet', [archive]).split('\n').filter(Boolean);

// Binary bytes, lengths that are not multiples of 4 (padding), NUL and 0xff.
const BLOB = Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0xff, 0x0a, 0x0d, 0x01]);
const INIT = '#!/bin/busybox sh\necho hello\n';

/** A small guest root: directories, a data file, executables, a symlink, an empty file and an empty directory. */
function guestRoot(): string {
  const root = tempDir();
  writeTree(root, {
    init: INIT,
    'bin/busybox': '#!/bin/sh\nexit 0\n',
    'lib/modules/6.1.0-56-arm64/extra/cryptodev/cryptodev.ko': '',
    'etc/modules-load.d/cryptodev.conf': 'cryptodev\n',
  });
  writeFileSync(join(root, 'lib/modules/6.1.0-56-arm64/extra/cryptodev/cryptodev.ko'), BLOB);
  writeFileSync(join(root, 'etc/empty'), '');
  mkdirSync(join(root, 'proc'));
  symlinkSync('busybox', join(root, 'bin/sh'));
  chmodSync(join(root, 'init'), 0o755);
  chmodSync(join(root, 'bin/busybox'), 0o755);
  chmodSync(join(root, 'etc/modules-load.d/cryptodev.conf'), 0o644);
  chmodSync(join(root, 'lib/modules/6.1.0-56-arm64/extra/cryptodev/cryptodev.ko'), 0o600);
  chmodSync(join(root, 'etc/empty'), 0o640);
  chmodSync(join(root, 'proc'), 0o555);
  chmodSync(join(root, 'etc'), 0o750);
  return root;
}

const EXPECTED_ORDER = [
  'bin',
  'bin/busybox',
  'bin/sh',
  'etc',
  'etc/empty',
  'etc/modules-load.d',
  'etc/modules-load.d/cryptodev.conf',
  'init',
  'lib',
  'lib/modules',
  'lib/modules/6.1.0-56-arm64',
  'lib/modules/6.1.0-56-arm64/extra',
  'lib/modules/6.1.0-56-arm64/extra/cryptodev',
  'lib/modules/6.1.0-56-arm64/extra/cryptodev/cryptodev.ko',
  'proc',
];

describe('packInitramfs', () => {
  it('round-trips through gunzip | cpio -idm: contents, modes and the symlink target', () => {
    const root = guestRoot();
    const archive = join(tempDir(), 'initramfs.cpio.gz');
    packInitramfs(root, archive);
    const out = tempDir();
    unpack(archive, out);

    expect(readFileSync(join(out, 'init'), 'utf8')).toBe(INIT);
    expect(readFileSync(join(out, 'bin/busybox'), 'utf8')).toBe('#!/bin/sh\nexit 0\n');
    expect(readFileSync(join(out, 'etc/modules-load.d/cryptodev.conf'), 'utf8')).toBe('cryptodev\n');
    expect(readFileSync(join(out, 'lib/modules/6.1.0-56-arm64/extra/cryptodev/cryptodev.ko')).equals(BLOB)).toBe(true);
    expect(readFileSync(join(out, 'etc/empty'))).toHaveLength(0);

    const mode = (p: string) => lstatSync(join(out, p)).mode & 0o7777;
    expect(mode('init')).toBe(0o755);
    expect(mode('bin/busybox')).toBe(0o755);
    expect(mode('etc/modules-load.d/cryptodev.conf')).toBe(0o644);
    expect(mode('lib/modules/6.1.0-56-arm64/extra/cryptodev/cryptodev.ko')).toBe(0o600);
    expect(mode('etc/empty')).toBe(0o640);
    expect(mode('etc')).toBe(0o750);
    expect(mode('proc')).toBe(0o555);
    expect(statSync(join(out, 'proc')).isDirectory()).toBe(true);

    expect(lstatSync(join(out, 'bin/sh')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(out, 'bin/sh'))).toBe('busybox');

    // Nothing more and nothing less than the tree.
    expect(sh('find . -mindepth 1 | sed "s|^\\./||" | LC_ALL=C sort', [], out).split('\n').filter(Boolean)).toEqual([...EXPECTED_ORDER].sort());
  });

  it('writes mtime 0 by default and the given mtime otherwise', () => {
    const root = guestRoot();
    const dir = tempDir();
    packInitramfs(root, join(dir, 'zero.cpio.gz'));
    packInitramfs(root, join(dir, 'later.cpio.gz'), 1_700_000_000);
    const zero = tempDir();
    const later = tempDir();
    unpack(join(dir, 'zero.cpio.gz'), zero);
    unpack(join(dir, 'later.cpio.gz'), later);
    expect(statSync(join(zero, 'init')).mtimeMs).toBe(0);
    expect(statSync(join(later, 'init')).mtimeMs).toBe(1_700_000_000_000);
    expect(statSync(join(later, 'etc/modules-load.d/cryptodev.conf')).mtimeMs).toBe(1_700_000_000_000);
  });

  it('is reproducible: the same tree gives the same bytes', () => {
    const root = guestRoot();
    const dir = tempDir();
    packInitramfs(root, join(dir, 'a.cpio.gz'));
    packInitramfs(root, join(dir, 'b.cpio.gz'));
    expect(readFileSync(join(dir, 'a.cpio.gz')).equals(readFileSync(join(dir, 'b.cpio.gz')))).toBe(true);
  });

  it('lists entries depth-first in sorted order, directories before their contents', () => {
    const root = guestRoot();
    const archive = join(tempDir(), 'initramfs.cpio.gz');
    packInitramfs(root, archive);
    expect(list(archive)).toEqual(EXPECTED_ORDER);
  });

  it('gives every entry owner and group 0, whoever packs it', () => {
    const root = guestRoot();
    // Make sure the tree is not owned by 0:0 (as root, hand it to someone else; otherwise it is ours already).
    if (process.getuid?.() === 0) {
      for (const p of ['init', 'bin', 'bin/busybox', 'etc', 'etc/modules-load.d/cryptodev.conf']) chownSync(join(root, p), 1234, 5678);
      lchownSync(join(root, 'bin/sh'), 1234, 5678);
    }
    expect(statSync(join(root, 'init')).uid).not.toBe(0);
    const archive = join(tempDir(), 'initramfs.cpio.gz');
    packInitramfs(root, archive);
    const lines = listVerbose(archive);
    expect(lines).toHaveLength(EXPECTED_ORDER.length);
    for (const line of lines) expect(line).toMatch(/^[-dl][-rwxsStT]{9}\s+\d+\s+0\s+0\s/);
    expect(lines.find((l) => l.endsWith(' bin/sh -> busybox'))).toMatch(/^lrwxrwxrwx\s/);
    expect(lines.find((l) => l.endsWith(' init'))).toMatch(new RegExp(`^-rwxr-xr-x\\s+1\\s+0\\s+0\\s+${INIT.length}\\s`));
  });

  it('is a valid newc stream: 4-byte aligned headers, uid/gid 0, ending with TRAILER!!!', () => {
    const root = guestRoot();
    const archive = join(tempDir(), 'initramfs.cpio.gz');
    packInitramfs(root, archive);
    const raw = gunzipSync(readFileSync(archive));
    const names: string[] = [];
    let off = 0;
    const field = (i: number) => parseInt(raw.toString('latin1', off + 6 + i * 8, off + 14 + i * 8), 16);
    const align = (n: number) => (n + 3) & ~3;
    for (;;) {
      expect(off % 4).toBe(0);
      expect(raw.toString('latin1', off, off + 6)).toBe('070701');
      const [uid, gid, size, nameSize] = [field(2), field(3), field(6), field(11)];
      expect([uid, gid]).toEqual([0, 0]);
      const name = raw.toString('latin1', off + 110, off + 110 + nameSize - 1);
      expect(raw[off + 110 + nameSize - 1]).toBe(0);
      names.push(name);
      off = align(off + 110 + nameSize);
      off = align(off + size);
      if (name === 'TRAILER!!!') break;
    }
    expect(names).toEqual([...EXPECTED_ORDER, 'TRAILER!!!']);
    // The trailer is the last thing in the stream (at most padding after it).
    expect(off).toBe(raw.length);
  });

  it('packs an empty directory as just the trailer', () => {
    const archive = join(tempDir(), 'empty.cpio.gz');
    packInitramfs(tempDir(), archive);
    const raw = gunzipSync(readFileSync(archive));
    expect(raw.toString('latin1', 0, 6)).toBe('070701');
    expect(raw.toString('latin1', 110, 120)).toBe('TRAILER!!!');
    expect(list(archive)).toEqual([]);
  });
});
