/**
 * The spec patcher on small specs of armkit's own (test/fixtures/specs), one per layout real specs use: exact lines
 * in, exact lines out.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOpensslRecipe } from '../../src/recipes/openssl.js';
import { changelogStyle, formatChangelogDate } from '../../src/rpmspec/changelog.js';
import { unifiedDiff } from '../../src/rpmspec/diff.js';
import { type PatchResult, patchOpensslSpec } from '../../src/rpmspec/openssl.js';
import { normalizeReleaseSuffix, suffixedRelease } from '../../src/rpmspec/release.js';
import { catchArmkit } from './helpers.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/specs');
const { recipe } = loadOpensslRecipe();
const NOW = new Date('2026-11-27T12:00:00Z');

const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
const patch = (text: string, extra: { releaseSuffix?: string; now?: Date } = {}): PatchResult =>
  patchOpensslSpec(text, { recipe, file: 'test.spec', now: extra.now ?? NOW, armkitVersion: '9.9.9', releaseSuffix: extra.releaseSuffix });
const lines = (text: string) => text.split('\n');
/** The line after the first line equal to `line`. */
const after = (text: string, line: string) => lines(text)[lines(text).indexOf(line) + 1];
const count = (text: string, needle: string) => text.split(needle).length - 1;
/** The %build section's text. */
const build = (text: string) => text.slice(text.indexOf('\n%build\n'), text.indexOf('\n%install\n'));

