/**
 * QEMU's firmware, for real: armkit's guests start without iPXE's ROMs (no network card), and when a file QEMU
 * needs is missing, armkit says so in QEMU's own words with the package to install (exit 4), instead of a list of
 * checks that "never reported". The files are hidden in a private mount namespace (an empty tmpfs over their
 * directory), so the host's QEMU installation is untouched.
 */

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { armkit, FIXTURE_MODULE, FIXTURE_VERSION, installedAmd64Release, ROOT, show, TEST_CACHE, tempDir } from '../helpers/cli.js';

const isRoot = process.getuid?.() === 0;
const amd64 = installedAmd64Release();

/**
 * How to keep the namespace's mounts from reaching the host: make them private (unshare's default), or, inside a
 * chroot (where "/" is no mount point and cannot be made private), leave them as they are when no mount here
 * propagates anyway.
 */
const propagation = readFileSync('/proc/self/mountinfo', 'utf8').includes(' shared:') ? 'private' : 'unchanged';

/** armkit run inside a mount namespace where each of `hide` is an empty directory. */
async function armkitHiding(hide: string[], args: string[]) {
  const mounts = hide.map((d) => `mount -t tmpfs armkit-hidden ${d}`).join(' && ');
  const r = await execa(
    'unshare',
    ['--mount', '--propagation', propagation, 'sh', '-c', `${mounts} && exec "$0" "$@"`, process.execPath, join(ROOT, 'bin/armkit.js'), ...args],
    {
      env: { ARMKIT_CACHE_DIR: TEST_CACHE, CI: 'true' },
      reject: false,
      stdin: 'ignore',
    },
  );
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

async function build(arch: string, kernel: string): Promise<string> {
  const out = tempDir(`firmware-${arch}`);
  const r = await armkit([
    'build',
    'cryptodev',
    '--arch',
    arch,
    '--kernel',
    kernel,
    '--source',
    FIXTURE_MODULE,
    '--version',
    FIXTURE_VERSION,
    '--out',
    out,
    '--json',
  ]);
  expect(r.exitCode, show(r)).toBe(0);
  return JSON.parse(r.stdout).out as string;
}

describe.skipIf(!isRoot)(`QEMU firmware${isRoot ? '' : ' (skipped: hiding files in a mount namespace needs root)'}`, () => {
  let aarch64: string;
  beforeAll(async () => {
    aarch64 = await build('aarch64', 'debian:latest');
  });

  it('an aarch64 guest starts and passes without any iPXE ROM', async () => {
    const hidden = ['/usr/lib/ipxe', '/usr/share/ipxe'].filter(existsSync);
    expect(hidden.length, 'iPXE ROMs are installed on this host (QEMU would otherwise find them)').toBeGreaterThan(0);
    const r = await armkitHiding(hidden, ['test', 'cryptodev', '--arch', 'aarch64', '--from', aarch64, '--json']);
    expect(r.exitCode, show(r)).toBe(0);
    expect(JSON.parse(r.stdout).summary).toBe('4 passed, 0 failed, 3 could not run');
  });

  it.skipIf(!amd64)("an x86_64 guest without its BIOS: exit 4, QEMU's own words and the package, no list of unreported checks", async () => {
    const x86 = await build('x86_64', amd64!);
    const r = await armkitHiding(['/usr/share/seabios'], ['test', 'cryptodev', '--arch', 'x86_64', '--from', x86]);
    expect(r.exitCode, show(r)).toBe(4);
    expect(r.stderr).toContain("armkit: error: qemu-system-x86_64 could not start the guest: qemu: could not load PC BIOS 'bios-256k.bin'");
    expect(r.stderr).toContain('install it with "apt-get install seabios" or "dnf install seabios-bin"');
    expect(r.stderr).not.toContain('never reported');
    const log = /full log: (\S+)/.exec(r.stderr)?.[1];
    expect(log && readFileSync(log, 'utf8')).toContain("could not load PC BIOS 'bios-256k.bin'");
  });
});
