/** The pieces under the spec patcher: macro expansion, the Configure invocation's extent, atomic output. */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOpensslRecipe } from '../../src/recipes/openssl.js';
import { findInvocations } from '../../src/rpmspec/configure.js';
import { expand, hasMacro, specMacros } from '../../src/rpmspec/macros.js';
import { patchOpensslSpec } from '../../src/rpmspec/openssl.js';
import { defineArgs, PARSE_FALLBACK_MACROS } from '../../src/rpmspec/rpm-macros.js';
import { depths, findSections, formatTagLike, sectionPackage } from '../../src/rpmspec/text.js';
import { publishTextFiles } from '../../src/rpmspec/write.js';
import { catchArmkit, tempDir } from './helpers.js';

describe("the spec's own macros", () => {
  const lines = [
    '%global major 3',
    '%define minor 0',
    '%define srpmhash() %{lua: x}',
    'Name: openssl',
    'Version: %{major}.%{minor}.%{?pl}%{!?pl:7}',
    'Release: 1%{?dist}',
    'Epoch: 1',
  ];
  const table = specMacros(lines);

  it('reads %global/%define values and the Name/Version/Release/Epoch tags, not parametric macros', () => {
    expect(table.get('major')).toBe('3');
    expect(table.has('srpmhash')).toBe(false);
    expect(table.get('epoch')).toBe('1');
  });

  it.each([
    ['%{major}.%{minor}', '3.0'],
    ['%major-%name', '3-openssl'],
    ['%{?major:yes}%{!?major:no}', 'yes'],
    ['%{?dist}', '%{?dist}'],
    ['%{!?nofips:fips}', '%{!?nofips:fips}'],
    ['100%%', '100%'],
    ['%{version}', '%{major}.%{minor}.%{?pl}%{!?pl:7}'.replace('%{major}.%{minor}', '3.0')],
  ])('%s → %s', (text, expected) => {
    expect(expand(text, table)).toBe(expected);
  });

  it('knows when macros are left', () => {
    expect(hasMacro('3.0.7')).toBe(false);
    expect(hasMacro('3.0.%{pl}')).toBe(true);
    expect(hasMacro('100%%')).toBe(false);
  });
});

describe('spec structure', () => {
  const spec = [
    'Name: x',
    '%if 0%{?rhel}',
    'Requires: a',
    '%else',
    'Requires: b',
    '%endif',
    '%package libs',
    'Summary: y',
    '%files -n libfoo',
    '%files -f list',
    '%changelog',
    '%files not-a-section',
  ];

  it('sections, packages and %if depth', () => {
    expect(findSections(spec, 'files').map((s) => sectionPackage(s.args, 'openssl'))).toEqual(['libfoo', 'openssl']);
    expect(sectionPackage('libs', 'openssl')).toBe('openssl-libs');
    expect(depths(spec).slice(0, 7)).toEqual([0, 0, 1, 0, 1, 0, 0]);
  });

  it('aligns a new tag like its neighbour', () => {
    expect(formatTagLike('Source900', 'a.cnf', 'Source5:        showciphers.c')).toBe('Source900:      a.cnf');
    expect(formatTagLike('Recommends', 'k', 'Requires:\tx')).toBe('Recommends:\tk');
    expect(formatTagLike('BuildRequires', 'k', 'BuildRequires: x')).toBe('BuildRequires: k');
    expect(formatTagLike('Source900', 'a', 'Source:x')).toBe('Source900: a');
  });
});

describe('the extent of a Configure invocation', () => {
  // PLD's layout: %ifarch branches inside the continuation, some ending the command without a backslash.
  const build = [
    '%build',
    'PERL="%{__perl}" \\',
    '%{__perl} ./Configure \\',
    '\t--prefix=%{_prefix} \\',
    '%ifarch %{x8664}',
    '\tenable-ec_nistp_64_gcc_128 \\',
    '%endif',
    '%ifarch %{ix86}',
    '%ifarch i386',
    '\t386 linux-elf',
    '# ^- a comment inside a branch',
    '%else',
    '\tlinux-elf',
    '%endif',
    '%endif',
    '%ifarch aarch64',
    '\tlinux-aarch64',
    '%endif',
    '',
    "v=$(awk -F= '/^VERSION=/{print $2}' Makefile)",
    './config shared',
  ];
  const section = findSections(build, 'build')[0]!;

  it('runs through every %ifarch branch to the blank line, and finds the next call', () => {
    expect(findInvocations(build, section)).toEqual([
      { command: './Configure', line: 2, commandEnd: 21, end: 18 },
      { command: './config', line: 20, commandEnd: 8, end: 21 },
    ]);
  });

  it('ends at the first line without a backslash at the top level', () => {
    const lines = ['%build', './Configure \\', '  a \\', '  b', 'make', '# ./Configure in a comment'];
    expect(findInvocations(lines, findSections(lines, 'build')[0]!)).toEqual([{ command: './Configure', line: 1, commandEnd: 11, end: 4 }]);
  });
});

describe('a spec without %install', () => {
  it('keeps the config in the source RPM only, and says so, instead of listing a file nothing installs', () => {
    const { recipe } = loadOpensslRecipe();
    const spec =
      'Name: openssl\nVersion: 3.0.7\nRelease: 1\nSummary: x\nLicense: x\nSource0: a.tgz\n\n%description\nx\n\n%build\n./config\n\n%files\n%config(noreplace) /etc/ssl/openssl.cnf\n';
    const result = patchOpensslSpec(spec, { recipe, file: 'x.spec', now: new Date(), armkitVersion: '0' });
    expect(result.text).toContain('Source900: devcrypto.cnf');
    expect(result.text).not.toContain('/etc/ssl/devcrypto.cnf');
    expect(result.notes.join(' ')).toMatch(/no %install section: devcrypto\.cnf is in the source RPM \(Source900\) but not installed/);
  });
});