describe('a Fedora-style spec (${sslflags}, %ifarch in the continuation, Epoch, libs, openssl.d)', () => {
  const input = fixture('fedora-style-3.0.9.spec');
  const result = patch(input);
  const out = result.text;

  it('reads the version and picks the devcrypto module', () => {
    expect(result).toMatchObject({
      name: 'openssl',
      version: '3.0.9',
      epoch: '1',
      engine: 'devcrypto',
      series: '3.x',
      module: 'dynamic',
      flags: ['enable-devcryptoeng'],
      library: 'openssl-libs',
      check: 'openssl engine -t -c devcrypto',
    });
  });

  it('adds enable-devcryptoeng once, as the first argument line of ./Configure', () => {
    expect(after(out, './Configure \\')).toBe('\tenable-devcryptoeng \\');
    expect(count(out.split('%changelog')[0]!, 'enable-devcryptoeng')).toBe(1);
    expect(result.invocations).toEqual([{ command: './Configure', line: 54, flagsLine: 55 }]);
  });

  it('removes no-engine from the middle of an argument line and nothing else', () => {
    expect(out).toContain('\tzlib enable-camellia enable-rfc3779 \\\n');
    expect(build(out)).not.toMatch(/no-engine/);
    expect(out).toContain('\tno-mdc2 no-ec2m\\\n');
    expect(result.changes.find((c) => c.kind === 'disabling-option')).toMatchObject({ what: 'removed no-engine from %build', lines: [60] });
  });

  it('turns the engine bcond on unconditionally', () => {
    expect(out).toContain('\n%bcond engine 1\n');
    expect(out).not.toContain('%[!(0%{?rhel} >= 10)]');
  });

  it('suffixes Release, adds BuildRequires outside the %if block and Recommends to -libs', () => {
    expect(out).toContain('\nRelease: 2%{?dist}.cryptodev1\n');
    expect(after(out, 'BuildRequires: coreutils, perl-interpreter, sed, zlib-devel')).toBe('BuildRequires: cryptodev-linux-devel');
    expect(after(out, 'Recommends: pkcs11-provider%{?_isa}')).toBe('Recommends: cryptodev-kmod');
  });

  it('ships devcrypto.cnf as Source900 into openssl.d, with the engines directory filled in by %install', () => {
    expect(after(out, 'Source2: Makefile.certificate')).toBe('Source900: devcrypto.cnf');
    expect(out).toContain(
      [
        'mkdir -p $RPM_BUILD_ROOT%{_sysconfdir}/pki/tls/openssl.d',
        '# devcrypto.cnf: loads the devcrypto engine (added by armkit)',
        'install -D -m 0644 %{SOURCE900} $RPM_BUILD_ROOT%{_sysconfdir}/pki/tls/openssl.d/devcrypto.cnf',
        "sed -i -e 's|@ENGINESDIR@|%{_libdir}/engines-%{soversion}|' $RPM_BUILD_ROOT%{_sysconfdir}/pki/tls/openssl.d/devcrypto.cnf",
        '',
        '%files',
      ].join('\n'),
    );
    expect(after(out, '%config(noreplace) %{_sysconfdir}/pki/tls/openssl.cnf')).toBe('%config(noreplace) %{_sysconfdir}/pki/tls/openssl.d/devcrypto.cnf');
    expect(result.config).toMatchObject({
      file: 'devcrypto.cnf',
      path: '%{_sysconfdir}/pki/tls/openssl.d/devcrypto.cnf',
      package: 'openssl-libs',
      dropIn: true,
      source: 'Source900',
    });
  });

  it('writes an engine configuration that loads the module with digests off', () => {
    const cnf = result.config!.content;
    expect(cnf).toContain('[openssl_init]\nengines = armkit_engines\n');
    expect(cnf).toContain('devcrypto = armkit_devcrypto');
    expect(cnf).toContain('dynamic_path = @ENGINESDIR@/devcrypto.so');
    expect(cnf).toMatch(/\nCIPHERS = ALL\n/);
    expect(cnf).toMatch(/\nDIGESTS = NONE\n/);
    expect(cnf).toMatch(/\ndefault_algorithms = ALL\n$/);
    // A drop-in must not set openssl_conf: openssl.cnf already does.
    expect(cnf).not.toMatch(/^openssl_conf/m);
  });

  it('adds a changelog entry in the "- E:V-R" style of the top entry', () => {
    expect(after(out, '%changelog')).toBe('* Fri Nov 27 2026 armkit <armkit@localhost> - 1:3.0.9-2.cryptodev1');
    expect(out).toContain('- Drop no-engine, which kept the engine from being built\n');
    expect(out).toContain('- Turn the engine build condition on\n');
    expect(out).toContain('- Ship /etc/pki/tls/openssl.d/devcrypto.cnf loading it: ciphers offloaded, digests off\n');
    expect(out).toContain('- BuildRequires cryptodev-linux-devel; openssl-libs Recommends cryptodev-kmod\n\n* Tue Jun 06 2023 Jane Packager');
    expect(result.changelog).toEqual({ kind: 'added', header: '* Fri Nov 27 2026 armkit <armkit@localhost> - 1:3.0.9-2.cryptodev1' });
  });

  it('reports every change with its final line', () => {
    const byKind = Object.fromEntries(result.changes.map((c) => [c.kind, c.lines]));
    const outLines = lines(out);
    expect(outLines[byKind.release![0]! - 1]).toBe('Release: 2%{?dist}.cryptodev1');
    expect(outLines[byKind.configure![0]! - 1]).toBe('\tenable-devcryptoeng \\');
    expect(outLines[byKind.files![0]! - 1]).toContain('devcrypto.cnf');
    expect(result.changes.map((c) => c.kind)).toEqual([
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
    for (const c of result.changes) expect(c.why.length).toBeGreaterThan(20);
  });

  it('is idempotent: a second run changes nothing and says so', () => {
    const again = patch(out, { now: new Date('2027-01-05T00:00:00Z') });
    expect(again.text).toBe(out);
    expect(again.changed).toBe(false);
    expect(again.changes).toEqual([]);
    expect(again.changelog).toEqual({ kind: 'none', reason: 'unchanged' });
    expect(again.notes).toContain('the spec is already patched for the engine: nothing changed');
    expect(again.unchanged).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^enable-devcryptoeng already in \.\/Configure/),
        'Release 2%{?dist}.cryptodev1 already carries .cryptodev1',
        '%bcond engine is already on',
      ]),
    );
    expect(unifiedDiff('openssl.spec', out, again.text)).toBe('');
  });

  it('writes a unified diff of exactly these changes', () => {
    const diff = unifiedDiff('openssl.spec', input, out);
    expect(diff.startsWith('--- a/openssl.spec\n+++ b/openssl.spec\n@@ ')).toBe(true);
    const removed = lines(diff).filter((l) => l.startsWith('-') && !l.startsWith('---'));
    expect(removed).toEqual(['-%bcond engine %[!(0%{?rhel} >= 10)]', '-Release: 2%{?dist}', '-\tzlib enable-camellia no-engine enable-rfc3779 \\']);
  });
});

