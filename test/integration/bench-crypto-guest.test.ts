/**
 * `armkit bench crypto --guest aarch64` end to end on real inputs: cryptodev-linux 1.14 (the pinned archive in the
 * cache) built for Debian's arm64 kernel, upstream OpenSSL 3.0 rebuilt with the devcrypto engine (the suite's own
 * spec, test/helpers/openssl-source.ts), then `openssl speed -evp` in software and through the engine inside armkit
 * test's QEMU guest. The figures must come back labelled as emulated software drivers, never as offload. Skipped,
 * with the reason, without the pinned cryptodev-linux archive (only its real header and module make the engine).
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { armkit, show, TEST_CACHE, tempDir } from '../helpers/cli.js';
import { opensslTarball, opensslTestSpec, tarballVersion } from '../helpers/openssl-source.js';
import { wellFormedXml } from '../unit/helpers.js';

const PINNED = join(TEST_CACHE, 'sources/67223d5bee47/cryptodev-linux-1.14.tar.gz');

describe.skipIf(!existsSync(PINNED))(
  `bench crypto in an aarch64 guest (${existsSync(PINNED) ? 'cryptodev-linux 1.14 cached' : `skipped: ${PINNED} is absent`})`,
  () => {
    it('measures software and the devcrypto engine in the guest, labelled as emulated software drivers', async () => {
      const out = tempDir('bench-guest');
      const cdev = await armkit(['build', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:latest', '--out', out, '--json']);
      expect(cdev.exitCode, show(cdev)).toBe(0);
      const cdevDest = JSON.parse(cdev.stdout).out as string;
      const tarball = await opensslTarball();
      const version = tarballVersion(tarball);
      const top = tempDir('bench-guest-srpm');
      for (const d of ['SOURCES', 'SPECS']) mkdirSync(join(top, d));
      copyFileSync(tarball, join(top, 'SOURCES', `openssl_${version}.orig.tar.gz`));
      writeFileSync(join(top, 'SPECS', 'openssl.spec'), opensslTestSpec(version));
      await execa('rpmbuild', ['-bs', '--define', `_topdir ${top}`, '--define', 'dist %{nil}', '--nodeps', join(top, 'SPECS', 'openssl.spec')]);
      const srpm = join(top, 'SRPMS', readdirSync(join(top, 'SRPMS'))[0]!);
      const built = await armkit(['build', 'openssl', '--srpm', srpm, '--arch', 'aarch64', '--cryptodev-from', cdevDest, '--out', out, '--json']);
      expect(built.exitCode, show(built)).toBe(0);

      const dry = await armkit(['bench', 'crypto', '--guest', 'aarch64', '--out', out, '--dry-run']);
      expect(dry.exitCode, show(dry)).toBe(0);
      expect(dry.stdout).toContain('ARMKIT:SPEED-BEGIN aes-128-cbc-engine');

      const chart = join(out, 'guest.svg');
      const r = await armkit(['bench', 'crypto', '--guest', 'aarch64', '--out', out, '--json', '--chart', chart]);
      expect(r.exitCode, show(r)).toBe(0);
      const doc = JSON.parse(r.stdout);
      expect(doc).toMatchObject({ ok: true, schema: 'armkit.bench.crypto/1', mode: 'measure' });
      expect(doc.environment).toMatch(
        /^EMULATED, NOT HARDWARE FIGURES: measured inside armkit test's QEMU guest \(qemu-system-aarch64 -M virt -cpu cortex-a57, TCG/,
      );
      const engine = doc.runs.find((x: { role: string }) => x.role === 'engine');
      expect(engine).toMatchObject({ label: 'emulated software drivers', offload: { status: 'not-offload' } });
      const rows = doc.algorithms[0].rows as Array<{ blockSize: number; figures: Record<string, { basis: string; bytesPerSecond: number }> }>;
      expect(rows.map((x) => x.blockSize)).toEqual([16, 64, 256, 1024, 8192, 16384]);
      for (const row of rows) {
        expect(row.figures.emulated!.basis).toBe('wall');
        expect(row.figures['emulated software drivers']!.bytesPerSecond).toBeGreaterThan(0);
      }
      const svg = readFileSync(chart, 'utf8');
      wellFormedXml(svg);
      expect(svg).toContain('EMULATED, NOT HARDWARE FIGURES');
      expect(svg).toContain('engine (emulated software drivers): not offload');
    }, 3_600_000);
  },
);
