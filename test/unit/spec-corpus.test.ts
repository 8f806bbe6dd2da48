/**
 * Every real openssl.spec of the shared corpus (read where it lies, never copied into the project): the outcome
 * each must have, the flags exactly once inside the Configure invocation, idempotence, and a diff that touches only
 * the lines it must. rpmspec and rpm's version comparison on the same specs: test/integration/spec-openssl.test.ts.
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { diffLines } from 'diff';
import { describe, expect, it } from 'vitest';
import { ArmkitError } from '../../src/errors.js';
import { loadOpensslRecipe } from '../../src/recipes/openssl.js';
import { type PatchResult, patchOpensslSpec } from '../../src/rpmspec/openssl.js';

const ROOT = resolve(import.meta.dirname, '../..');
export const CORPUS = resolve(ROOT, '../shared/fixtures/specs');
const haveCorpus = existsSync(CORPUS);
if (!haveCorpus) console.warn(`spec corpus tests skipped: ${CORPUS} is absent`);

const { recipe } = loadOpensslRecipe();
const NOW = new Date('2026-11-27T12:00:00Z');
const CRYPTODEV = ['-DHAVE_CRYPTODEV', '-DUSE_CRYPTODEV_DIGESTS', '-DHASH_MAX_LEN=64'];
const DEVCRYPTO = ['enable-devcryptoeng'];

interface Patched {
  version: string;
  engine: 'cryptodev' | 'devcrypto';
  module: 'builtin' | 'dynamic';
  command: string;
  library: string;
  config: { path: string; package: string };
  /** The whole new changelog header, or why none was added. */
  changelog: string | 'empty' | 'missing';
  bcond?: boolean;
}
interface Refused {
  refused: RegExp;
}