describe('an openSUSE-style spec (./config in a case, MACHINE, -n lib package, Release: 0, empty changelog)', () => {
  const result = patch(fixture('opensuse-style-1.1.1w.spec'));
  const out = result.text;

  it('resolves Version from %define macros', () => {
    expect(result).toMatchObject({ name: 'openssl-1_1', version: '1.1.1w', engine: 'devcrypto', module: 'builtin', library: 'libopenssl1_1' });
  });

  it('patches both ./config calls once each, inline on the one-line call', () => {
    expect(out).toContain('  armv7*) ./config enable-devcryptoeng --prefix=%{_prefix} --openssldir=%{ssletcdir} "-DOPENSSL_NO_BUF_FREELISTS" linux-armv4 ;;\n');
    expect(after(out, '  *) ./config \\')).toBe('    enable-devcryptoeng \\');
    expect(count(out, 'enable-devcryptoeng')).toBe(2);
    expect(out).not.toContain('no-devcryptoeng');
    expect(out).toContain('export MACHINE=armv5el\n');
    expect(result.invocations.map((i) => i.command)).toEqual(['./config', './config']);
  });

  it('adds Recommends to libopenssl1_1 and a standalone config beside openssl.cnf in the main package', () => {
    expect(after(out, 'Recommends:     ca-certificates-mozilla')).toBe('Recommends:     cryptodev-kmod');
    expect(after(out, 'BuildRequires:  pkgconfig')).toBe('BuildRequires:  cryptodev-linux-devel');
    expect(after(out, 'Source1:        %{name}.changes')).toBe('Source900:      devcrypto.cnf');
    expect(after(out, '%config (noreplace) %{ssletcdir}/openssl.cnf')).toBe('%config(noreplace) %{ssletcdir}/devcrypto.cnf');
    expect(result.config).toMatchObject({ path: '%{ssletcdir}/devcrypto.cnf', package: 'openssl-1_1', dropIn: false });
    // 1.1.1 builds devcrypto into libcrypto: no module path, no sed in %install.
    expect(result.config!.content).not.toContain('dynamic_path');
    expect(out).not.toContain('@ENGINESDIR@');
    expect(result.config!.content).toMatch(/^openssl_conf = openssl_init$/m);
  });

  it('suffixes "Release: 0" and leaves the empty changelog alone, saying why', () => {
    expect(out).toContain('\nRelease:        0.cryptodev1\n');
    expect(out.endsWith('%changelog\n')).toBe(true);
    expect(result.changelog).toEqual({ kind: 'none', reason: 'empty' });
    expect(result.notes.join(' ')).toMatch(/no %changelog entry added: .*empty.*Release suffix \.cryptodev1 marks the rebuild/);
  });

  it('is idempotent', () => {
    expect(patch(out).text).toBe(out);
  });
});

describe('a spec with %autorelease, %autochangelog and a one-line ../Configure', () => {
  const result = patch(fixture('autorelease-3.2.1.spec'));
  const out = result.text;

  it('puts the suffix after the expanded %autorelease, never as its extraver', () => {
    expect(out).toContain('\nRelease:        %{autorelease}.cryptodev1\n');
    expect(result.release).toEqual({ before: '%autorelease', after: '%{autorelease}.cryptodev1' });
  });

  it('patches the call inside the subshell', () => {
    expect(out).toContain('(cd build && ../Configure enable-devcryptoeng --prefix=%{_prefix} --libdir=%{_lib}');
  });

  it('does not invent a changelog next to %autochangelog, and says what instead', () => {
    expect(out).toMatch(/%changelog\n%autochangelog\n$/);
    expect(result.changelog).toEqual({ kind: 'none', reason: 'generated' });
    expect(result.notes[0]).toMatch(/%autochangelog.*commit the patched spec.*Release suffix/);
  });

  it('falls back to the main package for Recommends and the config', () => {
    expect(after(out, 'BuildRequires:  cryptodev-linux-devel')).toBe('Recommends:     cryptodev-kmod');
    expect(result).toMatchObject({ version: '3.2.1', library: 'openssl', config: { path: '%{_sysconfdir}/pki/tls/devcrypto.cnf', package: 'openssl' } });
    expect(out).toContain("sed -i -e 's|@ENGINESDIR@|%{_libdir}/engines-3|' $RPM_BUILD_ROOT%{_sysconfdir}/pki/tls/devcrypto.cnf");
  });
});

