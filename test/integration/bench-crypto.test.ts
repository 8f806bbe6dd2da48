/**
 * `armkit bench crypto` through the CLI with this host's real openssl: a software-only measurement (no engine can
 * exist here: Debian builds OpenSSL without devcrypto, this kernel has neither /dev/crypto nor AF_ALG), the
 * refusals for engines that cannot do the work, the dry-run script, and saved outputs read with --parse/--compare.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { armkit, ROOT, show, tempDir } from '../helpers/cli.js';

const haveOpenssl = existsSync('/usr/bin/openssl');
const CORPUS = resolve(ROOT, '../shared/fixtures/speed');
const OWN = join(ROOT, 'test/fixtures/speed');
const haveCorpus = existsSync(CORPUS);

describe.skipIf(!haveOpenssl)(`bench crypto with this host's openssl${haveOpenssl ? '' : ' (skipped: no /usr/bin/openssl; apt-get install openssl)'}`, () => {
  it('measures software only (--engine none): every block size, over wall time, with the CPU it used', async () => {
    const out = tempDir('bench-sw');
    const chart = join(out, 'chart.svg');
    const r = await armkit(['bench', 'crypto', '--engine', 'none', '--seconds', '1', '--out', out, '--json', '--chart', chart]);
    expect(r.exitCode, show(r)).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ ok: true, schema: 'armkit.bench.crypto/1', mode: 'measure' });
    expect(doc.runs.map((x: { role: string }) => x.role)).toEqual(['software']);
    const rows = doc.algorithms[0].rows as Array<{ blockSize: number; figures: Record<string, Record<string, number | string>> }>;
    expect(rows.map((x) => x.blockSize)).toEqual([16, 64, 256, 1024, 8192, 16384]);
    for (const row of rows) {
      const f = row.figures.software!;
      expect(f.basis).toBe('wall');
      expect(f.cpuKind).toBe('user+system');
      // -elapsed: the wall seconds are openssl's own; the CPU armkit measured is at most what the wall time allows.
      expect(f.wallSeconds).toBeGreaterThan(0.9);
      expect(f.cpuSeconds).toBeGreaterThan(0);
      expect(f.cpuSeconds as number).toBeLessThan((f.wallSeconds as number) * 1.1 + 0.05);
      expect(f.opsPerSecond).toBeCloseTo((f.count as number) / (f.wallSeconds as number), 6);
    }
    expect(doc.environment).toMatch(/^measured on this machine: .*OpenSSL 3\.\d+\.\d+; speed options: -elapsed -seconds -bytes -mr -engine -provider/);
    // The raw outputs are real openssl outputs: armkit reads them back with --parse.
    const dir = readdirSync(join(out, 'bench/crypto'))[0]!;
    const raw = join(out, 'bench/crypto', dir, 'aes-128-cbc-software-1024.txt');
    expect(readFileSync(raw, 'utf8')).toMatch(
      /^Doing AES-128-CBC (ops )?for 1s on 1024 size blocks: \d+ AES-128-CBC('s| ops) in 1\.\d\ds\n[\s\S]*ARMKIT:TIMES\n/m,
    );
    const again = await armkit(['bench', 'crypto', '--parse', raw, '--json']);
    expect(again.exitCode, show(again)).toBe(0);
    expect(JSON.parse(again.stdout).algorithms[0].rows[0].figures['aes-128-cbc-software-1024'].count).toBe(rows[3]!.figures.software!.count);
    expect(readFileSync(chart, 'utf8')).toMatch(/^<\?xml[\s\S]*<svg [\s\S]*<\/svg>\n$/);
  });

  it('refuses the devcrypto engine this OpenSSL does not have, with OpenSSL’s words and what to do (exit 4)', async () => {
    const r = await armkit(['bench', 'crypto', '--seconds', '1']);
    expect(r.exitCode, show(r)).toBe(4);
    expect(r.stderr).toMatch(/^armkit: error: OpenSSL 3\.\d+\.\d+ cannot load the devcrypto engine\.$/m);
    expect(r.stderr).toContain('ENGINE_by_id:no such engine');
    expect(r.stderr).toContain('built with enable-devcryptoeng');
    expect(r.stderr).toContain('This machine has no /dev/crypto either.');
  });

  it('refuses afalg on a kernel without AF_ALG sockets, where openssl speed itself would print figures and exit 0', async () => {
    // What openssl does on its own: "Invalid engine", then software figures, exit status 0.
    const direct = await execa('openssl', ['speed', '-engine', 'afalg', '-seconds', '1', '-bytes', '16', '-evp', 'aes-128-cbc'], { reject: false, all: true });
    expect(direct.exitCode).toBe(0);
    expect(direct.all).toContain('Invalid engine "afalg"');
    expect(direct.all).toMatch(/Doing AES-128-CBC .* in/);
    const r = await armkit(['bench', 'crypto', '--engine', 'afalg', '--seconds', '1']);
    expect(r.exitCode, show(r)).toBe(4);
    expect(r.stderr).toMatch(/^armkit: error: OpenSSL 3\.\d+\.\d+ cannot load the afalg engine\.$/m);
    expect(r.stderr).toContain('CONFIG_CRYPTO_USER_API_SKCIPHER');
    // ...and that output, saved and read back as the engine's, is never offload.
    const saved = join(tempDir('afalg'), 'afalg.txt');
    writeFileSync(saved, `$ openssl speed -engine afalg -seconds 1 -bytes 16 -evp aes-128-cbc\n${direct.all}\n`);
    const c = await armkit(['bench', 'crypto', '--compare', `software=${join(OWN, 'openssl-3.0.19-padlock-engine-set.txt')}`, `engine=${saved}`, '--json']);
    expect(c.exitCode, show(c)).toBe(0);
    const engine = JSON.parse(c.stdout).runs.find((x: { role: string }) => x.role === 'engine');
    expect(engine.offload.status).toBe('not-offload');
  });

  it('refuses an engine that loads but is unavailable here (padlock on a CPU without PadLock)', async () => {
    const r = await armkit(['bench', 'crypto', '--engine', 'padlock', '--seconds', '1']);
    expect(r.exitCode, show(r)).toBe(4);
    expect(r.stderr).toContain('The padlock engine loads but is not available here (openssl engine -t says "[ unavailable ]")');
  });

  it('--dry-run prints the exact commands: -elapsed, -seconds, -bytes per size, the CPU wrapper; runs none', async () => {
    const out = tempDir('bench-dry');
    const r = await armkit(['bench', 'crypto', '--engine', 'none', '--seconds', '2', '--algo', 'aes-128-cbc,sha256', '--out', out, '--dry-run']);
    expect(r.exitCode, show(r)).toBe(0);
    expect(r.stdout).toMatch(
      /^sh -c 'exec 2>&1; "\$@"; s=\$\?; echo ARMKIT:TIMES; times; exit \$s' sh (taskset -c 0 )?\/usr\/bin\/openssl speed -elapsed -seconds 2 -evp sha256 -bytes 16384 > \S+\/sha256-software-16384\.txt$/m,
    );
    expect(r.stdout.match(/^sh -c .*openssl speed /gm)).toHaveLength(12);
    expect(existsSync(join(out, 'bench'))).toBe(false);
    // The script runs as printed (shortened to one second a size) and leaves outputs armkit reads.
    const script = join(out, 'run.sh');
    writeFileSync(script, r.stdout.replace(/-seconds 2/g, '-seconds 1'));
    const ran = await execa('sh', [script], { reject: false });
    expect(ran.exitCode, ran.stderr).toBe(0);
    const dir = join(out, 'bench/crypto', readdirSync(join(out, 'bench/crypto'))[0]!);
    expect(readdirSync(dir).filter((f) => f.endsWith('.txt'))).toHaveLength(12);
    const parsed = await armkit(['bench', 'crypto', '--parse', join(dir, 'sha256-software-64.txt'), '--json']);
    expect(parsed.exitCode, show(parsed)).toBe(0);
    expect(JSON.parse(parsed.stdout).algorithms[0].rows[0].figures['sha256-software-64'].cpuKind).toBe('user+system');
  });

  it('says what --guest needs, and refuses flags that do not go together', async () => {
    const none = await armkit(['bench', 'crypto', '--guest', 'aarch64', '--out', tempDir('bench-guest-none')]);
    expect(none.exitCode, show(none)).toBe(2);
    expect(none.stderr).toMatch(/No cryptodev build for aarch64 under \S+: run "armkit build cryptodev --arch aarch64 \.\.\." first/);
    const board = await armkit(['bench', 'crypto', '--guest', 'aarch64', '--openssl', '/usr/bin/openssl']);
    expect(board.exitCode, show(board)).toBe(2);
    expect(board.stderr).toContain("--openssl names this machine's openssl");
    const both = await armkit(['bench', 'crypto', '--parse', join(OWN, 'openssl-3.0.19-x86_64-mr.txt'), '--engine', 'devcrypto']);
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toContain('--engine is for measuring; with --parse or --compare the figures come from the files.');
  });
});

describe('saved outputs through the CLI', () => {
  it('--parse: a table per run; --markdown; an unreadable output is exit 2 naming its line', async () => {
    const r = await armkit(['bench', 'crypto', '--parse', join(OWN, 'openssl-3.0.19-x86_64-mr.txt'), join(OWN, 'wrapped-by-documentation-1.0.2.txt')]);
    expect(r.exitCode, show(r)).toBe(0);
    expect(r.stdout).toMatch(/^AES-128-CBC: operations per second over wall time/m);
    expect(r.stdout).toMatch(/^aes-256-cbc: /m);
    const md = await armkit(['bench', 'crypto', '--parse', join(OWN, 'openssl-3.0.19-x86_64-mr.txt'), '--markdown']);
    expect(md.stdout).toMatch(/^\| block \| openssl-3\.0\.19-x86_64-mr \|$/m);
    const bad = await armkit(['bench', 'crypto', '--parse', join(OWN, 'unreadable-line.txt')]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('unreadable-line.txt:3: a line armkit cannot place in an "openssl speed" output');
    const json = await armkit(['bench', 'crypto', '--parse', join(OWN, 'unreadable-line.txt'), '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { kind: 'usage', exitCode: 2 } });
  });

  it.skipIf(!haveCorpus)(`--compare of the seed outputs prints the brief's figures${haveCorpus ? '' : ` (skipped: ${CORPUS} is absent)`}`, async () => {
    const seed = (n: string) => join(CORPUS, `seed-${n}.txt`);
    const chart = join(tempDir('seed-chart'), 'seed.svg');
    const r = await armkit([
      'bench',
      'crypto',
      '--compare',
      seed('kirkwood-openssl-1.0.0-software'),
      seed('kirkwood-openssl-1.0.0-cryptodev'),
      `atom=${seed('atom-n450-openssl-1.0.0-software')}`,
      '--chart',
      chart,
    ]);
    expect(r.exitCode, show(r)).toBe(0);
    expect(r.stdout).toMatch(/1 KB .*\+23% \(1\.23×\).*74281 blocks in 3 s.*\+82% vs engine, combined -0\.3% \(level\)/);
    expect(r.stdout).toMatch(/8 KB .*\+97% \(1\.97×\).*12398 blocks in 3 s.*\+12% vs engine, combined \+34%/);
    expect(readFileSync(chart, 'utf8').match(/<rect class="bar"/g)).toHaveLength(20);
  });
});
