/**
 * `armkit spec openssl` with the real rpm tools: every patched corpus spec parses with rpmspec -P and its Release
 * sorts right under rpm's own comparison; a source RPM built with rpmbuild -bs goes through the CLI; a failure
 * leaves --out as it was.
 */

import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadOpensslRecipe } from '../../src/recipes/openssl.js';
import { patchOpensslSpec } from '../../src/rpmspec/openssl.js';
import { defineArgs, PARSE_FALLBACK_MACROS } from '../../src/rpmspec/rpm-macros.js';
import { armkit, ROOT, show, snapshot, tempDir } from '../helpers/cli.js';

const CORPUS = resolve(ROOT, '../shared/fixtures/specs');
const haveCorpus = existsSync(CORPUS);
if (!haveCorpus) console.warn(`spec corpus tests skipped: ${CORPUS} is absent`);
const FIXTURES = join(ROOT, 'test/fixtures/specs');
const { recipe } = loadOpensslRecipe();
const NOW = new Date('2026-11-27T12:00:00Z');
/** A Fedora-like dist tag, so Release is compared as a Fedora build's would be. */
const DIST = ['--define', 'dist .fc43'];

/** The host's rpm lacks Fedora's macros; the same fallbacks armkit supplies, defined only where missing. */
async function parseDefines(): Promise<string[]> {
  const probe = PARSE_FALLBACK_MACROS.map((m) => `%{?${m.name}:1}%{!?${m.name}:0}`).join(' ');
  const defined = String((await execa('rpm', ['--eval', probe])).stdout)
    .trim()
    .split(/\s+/);
  return defineArgs(PARSE_FALLBACK_MACROS.filter((_, i) => defined[i] !== '1'));
}

/** rpm's own comparison (rpm.vercmp in rpm's Lua), for many pairs in one call: -1, 0 or 1 each. */
async function vercmp(pairs: Array<[string, string]>): Promise<number[]> {
  const lua = pairs.map(([a, b]) => `print(rpm.vercmp(${JSON.stringify(a)}, ${JSON.stringify(b)}) .. " ")`).join(' ');
  const out = String((await execa('rpm', ['--eval', `%{lua: ${lua}}`])).stdout);
  return out.trim().split(/\s+/).map(Number);
}

/** EPOCH:VERSION-RELEASE of a spec's main package as rpm reads it. */
async function evr(spec: string, defines: string[]): Promise<{ epoch: string; version: string; release: string }> {
  const r = await execa('rpmspec', ['-q', '--srpm', ...defines, ...DIST, '--qf', '%{EPOCH}|%{VERSION}|%{RELEASE}\\n', spec]);
  const [epoch, version, release] = String(r.stdout).trim().split('\n')[0]!.split('|');
  return { epoch: epoch === '(none)' ? '' : epoch!, version: version!, release: release! };
}
const evrString = (e: { epoch: string; version: string; release: string }) => `${e.epoch ? `${e.epoch}:` : ''}${e.version}-${e.release}`;
/** The distribution's next update: the leading number of Release plus one. */
const nextUpdate = (e: { epoch: string; version: string; release: string }) => ({ ...e, release: e.release.replace(/^(\d+)/, (n) => String(Number(n) + 1)) });

