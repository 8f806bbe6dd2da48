import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findArch } from '../../src/arch.js';
import { checkModule, readModuleFacts } from '../../src/kernel/module-check.js';
import { catchArmkit, tempDir } from './helpers.js';

const VERMAGIC = '6.1.0-56-arm64 SMP mod_unload aarch64';

/** A minimal ELF object: the 64-byte header armkit reads, some padding, then .modinfo-like strings. */
function elf(opts: { machine: number; elfClass?: 1 | 2; data?: 1 | 2; vermagic?: string }): Buffer {
  const header = Buffer.alloc(64);
  header.write('\x7fELF', 0, 'latin1');
  header[4] = opts.elfClass ?? 2;
  header[5] = opts.data ?? 1;
  header[6] = 1; // EI_VERSION
  if ((opts.data ?? 1) === 1) {
    header.writeUInt16LE(1, 16); // ET_REL
    header.writeUInt16LE(opts.machine, 18);
  } else {
    header.writeUInt16BE(1, 16);
    header.writeUInt16BE(opts.machine, 18);
  }
  const modinfo = Buffer.from(`license=GPL\0${opts.vermagic === undefined ? '' : `vermagic=${opts.vermagic}\0`}name=cryptodev\0`, 'latin1');
  return Buffer.concat([header, Buffer.alloc(200, 0xaa), modinfo, Buffer.alloc(16)]);
}

function writeModule(bytes: Buffer): string {
  const path = join(tempDir(), 'cryptodev.ko');
  writeFileSync(path, bytes);
  return path;
}

describe('readModuleFacts', () => {
  it('reads class, machine and vermagic of a little-endian 64-bit object', () => {
    expect(readModuleFacts(elf({ machine: 183, vermagic: VERMAGIC }))).toEqual({ elfClass: 64, machine: 183, vermagic: VERMAGIC });
  });

  it('reads a 32-bit ARM object', () => {
    expect(readModuleFacts(elf({ machine: 40, elfClass: 1, vermagic: '6.1.0-56-marvell mod_unload ARMv5 p2v8' }))).toEqual({
      elfClass: 32,
      machine: 40,
      vermagic: '6.1.0-56-marvell mod_unload ARMv5 p2v8',
    });
  });

  it('reads e_machine big-endian when EI_DATA says so', () => {
    expect(readModuleFacts(elf({ machine: 183, data: 2 })).machine).toBe(183);
  });

  it('has no vermagic when the object carries none', () => {
    expect(readModuleFacts(elf({ machine: 62 })).vermagic).toBeUndefined();
  });

  it('refuses what is not ELF', () => {
    const error = catchArmkit(() => readModuleFacts(Buffer.from('#!/bin/sh\necho this is not a kernel module\n')));
    expect(error.kind).toBe('verification');
    expect(error.message).toContain('Not an ELF file');
    expect(catchArmkit(() => readModuleFacts(Buffer.from('\x7fELF', 'latin1'))).kind).toBe('verification');
  });
});

describe('checkModule', () => {
  const aarch64 = findArch('aarch64');

  it('passes a module for the right architecture and release', () => {
    const path = writeModule(elf({ machine: 183, vermagic: VERMAGIC }));
    expect(checkModule(path, aarch64, '6.1.0-56-arm64')).toEqual({ elfClass: 64, machine: 183, vermagic: VERMAGIC });
  });

  it('refuses an x86-64 module for aarch64, naming x86-64', () => {
    const path = writeModule(elf({ machine: 62, vermagic: '6.1.0-56-amd64 SMP mod_unload modversions' }));
    const error = catchArmkit(() => checkModule(path, aarch64, '6.1.0-56-arm64'));
    expect(error.kind).toBe('verification');
    expect(error.exitCode).toBe(5);
    expect(error.message).toContain(path);
    expect(error.message).toContain('built for x86-64 (64-bit)');
    expect(error.message).toContain('not AArch64 (aarch64)');
  });

  it('refuses a 32-bit object carrying the aarch64 machine number', () => {
    const path = writeModule(elf({ machine: 183, elfClass: 1, vermagic: VERMAGIC }));
    const error = catchArmkit(() => checkModule(path, aarch64, '6.1.0-56-arm64'));
    expect(error.kind).toBe('verification');
    expect(error.message).toContain('ELF machine 183 (32-bit)');
  });

  it('refuses a module whose vermagic names another release, quoting the vermagic', () => {
    const path = writeModule(elf({ machine: 183, vermagic: VERMAGIC }));
    const error = catchArmkit(() => checkModule(path, aarch64, '6.1.0-57-arm64'));
    expect(error.kind).toBe('verification');
    expect(error.message).toContain(`vermagic "${VERMAGIC}"`);
    expect(error.message).toContain('6.1.0-57-arm64');
  });

  it('does not accept a release that is only a prefix of the vermagic release', () => {
    const path = writeModule(elf({ machine: 183, vermagic: VERMAGIC }));
    expect(catchArmkit(() => checkModule(path, aarch64, '6.1.0-56')).kind).toBe('verification');
  });

  it('refuses a module without vermagic', () => {
    const path = writeModule(elf({ machine: 183 }));
    const error = catchArmkit(() => checkModule(path, aarch64, '6.1.0-56-arm64'));
    expect(error.kind).toBe('verification');
    expect(error.message).toContain('(none)');
  });

  it('refuses a file that is not ELF', () => {
    const path = writeModule(Buffer.from('not an elf file at all, just some text\n'));
    expect(catchArmkit(() => checkModule(path, aarch64, '6.1.0-56-arm64')).kind).toBe('verification');
  });
});