describe('an old-style 1.0.2 spec (tab after Release:, perl Configure, no-hw, space-padded changelog day)', () => {
  const result = patch(fixture('oldstyle-1.0.2u.spec'), { now: new Date('2026-12-03T08:00:00Z') });
  const out = result.text;

  it('gets the cryptodev flags and loses no-hw', () => {
    expect(result).toMatchObject({
      engine: 'cryptodev',
      series: '1.0.x',
      module: 'builtin',
      flags: ['-DHAVE_CRYPTODEV', '-DUSE_CRYPTODEV_DIGESTS', '-DHASH_MAX_LEN=64'],
    });
    expect(out).toContain(
      'perl Configure --prefix=/usr --openssldir=/etc/pki/tls \\\n\t-DHAVE_CRYPTODEV -DUSE_CRYPTODEV_DIGESTS -DHASH_MAX_LEN=64 \\\n\tzlib shared',
    );
    expect(build(out)).not.toContain('no-hw');
    expect(result.invocations).toEqual([{ command: 'Configure', line: 23, flagsLine: 24 }]);
  });

  it('keeps the tab after Release: and the tag style of the preamble', () => {
    expect(out).toContain('\nRelease:\t1.cryptodev1\n');
    expect(out).toContain('\nSource900:\tcryptodev.cnf\n');
    expect(out).toContain('\nBuildRequires:\tcryptodev-linux-devel\nRecommends:\tcryptodev-kmod\n');
  });

  it('copies the "Name <email> V-R" header without a dash, space-padding the day', () => {
    expect(after(out, '%changelog')).toBe('* Thu Dec  3 2026 armkit <armkit@localhost> 1.0.2u-1.cryptodev1');
  });

  it('ships cryptodev.cnf making the engine the default for ciphers only', () => {
    expect(after(out, '%config(noreplace) /etc/pki/tls/openssl.cnf')).toBe('%config(noreplace) /etc/pki/tls/cryptodev.cnf');
    expect(result.config!.content).toContain('cryptodev = armkit_cryptodev');
    expect(result.config!.content).toMatch(/\ndefault_algorithms = CIPHERS\n$/);
    expect(result.check).toBe('openssl engine -t -c cryptodev');
  });
});

describe('refusals', () => {
  const spec = (name: string, version: string, build = './Configure shared') =>
    `Name: ${name}\nVersion: ${version}\nRelease: 1%{?dist}\nSummary: x\nLicense: x\n\n%description\nx\n\n%build\n${build}\n\n%files\n/usr/bin/openssl\n`;

  it('a spec of another package is not an OpenSSL spec (verification, exit 5)', () => {
    const error = catchArmkit(() => patch(spec('openssl-pkcs11', '0.4.20')));
    expect(error.kind).toBe('verification');
    expect(error.message).toBe(
      'test.spec is not an OpenSSL spec: it builds "openssl-pkcs11", and armkit spec openssl patches the spec of OpenSSL itself (Name matching ^(compat-)?openssl([0-9][0-9._]*|-[0-9][0-9._]*)?$).',
    );
  });

  it('accepts the usual OpenSSL package names', () => {
    for (const name of ['openssl', 'openssl-3', 'openssl11', 'openssl1.1', 'openssl3', 'compat-openssl10', 'openssl-1_1']) {
      expect(patch(spec(name, '3.0.7')).name).toBe(name);
    }
  });

  it('no Configure invocation: names the file and what was searched for', () => {
    const error = catchArmkit(() =>
      patchOpensslSpec(fixture('no-configure-3.0.0.spec'), { recipe, file: 'no-configure-3.0.0.spec', now: NOW, armkitVersion: '0' }),
    );
    expect(error.kind).toBe('verification');
    expect(error.message).toMatch(
      /^no-configure-3\.0\.0\.spec: no OpenSSL Configure invocation found in %build \(lines 15-\d+\); searched for "\.\/Configure", "\.\.\/Configure"/,
    );
  });

  it('a comment that mentions Configure is not an invocation', () => {
    const error = catchArmkit(() => patch(spec('openssl', '3.0.7', '# Configure the build tree with ./Configure\nmake')));
    expect(error.message).toMatch(/no OpenSSL Configure invocation/);
  });

  it('0.9.8 and 4.x are refused with the reason', () => {
    expect(catchArmkit(() => patch(spec('openssl', '0.9.8zh'))).message).toMatch(/OpenSSL 0\.9\.8zh cannot .*OCF-Linux/);
    expect(catchArmkit(() => patch(spec('openssl', '4.0.1'))).message).toMatch(/OpenSSL 4\.0\.1 cannot .*removed ENGINE support/);
  });

  it('an unresolvable Version', () => {
    expect(catchArmkit(() => patch(spec('openssl', '%{upstream_version}'))).message).toMatch(/cannot resolve Version "%\{upstream_version\}"/);
  });
});