/** The lines of the continued Configure command in rpmspec -P output (with %ifarch already resolved by rpm). */
function configureCommand(parsed: string, command: RegExp): string[] {
  const lines = parsed.split('\n');
  const start = lines.findIndex((l) => command.test(l) && !/^\s*#/.test(l));
  if (start < 0) return [];
  const out = [lines[start]!];
  for (let i = start; /\\\s*$/.test(lines[i]!) && i + 1 < lines.length; i++) out.push(lines[i + 1]!);
  return out;
}

describe('patched specs with the real rpm', () => {
  let defines: string[];
  beforeAll(async () => {
    defines = await parseDefines();
  });

  const inputs = [
    ...(haveCorpus
      ? readdirSync(CORPUS)
          .filter((f) => f.endsWith('.spec'))
          .map((f) => join(CORPUS, f))
      : []),
    // openmandriva-style uses macros this rpm lacks on purpose: it parses only with stand-ins, which
    // test/integration/reliability.test.ts checks ("specs whose distribution macros this host's rpm lacks").
    ...readdirSync(FIXTURES)
      .filter((f) => f.endsWith('.spec') && !f.startsWith('no-configure') && !f.startsWith('openmandriva-style'))
      .map((f) => join(FIXTURES, f)),
  ].sort();
  const patchable = inputs.filter((file) => {
    try {
      patchOpensslSpec(readFileSync(file, 'utf8'), { recipe, file, now: NOW, armkitVersion: '0' });
      return true;
    } catch {
      return false;
    }
  });

  (haveCorpus ? it : it.skip)(`covers every patchable corpus spec${haveCorpus ? '' : ` (skipped: ${CORPUS} is absent)`}`, () => {
    expect(patchable.filter((f) => f.startsWith(CORPUS)).length).toBe(14);
  });

  describe.each(patchable.map((f) => [f.replace(`${ROOT}/`, '').replace(`${CORPUS}/`, 'corpus/'), f]))('%s', (_label, file) => {
    const dir = tempDir('spec-rpm');
    const original = join(dir, 'original.spec');
    const patched = join(dir, 'patched.spec');
    const input = readFileSync(file, 'utf8');
    const result = patchOpensslSpec(input, { recipe, file, now: NOW, armkitVersion: '0' });
    writeFileSync(original, input);
    writeFileSync(patched, result.text);

    it('rpmspec -P parses it, and the flags are in the Configure command rpm sees', async () => {
      for (const target of ['aarch64', 'armv7hl']) {
        const r = await execa('rpmspec', ['-P', '--target', target, ...defines, ...DIST, patched], { reject: false });
        expect(r.exitCode, String(r.stderr)).toBe(0);
        const command = configureCommand(String(r.stdout), /(\.\/|\/|perl )(Configure|config)\b/).join('\n');
        for (const flag of result.flags)
          expect(
            command.split(/\s+/).filter((w) => w === flag),
            `${target}: ${command}`,
          ).toHaveLength(1);
      }
    });

    it('Release sorts after the distribution build and before its next update (rpm.vercmp)', async () => {
      const before = await evr(original, defines);
      const after = await evr(patched, defines);
      expect(after.version).toBe(before.version);
      expect(after.epoch).toBe(before.epoch);
      expect(after.release.endsWith('.cryptodev1') || after.release.includes('.cryptodev1')).toBe(true);
      const [older, newer] = await vercmp([
        [evrString(before), evrString(after)],
        [evrString(after), evrString(nextUpdate(before))],
      ]);
      expect([older, newer], `${evrString(before)} < ${evrString(after)} < ${evrString(nextUpdate(before))}`).toEqual([-1, -1]);
    });
  });
});

describe('rpm.vercmp itself (so the check above can fail)', () => {
  it('orders releases as rpm does', async () => {
    expect(
      await vercmp([
        ['1:3.5.1-4.fc43', '1:3.5.1-4.fc43.cryptodev1'],
        ['1:3.5.1-4.fc43.cryptodev1', '1:3.5.1-5.fc43'],
        ['1:3.5.1-4.cryptodev1.fc43', '1:3.5.1-4.fc43'],
        ['1:3.5.1-4.fc43~x', '1:3.5.1-4.fc43'],
      ]),
    ).toEqual([-1, -1, -1, -1]);
  });
});

describe('armkit spec openssl through the CLI', () => {
  const work = tempDir('spec-cli');
  const fixture = join(FIXTURES, 'fedora-style-3.0.9.spec');
  let srpm: string;

  beforeAll(async () => {
    // The bundle must hold this spec command (npm test builds it first; a direct vitest run may not have).
    const dist = join(ROOT, 'dist');
    if (!existsSync(dist) || !readdirSync(dist).some((f) => f.endsWith('.cjs') && readFileSync(join(dist, f), 'utf8').includes('extractSpecFromSrpm'))) {
      await execa('node', ['scripts/build.mjs'], { cwd: ROOT });
    }
    // A real source RPM of our own small spec; its sources only need the right names.
    const top = join(work, 'rpmbuild');
    const sources = join(top, 'SOURCES');
    mkdirSync(sources, { recursive: true });
    writeFileSync(join(sources, 'openssl-3.0.9.tar.gz'), 'placeholder\n');
    writeFileSync(join(sources, 'Makefile.certificate'), 'placeholder\n');
    cpSync(fixture, join(top, 'openssl.spec'));
    await execa('rpmbuild', ['-bs', '--nodeps', '--define', `_topdir ${top}`, '--define', 'dist .fc43', join(top, 'openssl.spec')]);
    srpm = join(top, 'SRPMS', 'openssl-3.0.9-2.fc43.src.rpm');
    expect(existsSync(srpm)).toBe(true);
  });

  it('--srpm --json: writes out/openssl/3.0.9/spec/ and describes every change', async () => {
    const out = join(work, 'out-srpm');
    const r = await armkit(['spec', 'openssl', '--srpm', srpm, '--out', out, '--json']);
    expect(r.exitCode, show(r)).toBe(0);
    const doc = JSON.parse(r.stdout);
    const dest = join(out, 'openssl', '3.0.9', 'spec');
    expect(doc).toMatchObject({
      ok: true,
      recipe: 'openssl',
      input: { srpm },
      name: 'openssl',
      version: '3.0.9',
      epoch: '1',
      release: { before: '2%{?dist}', after: '2%{?dist}.cryptodev1' },
      engine: 'devcrypto',
      series: '3.x',
      module: 'dynamic',
      flags: ['enable-devcryptoeng'],
      library: 'openssl-libs',
      changed: true,
      check: 'openssl engine -t -c devcrypto',
      config: { file: 'devcrypto.cnf', path: '%{_sysconfdir}/pki/tls/openssl.d/devcrypto.cnf', package: 'openssl-libs', dropIn: true, source: 'Source900' },
      files: { spec: join(dest, 'openssl.spec'), diff: join(dest, 'openssl.spec.diff'), config: join(dest, 'devcrypto.cnf') },
      parse: { checked: true },
    });
    expect(doc.changes.map((c: { kind: string }) => c.kind)).toEqual([
      'bcond',
      'release',
      'source',
      'build-requires',
      'recommends',
      'configure',
      'disabling-option',
      'install',
      'files',
      'changelog',
    ]);
    for (const c of doc.changes)
      expect(c).toEqual({ kind: expect.any(String), what: expect.any(String), why: expect.any(String), lines: expect.any(Array), removed: expect.any(Array) });
    expect(readdirSync(dest).sort()).toEqual(['devcrypto.cnf', 'openssl.spec', 'openssl.spec.diff']);
    expect(readFileSync(join(dest, 'devcrypto.cnf'), 'utf8')).toContain('dynamic_path = @ENGINESDIR@/devcrypto.so');
    // Nothing on stdout but the JSON document.
    expect(r.stdout.trim().startsWith('{') && r.stdout.trim().endsWith('}')).toBe(true);

    // The diff turns the spec inside the source RPM into the patched spec.
    const applied = join(work, 'applied');
    mkdirSync(applied);
    cpSync(fixture, join(applied, 'openssl.spec'));
    await execa('patch', ['-p1', '--quiet', '-i', join(dest, 'openssl.spec.diff')], { cwd: applied });
    expect(readFileSync(join(applied, 'openssl.spec'), 'utf8')).toBe(readFileSync(join(dest, 'openssl.spec'), 'utf8'));

    // The patched spec, with its new Source, still makes a source RPM that rpm reads.
    const top = join(work, 'rebuild');
    mkdirSync(join(top, 'SOURCES'), { recursive: true });
    for (const f of ['openssl-3.0.9.tar.gz', 'Makefile.certificate']) cpSync(join(work, 'rpmbuild', 'SOURCES', f), join(top, 'SOURCES', f));
    cpSync(join(dest, 'devcrypto.cnf'), join(top, 'SOURCES', 'devcrypto.cnf'));
    await execa('rpmbuild', ['-bs', '--nodeps', '--define', `_topdir ${top}`, '--define', 'dist .fc43', join(dest, 'openssl.spec')]);
    const rebuilt = join(top, 'SRPMS', 'openssl-3.0.9-2.fc43.cryptodev1.src.rpm');
    expect(existsSync(rebuilt)).toBe(true);
    const files = String((await execa('rpm', ['-qpl', '--nosignature', rebuilt])).stdout).split('\n');
    expect(files).toContain('devcrypto.cnf');
  });

  it('--spec, human report on stderr: each change with why, the flags line and the check command', async () => {
    const out = join(work, 'out-human');
    const r = await armkit(['spec', 'openssl', '--spec', fixture, '--out', out, '--release-suffix', 'board1']);
    expect(r.exitCode, show(r)).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('armkit: openssl 1:3.0.9-2%{?dist} → 1:3.0.9-2%{?dist}.board1: devcrypto engine for OpenSSL 3.x');
    expect(r.stderr).toMatch(/line 55 +added enable-devcryptoeng to \.\/Configure\n +why: OpenSSL 3\.x builds the devcrypto engine module/);
    expect(r.stderr).toContain('flags: enable-devcryptoeng at line 55, in ./Configure (line 54)');
    expect(r.stderr).toContain('rpmspec -P parses the patched spec');
    expect(r.stderr).toContain('check on the board, once the rebuilt package and the cryptodev kmod are installed: openssl engine -t -c devcrypto');
    expect(readFileSync(join(out, 'openssl', '3.0.9', 'spec', 'openssl.spec'), 'utf8')).toContain('\nRelease: 2%{?dist}.board1\n');
  });

  it('patching the patched spec changes nothing and says so', async () => {
    const first = join(work, 'out-once');
    expect((await armkit(['spec', 'openssl', '--spec', fixture, '--out', first])).exitCode).toBe(0);
    const patched = join(work, 'patched-once.spec');
    cpSync(join(first, 'openssl', '3.0.9', 'spec', 'openssl.spec'), patched);
    const r = await armkit(['spec', 'openssl', '--spec', patched, '--out', join(work, 'out-twice'), '--json']);
    expect(r.exitCode, show(r)).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ changed: false, changes: [], notes: ['the spec is already patched for the engine: nothing changed'] });
    expect(readFileSync(join(work, 'out-twice', 'openssl', '3.0.9', 'spec', 'openssl.spec'), 'utf8')).toBe(readFileSync(patched, 'utf8'));
    expect(readFileSync(join(work, 'out-twice', 'openssl', '3.0.9', 'spec', 'openssl.spec.diff'), 'utf8')).toBe('');
  });
});