/** One row per corpus file: a new file fails the suite until its expected outcome is written down here. */
export const EXPECTED: Record<string, Patched | Refused> = {
  'azurelinux3-3.3.5-5.spec': {
    version: '3.3.5',
    engine: 'devcrypto',
    module: 'dynamic',
    command: './Configure',
    library: 'openssl-libs',
    config: { path: '%{_sysconfdir}/pki/tls/devcrypto.cnf', package: 'openssl-libs' },
    changelog: '* Fri Nov 27 2026 armkit <armkit@localhost> - 3.3.5-5.cryptodev1',
  },
  'fedora-0.9.8n-2.spec': { refused: /^OpenSSL 0\.9\.8n cannot be built with a \/dev\/crypto engine: .*OCF-Linux/ },
  'fedora-1.0.0d-1.spec': {
    version: '1.0.0d',
    engine: 'cryptodev',
    module: 'builtin',
    command: './Configure',
    library: 'openssl',
    config: { path: '%{_sysconfdir}/pki/tls/cryptodev.cnf', package: 'openssl' },
    changelog: '* Fri Nov 27 2026 armkit <armkit@localhost> 1.0.0d-1.cryptodev1',
  },
  'fedora-1.0.1e-45.spec': {
    version: '1.0.1e',
    engine: 'cryptodev',
    module: 'builtin',
    command: './Configure',
    library: 'openssl-libs',
    config: { path: '%{_sysconfdir}/pki/tls/cryptodev.cnf', package: 'openssl-libs' },
    changelog: '* Fri Nov 27 2026 armkit <armkit@localhost> 1:1.0.1e-45.cryptodev1',
  },
  'fedora-1.0.2m-1.spec': {
    version: '1.0.2m',
    engine: 'cryptodev',
    module: 'builtin',
    command: './Configure',
    library: 'openssl-libs',
    config: { path: '%{_sysconfdir}/pki/tls/cryptodev.cnf', package: 'openssl-libs' },
    changelog: '* Fri Nov 27 2026 armkit <armkit@localhost> 1:1.0.2m-1.cryptodev1',
  },
  // 1.1.0 predates devcrypto (1.1.1): its Configure rejects enable-devcryptoeng, its eng_cryptodev.c wants HAVE_CRYPTODEV.
  'fedora-1.1.0i-1.spec': {
    version: '1.1.0i',
    engine: 'cryptodev',
    module: 'builtin',
    command: './Configure',
    library: 'openssl-libs',
    config: { path: '%{_sysconfdir}/pki/tls/cryptodev.cnf', package: 'openssl-libs' },
    changelog: '* Fri Nov 27 2026 armkit <armkit@localhost> 1:1.1.0i-1.cryptodev1',
  },
  'fedora-1.1.1q-1.spec': {
    version: '1.1.1q',
    engine: 'devcrypto',
    module: 'builtin',
    command: './Configure',
    library: 'openssl-libs',
    config: { path: '%{_sysconfdir}/pki/tls/devcrypto.cnf', package: 'openssl-libs' },
    changelog: '* Fri Nov 27 2026 armkit <armkit@localhost> - 1:1.1.1q-1.cryptodev1',
  },
  'fedora-3.0.7-1.spec': {
    version: '3.0.7',
    engine: 'devcrypto',
    module: 'dynamic',
    command: './Configure',
    library: 'openssl-libs',
    config: { path: '%{_sysconfdir}/pki/tls/devcrypto.cnf', package: 'openssl-libs' },
    changelog: '* Fri Nov 27 2026 armkit <armkit@localhost> - 1:3.0.7-1.cryptodev1',
  },
  'fedora-3.2.4-3.spec': {
    version: '3.2.4',
    engine: 'devcrypto',
    module: 'dynamic',
    command: './Configure',
    library: 'openssl-libs',
    config: { path: '%{_sysconfdir}/pki/tls/openssl.d/devcrypto.cnf', package: 'openssl-libs' },
    changelog: '* Fri Nov 27 2026 armkit <armkit@localhost> - 1:3.2.4-3.cryptodev1',
  },
  'fedora-3.5.1-4.spec': {
    version: '3.5.1',
    engine: 'devcrypto',
    module: 'dynamic',
    command: './Configure',
    library: 'openssl-libs',
    config: { path: '%{_sysconfdir}/pki/tls/openssl.d/devcrypto.cnf', package: 'openssl-libs' },
    changelog: '* Fri Nov 27 2026 armkit <armkit@localhost> - 1:3.5.1-4.cryptodev1',
    bcond: true,
  },
  'fedora-4.0.1-5.spec': { refused: /^OpenSSL 4\.0\.1 cannot be built with a \/dev\/crypto engine: OpenSSL 4\.0 removed ENGINE support/ },
  'fedora-openssl-pkcs11-autorelease.spec': { refused: /is not an OpenSSL spec: it builds "openssl-pkcs11"/ },
  'opensuse-3.0.7-0.spec': {
    version: '3.0.7',
    engine: 'devcrypto',
    module: 'dynamic',
    command: './config',
    library: 'libopenssl3',
    config: { path: '%{ssletcdir}/devcrypto.cnf', package: 'openssl-3' },
    changelog: 'empty',
  },
  'pld-3.1.4-1.spec': {
    version: '3.1.4',
    engine: 'devcrypto',
    module: 'dynamic',
    command: './Configure',
    library: 'openssl',
    config: { path: '%{_sysconfdir}/%{name}/devcrypto.cnf', package: 'openssl' },
    changelog: 'missing',
  },
  'rhel7-1.0.2k-19.spec': {
    version: '1.0.2k',
    engine: 'cryptodev',
    module: 'builtin',
    command: './Configure',
    library: 'openssl-libs',
    config: { path: '%{_sysconfdir}/pki/tls/cryptodev.cnf', package: 'openssl-libs' },
    changelog: '* Fri Nov 27 2026 armkit <armkit@localhost> 1:1.0.2k-19.cryptodev1',
  },
  'rhel9-3.0.7-24.spec': {
    version: '3.0.7',
    engine: 'devcrypto',
    module: 'dynamic',
    command: './Configure',
    library: 'openssl-libs',
    config: { path: '%{_sysconfdir}/pki/tls/devcrypto.cnf', package: 'openssl-libs' },
    changelog: '* Fri Nov 27 2026 armkit <armkit@localhost> - 1:3.0.7-24.cryptodev1',
  },
  'sailfishos-1.1.1w-1.spec': {
    version: '1.1.1w',
    engine: 'devcrypto',
    module: 'builtin',
    command: './Configure',
    library: 'openssl-libs',
    config: { path: '%{_sysconfdir}/pki/tls/devcrypto.cnf', package: 'openssl-libs' },
    changelog: 'missing',
  },
};