describe('release suffix', () => {
  it.each([
    ['cryptodev2', '.cryptodev2'],
    ['.cryptodev1', '.cryptodev1'],
    [' .armkit.1 ', '.armkit.1'],
    ['hw+1', '.hw+1'],
    ['.1^git', '.1^git'],
  ])('%j → %j', (input, expected) => {
    expect(normalizeReleaseSuffix(input)).toBe(expected);
  });

  it.each(['.x~1', '~pre', '.-a', '.a-b', '.', '', '.a b', '.ä'])('rejects %j as usage', (input) => {
    const error = catchArmkit(() => normalizeReleaseSuffix(input));
    expect(error.kind).toBe('usage');
    expect(error.exitCode).toBe(2);
  });

  it.each([
    ['5%{?dist}', '5%{?dist}.cryptodev1'],
    ['1', '1.cryptodev1'],
    ['%{?xsrel}%{?dist}', '%{?xsrel}%{?dist}.cryptodev1'],
    ['%autorelease', '%{autorelease}.cryptodev1'],
    ['%autorelease -b 3', '%{autorelease -b 3}.cryptodev1'],
    ['%{autorelease}', '%{autorelease}.cryptodev1'],
  ])('Release %j → %j', (before, expected) => {
    expect(suffixedRelease(before, '.cryptodev1')).toBe(expected);
  });

  it('--release-suffix replaces the recipe default everywhere', () => {
    const result = patch(fixture('fedora-style-3.0.9.spec'), { releaseSuffix: 'board7' });
    expect(result.release.after).toBe('2%{?dist}.board7');
    expect(result.text).toContain('- 1:3.0.9-2.board7\n');
  });
});

describe('changelog style', () => {
  it.each([
    ['* Thu Sep 04 2025 A B <a@b> - 1:3.5.1-4', { separator: ' - ', day: 'zero' }],
    ['* Wed Jun  2 2010 Tomas Mraz <tmraz@redhat.com> 0.9.8n-2', { separator: ' ', day: 'space' }],
    ['* Tue Feb 3 2026 Tobias Brick <tobiasb@microsoft.com> - 3.3.5-4', { separator: ' - ', day: 'bare' }],
    ['* Mon Nov 13 2017 Tomáš Mráz <tmraz@redhat.com> 1.0.2m-1', { separator: ' ', day: 'zero' }],
    ['* Mon Nov 13 2017 Someone <s@x>', { separator: null, day: 'zero' }],
  ])('%s', (header, style) => {
    expect(changelogStyle(header)).toEqual(style);
  });

  it('formats dates in each style', () => {
    const d = new Date('2026-12-03T23:00:00Z');
    expect([formatChangelogDate(d, 'zero'), formatChangelogDate(d, 'space'), formatChangelogDate(d, 'bare')]).toEqual([
      'Thu Dec 03 2026',
      'Thu Dec  3 2026',
      'Thu Dec 3 2026',
    ]);
  });

  it('never dates the new entry before the current top entry', () => {
    const result = patch(fixture('fedora-style-3.0.9.spec'), { now: new Date('2020-01-01T00:00:00Z') });
    expect(after(result.text, '%changelog')).toBe('* Tue Jun 06 2023 armkit <armkit@localhost> - 1:3.0.9-2.cryptodev1');
  });
});