describe('a failure leaves --out untouched', () => {
  const work = tempDir('spec-fail');
  const out = join(work, 'out');
  let before: string[];

  beforeAll(async () => {
    const good = await armkit(['spec', 'openssl', '--spec', join(FIXTURES, 'fedora-style-3.0.9.spec'), '--out', out]);
    expect(good.exitCode, show(good)).toBe(0);
    before = snapshot(out);
    expect(before.length).toBe(3);
  });

  const cases: Array<[string, number, string[], RegExp]> = [
    [
      'no Configure invocation (verification)',
      5,
      ['--spec', join(FIXTURES, 'no-configure-3.0.0.spec')],
      /no OpenSSL Configure invocation found in %build .*searched for/,
    ],
    [
      'a bad --release-suffix (usage)',
      2,
      ['--spec', join(FIXTURES, 'fedora-style-3.0.9.spec'), '--release-suffix', '.x~1'],
      /--release-suffix \.x~1: "~" sorts before everything/,
    ],
    ['neither --spec nor --srpm (usage)', 2, [], /--spec FILE, or a source RPM with --srpm FILE/],
    ['a missing spec file (usage)', 2, ['--spec', join(work, 'nope.spec')], /--spec .*nope\.spec: no such file/],
    [
      'a file that is not a source RPM (verification)',
      5,
      ['--srpm', join(FIXTURES, 'fedora-style-3.0.9.spec')],
      /fedora-style-3\.0\.9\.spec is not an RPM package armkit can unpack \(.*\): pass the distribution's openssl source RPM/,
    ],
  ];
  if (haveCorpus) {
    cases.push(['OpenSSL 4.0.1 (refused)', 5, ['--spec', join(CORPUS, 'fedora-4.0.1-5.spec')], /OpenSSL 4\.0\.1 cannot .*last usable series is 3\.x/s]);
    cases.push(['OpenSSL 0.9.8n (refused)', 5, ['--spec', join(CORPUS, 'fedora-0.9.8n-2.spec')], /OCF-Linux/]);
    cases.push([
      'not an OpenSSL spec',
      5,
      ['--spec', join(CORPUS, 'fedora-openssl-pkcs11-autorelease.spec')],
      /is not an OpenSSL spec: it builds "openssl-pkcs11"/,
    ]);
  }

  it.each(cases)('%s: exit %i, out/ as it was', async (_name, code, args, message) => {
    const r = await armkit(['spec', 'openssl', ...args, '--out', out, '--json']);
    expect(r.exitCode, show(r)).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { exitCode: code } });
    expect(snapshot(out)).toEqual(before);
  });

  it('the cryptodev recipe is not a spec recipe (usage, exit 2)', async () => {
    const r = await armkit(['spec', 'cryptodev', '--spec', join(FIXTURES, 'fedora-style-3.0.9.spec'), '--out', out]);
    expect(r.exitCode, show(r)).toBe(2);
    expect(r.stderr).toMatch(/cryptodev is a kernel-module recipe .*armkit build cryptodev/);
    expect(snapshot(out)).toEqual(before);
  });
});
