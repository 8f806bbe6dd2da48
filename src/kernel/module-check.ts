/**
 * What a built kernel module is: the ELF header's machine and class, and the vermagic string in .modinfo.
 * Read directly from the file so the check needs no binutils for the target.
 */
import { readFileSync } from 'node:fs';
import { type Arch, archByElfMachine } from '../arch.js';
import { mismatch } from '../errors.js';

export interface ModuleFacts {
  elfClass: 32 | 64;
  machine: number;
  /** Full vermagic, e.g. "6.1.0-28-arm64 SMP mod_unload modversions aarch64". */
  vermagic: string | undefined;
}

export function readModuleFacts(bytes: Buffer): ModuleFacts {
  if (bytes.length < 20 || bytes.readUInt32BE(0) !== 0x7f454c46) throw mismatch('Not an ELF file.');
  const elfClass = bytes[4] === 2 ? 64 : 32;
  const littleEndian = bytes[5] !== 2;
  const machine = littleEndian ? bytes.readUInt16LE(18) : bytes.readUInt16BE(18);
  const at = bytes.indexOf('vermagic=');
  let vermagic: string | undefined;
  if (at >= 0) {
    const end = bytes.indexOf(0, at);
    vermagic = bytes.toString('utf8', at + 'vermagic='.length, end < 0 ? undefined : end);
  }
  return { elfClass, machine, vermagic };
}

/** Throws a verification error naming what the module is when it is not for this arch and release. */
export function checkModule(path: string, arch: Arch, release: string): ModuleFacts {
  const facts = readModuleFacts(readFileSync(path));
  if (facts.machine !== arch.elf.machine || facts.elfClass !== arch.elf.class) {
    const actual = archByElfMachine(facts.machine, facts.elfClass).map((a) => a.elf.name)[0] ?? `ELF machine ${facts.machine}`;
    throw mismatch(`${path} is built for ${actual} (${facts.elfClass}-bit), not ${arch.elf.name} (${arch.rpm}).`, [
      'The build did not use the cross compiler: check CROSS_COMPILE and ARCH reach the kernel build.',
    ]);
  }
  const moduleRelease = facts.vermagic?.split(' ')[0];
  if (moduleRelease !== release) {
    throw mismatch(`${path} has vermagic "${facts.vermagic ?? '(none)'}", which does not name the kernel release ${release}.`, [
      "The kernel would refuse to load it: the header tree's release files disagree, or the build used other headers.",
    ]);
  }
  return facts;
}
