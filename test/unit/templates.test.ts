import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEMPLATES } from '../../src/paths.js';
import { MultilineText, renderTemplate, resolveTemplate, rpmEscape, shellWord } from '../../src/templates.js';
import { tempDir, writeTree } from './helpers.js';

function templates(files: Record<string, string>): string {
  return writeTree(tempDir(), files);
}

describe('renderTemplate', () => {
  it('renders values from `it`', () => {
    const root = templates({ 'a/hello.ejs': 'Name: <%= it.name %>\nRelease: <%= it.release %>\n' });
    expect(renderTemplate('a/hello.ejs', { name: 'cryptodev-linux', release: 1 }, [root])).toBe('Name: cryptodev-linux\nRelease: 1\n');
  });

  it('does not HTML-escape', () => {
    const root = templates({ 't.ejs': '<%= it.text %>' });
    const text = `a < b && c > d "quoted" 'single' <armkit@localhost>`;
    expect(renderTemplate('t.ejs', { text }, [root])).toBe(text);
  });

  it('throws on an undefined value instead of printing "undefined"', () => {
    const root = templates({ 'spec.ejs': 'Version: <%= it.version %>\n' });
    const file = join(root, 'spec.ejs');
    expect(() => renderTemplate('spec.ejs', {}, [root])).toThrow(`Rendering template ${file} failed`);
    expect(() => renderTemplate('spec.ejs', { version: undefined }, [root])).toThrow(/template value is undefined/);
    expect(() => renderTemplate('spec.ejs', { version: null }, [root])).toThrow(/template value is undefined/);
  });

  it('prints falsy values that are defined', () => {
    const root = templates({ 't.ejs': '<%= it.zero %>|<%= it.no %>|<%= it.empty %>|' });
    expect(renderTemplate('t.ejs', { zero: 0, no: false, empty: '' }, [root])).toBe('0|false||');
  });

  it('supports control flow with whitespace trimming', () => {
    const root = templates({ 'list.ejs': '<% for (const f of it.files) { -%>\n%license <%= f %>\n<% } -%>\nend\n' });
    expect(renderTemplate('list.ejs', { files: ['COPYING', 'LICENSE'] }, [root])).toBe('%license COPYING\n%license LICENSE\nend\n');
    expect(renderTemplate('list.ejs', { files: [] }, [root])).toBe('end\n');
  });

  it('fails naming the name and the folders when the template does not exist (a recipe error)', () => {
    const root = tempDir();
    expect(() => renderTemplate('missing.ejs', {}, [root])).toThrow(`Template missing.ejs is not a file inside ${root}`);
  });

  it('reads the shipped templates by default', () => {
    expect(renderTemplate('kmod/modules-load.conf.ejs', { module: 'cryptodev', package: 'cryptodev-linux' })).toMatch(/^cryptodev\n$/m);
    expect(TEMPLATES.endsWith('templates')).toBe(true);
  });
});

describe('templates stay inside their folders (EJS is JavaScript)', () => {
  it('refuses a name that climbs out with ..', () => {
    const outside = templates({ 'evil.ejs': '<% require("fs") %>' });
    const root = join(outside, 'templates');
    mkdirSync(root);
    expect(() => resolveTemplate('../evil.ejs', [root])).toThrow(/is not a file inside/);
    expect(() => renderTemplate('../evil.ejs', {}, [root])).toThrow(/templates are only read from armkit's templates\//);
  });

  it('refuses an absolute name and a link that points outside', () => {
    const outside = templates({ 'evil.ejs': 'x' });
    const root = templates({ 'ok.ejs': 'ok' });
    symlinkSync(join(outside, 'evil.ejs'), join(root, 'link.ejs'));
    expect(() => resolveTemplate(join(outside, 'evil.ejs'), [root])).toThrow(/is not a file inside/);
    expect(() => resolveTemplate('link.ejs', [root])).toThrow(/is not a file inside/);
    expect(resolveTemplate('ok.ejs', [root])).toBe(join(root, 'ok.ejs'));
  });

  it("looks in the user's folder first, then armkit's", () => {
    const user = templates({ 'kmod/modules-load.conf.ejs': 'user <%= it.module %>\n' });
    expect(renderTemplate('kmod/modules-load.conf.ejs', { module: 'm', package: 'p' }, [user, TEMPLATES])).toBe('user m\n');
  });
});

describe('escapes by the kind of file made', () => {
  it('an RPM spec gets % doubled and refuses newlines in one-line values', () => {
    expect(rpmEscape('50%(touch PWNED) %{_bindir}')).toBe('50%%(touch PWNED) %%{_bindir}');
    expect(() => rpmEscape('one\nRequires: evil')).toThrow(/contains a newline/);
    const root = templates({ 'x.spec.ejs': 'Summary: <%= it.s %>\n' });
    expect(renderTemplate('x.spec.ejs', { s: '100% %(id)' }, [root])).toBe('Summary: 100%% %%(id)\n');
    // The sentence reaches the user without EJS's file:line context.
    expect(() => renderTemplate('x.spec.ejs', { s: 'a\n%post' }, [root])).toThrow(/^The value "a\\n%post" contains a newline or control character/);
  });

  it('a multi-line text keeps its lines; none may open a spec section', () => {
    expect(rpmEscape(new MultilineText('first\n%files\n  %(id) inside\n50%'))).toBe('first\n %%files\n  %%(id) inside\n50%%');
  });

  it('a shell script takes only plain words', () => {
    expect(shellWord('6.1.0-57-arm64')).toBe('6.1.0-57-arm64');
    expect(shellWord('/etc/pki/tls/openssl.d/devcrypto.cnf')).toBe('/etc/pki/tls/openssl.d/devcrypto.cnf');
    for (const bad of ["x'; reboot; '", '$(id)', 'a b', '`id`', 'a;b']) expect(() => shellWord(bad), bad).toThrow(/characters a shell would interpret/);
    const root = templates({ 'init.sh.ejs': "m='<%= it.m %>'\n" });
    expect(() => renderTemplate('init.sh.ejs', { m: "x'; reboot -f; '" }, [root])).toThrow(/will not write it into a script/);
  });

  it('other files take one line per value', () => {
    const root = templates({ 'a.conf.ejs': '<%= it.m %>\n' });
    expect(renderTemplate('a.conf.ejs', { m: 'cryptodev' }, [root])).toBe('cryptodev\n');
    expect(() => renderTemplate('a.conf.ejs', { m: 'cryptodev\nevil' }, [root])).toThrow(/newline/);
  });
});
