/** Questions asked of real RPM files with the real rpm tools. */

import { mkdirSync } from 'node:fs';
import { execa } from 'execa';

export async function rpmQuery(file: string, ...args: string[]): Promise<string> {
  const r = await execa('rpm', ['-qp', '--nosignature', ...args, file]);
  return String(r.stdout);
}

export async function rpmField(file: string, tag: string): Promise<string> {
  return rpmQuery(file, '--qf', `%{${tag}}`);
}

/** Unpacks an RPM's payload with rpm2cpio | cpio into dir. */
export async function unpackRpm(file: string, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await execa('sh', ['-c', 'rpm2cpio "$1" | cpio -idm --quiet', 'sh', file], { cwd: dir });
}

/** A scratch rpm database under root with the given packages installed (no scriptlets: root has no shell). */
export async function installIntoScratchRoot(root: string, files: string[]): Promise<string> {
  const db = ['--root', root, '--dbpath', '/var/lib/rpm'];
  await execa('rpm', [...db, '--initdb']);
  await execa('rpm', [...db, '-i', '--nodeps', '--ignorearch', '--noscripts', '--nosignature', ...files]);
  const r = await execa('rpm', [...db, '-qa', '--qf', '%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}\\n']);
  return String(r.stdout);
}

export async function fileType(path: string): Promise<string> {
  return String((await execa('file', ['-b', path])).stdout);
}

export async function vermagic(path: string): Promise<string> {
  return String((await execa('modinfo', ['-F', 'vermagic', path])).stdout).trim();
}