const specs = haveCorpus
  ? readdirSync(CORPUS)
      .filter((f) => f.endsWith('.spec'))
      .sort()
  : [];
const patchFile = (file: string, text = readFileSync(join(CORPUS, file), 'utf8')): PatchResult =>
  patchOpensslSpec(text, { recipe, file, now: NOW, armkitVersion: '9.9.9' });

/** The section a line is in: the nearest section directive above it ("preamble" before the first). */
function sectionOf(lines: string[], index: number): string {
  for (let i = index; i >= 0; i--) {
    const m = /^%(package|description|prep|build|install|check|files|changelog|pre|post|preun|postun|clean)\b(.*)$/.exec(lines[i]!);
    if (m) return `%${m[1]}${m[2]!.trimEnd()}`;
  }
  return 'preamble';
}

/**
 * Whether line `index` is an argument of the Configure command: walking up, every line is backslash-continued
 * (or an %if/%else/%endif line) until one that runs Configure or config.
 */
function insideInvocation(lines: string[], index: number, command: string): boolean {
  if (lines[index]!.includes(command)) return true;
  for (let i = index - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (/^%(if|ifarch|ifnarch|else|endif)\b/.test(line)) continue;
    if (!/\\\s*$/.test(line)) return false;
    if (line.includes(command)) return true;
  }
  return false;
}