describe('where the engine configuration goes when %files has no openssl.cnf', () => {
  const { recipe } = loadOpensslRecipe();
  const spec = (configure: string) =>
    [
      'Name: openssl3',
      'Version: 3.1.1',
      'Release: 1',
      'Summary: x',
      'License: x',
      'Source0: a.tgz',
      'BuildRequires: gcc',
      '',
      '%description',
      'x',
      '',
      '%package libs',
      'Summary: y',
      'Requires: z',
      '',
      '%description libs',
      'y',
      '',
      '%build',
      configure,
      '',
      '%install',
      'make install',
      '',
      '%files',
      '/usr/bin/openssl',
      '',
      '%files libs',
      '/usr/lib64/libcrypto.so.3',
      '/usr/lib64/engines-3',
    ].join('\n');

  it('uses --openssldir of the invocation, in the library package', () => {
    const result = patchOpensslSpec(spec('./Configure --openssldir=/etc/ssl3 shared'), { recipe, file: 'x.spec', now: new Date(), armkitVersion: '0' });
    expect(result.config).toMatchObject({ path: '/etc/ssl3/devcrypto.cnf', package: 'openssl3-libs', dropIn: false });
    expect(result.text).toContain("sed -i -e 's|@ENGINESDIR@|/usr/lib64/engines-3|' $RPM_BUILD_ROOT/etc/ssl3/devcrypto.cnf");
    expect(result.text).toContain('%files libs\n%config(noreplace) /etc/ssl3/devcrypto.cnf\n');
  });

  it('with no-dynamic-engine the engine is in libcrypto: no dynamic_path', () => {
    const result = patchOpensslSpec(spec('./Configure --openssldir=/etc/ssl3 no-dynamic-engine shared'), {
      recipe,
      file: 'x.spec',
      now: new Date(),
      armkitVersion: '0',
    });
    expect(result.config!.content).not.toContain('dynamic_path');
    expect(result.text).not.toContain('@ENGINESDIR@');
  });
});

describe('parse fallbacks for rpmspec', () => {
  it('is one list, passed as --define', () => {
    const names = PARSE_FALLBACK_MACROS.map((m) => m.name);
    for (const name of ['dist', 'ldconfig_scriptlets', 'build_ldflags', '_modulesloaddir', 'autorelease', 'autochangelog']) expect(names).toContain(name);
    expect(names).not.toContain('fedora');
    expect(defineArgs(PARSE_FALLBACK_MACROS.filter((m) => m.name === 'ldconfig_scriptlets'))).toEqual(['--define', 'ldconfig_scriptlets(n:) %{nil}']);
  });
});

describe('publishTextFiles', () => {
  it('replaces the whole directory at once', () => {
    const root = tempDir();
    const dest = join(root, 'openssl', '3.0.7');
    publishTextFiles(dest, { 'a.txt': 'one\n', 'stale.txt': 'x' });
    publishTextFiles(dest, { 'a.txt': 'two\n' });
    expect(readdirSync(dest)).toEqual(['a.txt']);
    expect(readFileSync(join(dest, 'a.txt'), 'utf8')).toBe('two\n');
    expect(readdirSync(join(root, 'openssl'))).toEqual(['3.0.7']);
  });

  it('leaves the previous results when writing fails', () => {
    const root = tempDir();
    const dest = join(root, '3.0.7');
    mkdirSync(dest);
    writeFileSync(join(dest, 'keep.txt'), 'old');
    expect(() => publishTextFiles(dest, { 'ok.txt': 'new', 'no/such/dir.txt': 'x' })).toThrow();
    expect(readdirSync(dest)).toEqual(['keep.txt']);
    expect(readdirSync(root)).toEqual(['3.0.7']);
    expect(existsSync(join(root, `.3.0.7.staging-${process.pid}`))).toBe(false);
  });
});

describe('recipes', () => {
  it('the shipped openssl recipe loads; a kmod recipe is pointed at armkit build', () => {
    const { recipe, file } = loadOpensslRecipe();
    expect(file.endsWith('recipes/openssl.yaml')).toBe(true);
    expect(recipe).toMatchObject({
      kind: 'spec',
      releaseSuffix: '.cryptodev1',
      buildRequires: 'cryptodev-linux-devel',
      recommends: 'cryptodev-kmod',
      sourceNumber: 900,
    });
    const error = catchArmkit(() => loadOpensslRecipe('cryptodev'));
    expect(error.kind).toBe('usage');
    expect(error.message).toMatch(/armkit build cryptodev/);
  });

  it('an invalid openssl recipe names the file and field', () => {
    const dir = tempDir();
    const text = readFileSync(join(import.meta.dirname, '../../recipes/openssl.yaml'), 'utf8')
      .replace('releaseSuffix: .cryptodev1', 'releaseSuffix: cryptodev~1')
      .replace('    moduleFile: devcrypto.so\n', '');
    writeFileSync(join(dir, 'openssl.yaml'), text);
    const error = catchArmkit(() => loadOpensslRecipe('openssl', [dir]));
    expect(error.kind).toBe('recipe');
    expect(error.exitCode).toBe(3);
    expect(error.message).toContain(join(dir, 'openssl.yaml'));
    expect(error.message).toMatch(/releaseSuffix: must start with "\."/);
    expect(error.details.join('\n')).toMatch(/series\.3\.moduleFile: a dynamic engine needs moduleFile/);
  });
});
