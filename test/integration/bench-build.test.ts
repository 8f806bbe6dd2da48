/**
 * `armkit bench build` through the CLI, with the test suite's own module (cryptodev's build interface) and
 * Debian's aarch64 kernel headers: the dry-run scripts, the cross build timed for real (and the modes this host
 * cannot run said so, the run going on), and the emulated (qemu-user in a Debian arm64 root) and guest (QEMU
 * system, TCG) builds where this host can run them. No assertion is on how fast anything is: that is what the
 * command reports, not what it must be.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findArch } from '../../src/arch.js';
import { binfmtProblem } from '../../src/commands/bench-build.js';
import { probeHost } from '../../src/host.js';
import { armkit, FIXTURE_MODULE, show, tempDir } from '../helpers/cli.js';
import { wellFormedXml } from '../unit/helpers.js';

const host = probeHost();
const aarch64 = findArch('aarch64');
const foreign = host.arch !== aarch64;
const read = (path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};
const haveCross = Boolean(host.which('aarch64-linux-gnu-gcc'));
const rootProblem = !host.isRoot
  ? 'not root: mmdebstrap and chroot need root'
  : !host.which('mmdebstrap')
    ? 'no mmdebstrap (apt-get install mmdebstrap)'
    : foreign
      ? binfmtProblem(aarch64, read)
      : undefined;
const guestProblem = rootProblem ?? (host.which('qemu-system-aarch64') ? undefined : 'no qemu-system-aarch64 (apt-get install qemu-system-arm)');
const base = ['bench', 'build', '--source', FIXTURE_MODULE, '--arch', 'aarch64', '--kernel', 'debian:latest'];

describe('bench build: plans and the cross build', () => {
  it('prints each mode as a shell script, and a comment saying exactly why a mode cannot run here', async () => {
    const r = await armkit([...base, '--dry-run']);
    expect(r.exitCode, show(r)).toBe(0);
    expect(r.stdout).toMatch(/^# armkit plan: bench build cryptodev 0\.1 for aarch64 against Linux \d[\w.-]*-arm64: cross \(aarch64-linux-gnu-gcc\)$/m);
    expect(r.stdout).toMatch(
      /^ {2}\(cd \S+\/cross\/src && KCFLAGS=\S+ make -j\d+ KERNEL_DIR=\S+linux-headers-\S+-arm64 ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- build\) >> /m,
    );
    if (foreign) expect(r.stdout).toContain('# armkit bench build: native: cannot run here: a native build runs the aarch64 compiler on an aarch64 machine');
    if (rootProblem) expect(r.stdout).toContain(`# armkit bench build: emulated: cannot run here: ${rootProblem}`);
    else expect(r.stdout).toMatch(/chroot \S+\/bench\/roots\/arm64-\S+ make -C \/armkit-bench\/src -j\d+ KERNEL_DIR=\/usr\/src\/linux-headers-\S+-arm64 build/);
  });

  it('refuses an unknown mode and a chart that is not SVG (usage, exit 2)', async () => {
    const a = await armkit([...base, '--modes', 'cross,bare-metal', '--dry-run']);
    expect(a.exitCode, show(a)).toBe(2);
    expect(a.stderr).toContain('--modes bare-metal: expected cross, native, emulated, guest.');
    const b = await armkit([...base, '--chart', 'x.png', '--dry-run']);
    expect(b.exitCode, show(b)).toBe(2);
  });

  it.skipIf(!haveCross)(
    `times the cross build for real and says why native cannot run, going on${haveCross ? '' : ' (skipped: no aarch64-linux-gnu-gcc; apt-get install gcc-aarch64-linux-gnu)'}`,
    async () => {
      const out = tempDir('bench-build');
      const chart = join(out, 'build.svg');
      const r = await armkit([...base, '--modes', 'cross,native', '--runs', '2', '--out', out, '--json', '--chart', chart]);
      expect(r.exitCode, show(r)).toBe(0);
      const doc = JSON.parse(r.stdout);
      expect(doc).toMatchObject({
        ok: true,
        schema: 'armkit.bench.build/1',
        recipe: 'cryptodev',
        version: '0.1',
        arch: 'aarch64',
        runs: 2,
        warmup: 1,
        fastest: 'cross',
      });
      expect(doc.host.cores).toBeGreaterThan(0);
      expect(doc.host.cpu).not.toBe('');
      const [cross, native] = doc.modes;
      expect(cross).toMatchObject({ mode: 'cross', status: 'measured', percentOfFastest: 100, how: 'aarch64-linux-gnu-gcc on this host' });
      expect(cross.runs).toHaveLength(2);
      expect(cross.warmup).toHaveLength(1);
      expect(cross.seconds).toBe(Math.min(...cross.runs));
      if (foreign) expect(native).toMatchObject({ mode: 'native', status: 'unable', reason: expect.stringContaining(`this host is ${host.machine}`) });
      else expect(native.status).toBe('measured');
      // The report is kept beside the outputs, and the chart has one bar per measured mode.
      expect(JSON.parse(readFileSync(doc.reportFile, 'utf8')).modes[0].runs).toEqual(cross.runs);
      const svg = readFileSync(chart, 'utf8');
      wellFormedXml(svg);
      expect(svg.match(/<rect class="bar"/g)).toHaveLength(foreign ? 1 : 2);
      // What was timed is the module build: the module is there, for aarch64, in the cross work tree.
      expect(r.stderr).toMatch(/✔ Check cryptodev\.ko is AArch64 for \S+-arm64/);
    },
  );

  it.skipIf(!haveCross)('prints the table on stdout without --json, the host beside the figures', async () => {
    const out = tempDir('bench-build-table');
    const r = await armkit([...base, '--modes', 'cross', '--runs', '1', '--out', out]);
    expect(r.exitCode, show(r)).toBe(0);
    expect(r.stdout).toMatch(/^armkit bench build: cryptodev 0\.1 for aarch64 against Linux \S+-arm64$/m);
    expect(r.stdout).toMatch(/^ {2}host: {2}.+, \d+ cores, [\d.]+ GiB, /m);
    expect(r.stdout).toMatch(/^ {2}cross +\d+\.\d+ +100% /m);
  });
});

describe.skipIf(Boolean(rootProblem))(`bench build: emulated (qemu-user) and guest (QEMU system)${rootProblem ? ` (skipped: ${rootProblem})` : ''}`, () => {
  it(`builds in the Debian arm64 root under qemu-user${guestProblem ? `; guest skipped: ${guestProblem}` : ', then inside a QEMU guest booted from that root'}`, async () => {
    const out = tempDir('bench-build-emu');
    const modes = guestProblem ? 'emulated' : 'emulated,guest';
    const r = await armkit([...base, '--modes', modes, '--runs', '1', '--out', out, '--json']);
    expect(r.exitCode, show(r)).toBe(0);
    const doc = JSON.parse(r.stdout);
    const emulated = doc.modes.find((m: { mode: string }) => m.mode === 'emulated');
    expect(emulated).toMatchObject({ status: 'measured', how: expect.stringContaining('run by qemu-aarch64 through binfmt_misc') });
    expect(emulated.runs).toHaveLength(1);
    expect(r.stderr).toMatch(/✔ Check cryptodev\.ko is AArch64 for \S+-arm64/);
    if (!guestProblem) {
      const guest = doc.modes.find((m: { mode: string }) => m.mode === 'guest');
      expect(guest, show(r)).toMatchObject({ status: 'measured', how: expect.stringContaining('qemu-system-aarch64 -M virt') });
      expect(guest.runs).toHaveLength(1);
    }
    expect(existsSync(doc.reportFile)).toBe(true);
  }, 3_600_000);
});