(haveCorpus ? describe : describe.skip)(`every spec of the shared corpus (${haveCorpus ? CORPUS : `skipped: ${CORPUS} is absent`})`, () => {
  it('has an expected outcome for each file, and finds them all', () => {
    expect(specs).toEqual(Object.keys(EXPECTED).sort());
  });

  describe.each(specs)('%s', (file) => {
    const expected = EXPECTED[file]!;
    const input = readFileSync(join(CORPUS, file), 'utf8');

    if ('refused' in expected) {
      it('is refused with the reason (verification, exit 5)', () => {
        let error: unknown;
        try {
          patchFile(file, input);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(ArmkitError);
        expect((error as ArmkitError).kind).toBe('verification');
        expect((error as ArmkitError).exitCode).toBe(5);
        expect((error as ArmkitError).message).toMatch(expected.refused);
      });
      return;
    }

    const result = patchFile(file, input);
    const out = result.text.split('\n');
    const beforeChangelog = result.text.split(/^%changelog$/m)[0]!;

    it(`OpenSSL ${expected.version}: the ${expected.engine} engine`, () => {
      expect(result).toMatchObject({
        version: expected.version,
        engine: expected.engine,
        module: expected.module,
        library: expected.library,
        flags: expected.engine === 'devcrypto' ? DEVCRYPTO : CRYPTODEV,
      });
      expect(result.config).toMatchObject(expected.config);
      expect(result.check).toBe(`openssl engine -t -c ${expected.engine}`);
    });

    it('has the flags exactly once, inside the Configure invocation', () => {
      expect(result.invocations.map((i) => i.command)).toEqual([expected.command]);
      for (const flag of result.flags) {
        const at = out.flatMap((l, i) => (l.split(/\s+/).includes(flag) && i < beforeChangelog.split('\n').length ? [i] : []));
        expect(at, flag).toHaveLength(1);
        expect(sectionOf(out, at[0]!)).toBe('%build');
        expect(insideInvocation(out, at[0]!, expected.command), `line ${at[0]! + 1}: ${out[at[0]!]}`).toBe(true);
        expect(result.invocations[0]!.flagsLine).toBe(at[0]! + 1);
      }
    });

    it('patching twice equals patching once', () => {
      const again = patchFile(file, result.text);
      expect(again.text).toBe(result.text);
      expect(again.changed).toBe(false);
    });

    it('changes only the lines it must', () => {
      const removed: string[] = [];
      const added: Array<{ line: string; section: string }> = [];
      let index = 0;
      for (const part of diffLines(input, result.text)) {
        const partLines = part.value.replace(/\n$/, '').split('\n');
        if (part.removed) removed.push(...partLines);
        else {
          if (part.added) for (const [k, line] of partLines.entries()) added.push({ line, section: sectionOf(out, index + k) });
          index += partLines.length;
        }
      }
      // Removed: the Release line, and the engine bcond where the spec has one; nothing else.
      expect(removed.filter((l) => !/^Release:/.test(l))).toEqual(expected.bcond ? ['%bcond engine %[!(0%{?rhel} >= 10)]'] : []);
      expect(removed.filter((l) => /^Release:/.test(l))).toHaveLength(1);

      const cnf = `${expected.engine}.cnf`;
      const kinds = added.map(({ line, section }) => {
        if (section === 'preamble' && /^Release:\s*\S+\.cryptodev1$/.test(line)) return 'release';
        if (section === 'preamble' && line === '%bcond engine 1') return 'bcond';
        if (section === 'preamble' && new RegExp(`^Source900:\\s+${cnf}$`).test(line)) return 'source';
        if (section === 'preamble' && /^BuildRequires:\s+cryptodev-linux-devel$/.test(line)) return 'build-requires';
        if (
          /^Recommends:\s+cryptodev-kmod$/.test(line) &&
          section === (expected.library === 'openssl' ? 'preamble' : expected.library === 'libopenssl3' ? '%package -n libopenssl3' : '%package libs')
        )
          return 'recommends';
        if (section === '%build' && line.trim() === `${result.flags.join(' ')} \\`) return 'flags';
        if (
          section === '%install' &&
          (line === `# ${cnf}: loads the ${expected.engine} engine (added by armkit)` ||
            line.startsWith('install -D -m 0644 %{SOURCE900} ') ||
            line.startsWith("sed -i -e 's|@ENGINESDIR@|"))
        )
          return 'install';
        if (section.startsWith('%files') && line === `%config(noreplace) ${expected.config.path}`) return 'files';
        if (section === '%changelog' && (line === expected.changelog || /^- [A-Z]/.test(line) || line === '')) return 'changelog';
        return `unexpected: ${section}: ${line}`;
      });
      const tally = (k: string) => kinds.filter((x) => x === k).length;
      expect(kinds.filter((k) => k.startsWith('unexpected'))).toEqual([]);
      expect({
        release: tally('release'),
        bcond: tally('bcond'),
        source: tally('source'),
        buildRequires: tally('build-requires'),
        recommends: tally('recommends'),
        flags: tally('flags'),
        install: tally('install'),
        files: tally('files'),
      }).toEqual({
        release: 1,
        bcond: expected.bcond ? 1 : 0,
        source: 1,
        buildRequires: 1,
        recommends: 1,
        flags: 1,
        install: expected.module === 'dynamic' ? 3 : 2,
        files: 1,
      });
      expect(tally('changelog')).toBe(expected.changelog.startsWith('*') ? added.filter((a) => a.section === '%changelog').length : 0);
    });

    it('writes the changelog the spec calls for', () => {
      if (expected.changelog === 'empty' || expected.changelog === 'missing') {
        expect(result.changelog).toEqual({ kind: 'none', reason: expected.changelog });
        expect(result.notes.join(' ')).toMatch(/no %changelog entry added/);
      } else {
        expect(result.changelog).toEqual({ kind: 'added', header: expected.changelog });
        const top = out.indexOf(expected.changelog);
        expect(out[top - 1]).toBe('%changelog');
      }
    });

    it('installs the engine configuration where its %files says, from Source900', () => {
      const install = out.find((l) => l.startsWith('install -D -m 0644 %{SOURCE900} '))!;
      expect(install).toMatch(
        new RegExp(`^install -D -m 0644 %\\{SOURCE900\\} (\\$RPM_BUILD_ROOT|%\\{buildroot\\})${expected.config.path.replace(/[{}%$]/g, '\\$&')}$`),
      );
      const sed = out.find((l) => l.startsWith("sed -i -e 's|@ENGINESDIR@|"));
      if (expected.module === 'dynamic') {
        expect(sed).toMatch(/engines-(%\{soversion\}|%\{sover\}|3)\|' /);
        expect(result.config!.content).toContain('dynamic_path = @ENGINESDIR@/devcrypto.so');
      } else {
        expect(sed).toBeUndefined();
        expect(result.config!.content).not.toContain('dynamic_path');
      }
    });
  });
});
