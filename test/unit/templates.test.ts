import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { renderTemplate } from '../../src/templates.js';
import { TEMPLATES } from '../../src/paths.js';
import { tempDir, writeTree } from './helpers.js';

function templates(files: Record<string, string>): string {
  return writeTree(tempDir(), files);
}

describe('renderTemplate', () => {
  it('renders values from `it`', () => {
    const root = templates({ 'a/hello.ejs': 'Name: <%= it.name %>\nRelease: <%= it.release %>\n' });
    expect(renderTemplate('a/hello.ejs', { name: 'cryptodev-linux', release: 1 }, root)).toBe('Name: cryptodev-linux\nRelease: 1\n');
  });

  it('does not HTML-escape', () => {
    const root = templates({ 't.ejs': '<%= it.text %>' });
    const text = `a < b && c > d "quoted" 'single' <armkit@localhost>`;
    expect(renderTemplate('t.ejs', { text }, root)).toBe(text);
  });

  it('throws on an undefined value instead of printing "undefined"', () => {
    const root = templates({ 'spec.ejs': 'Version: <%= it.version %>\n' });
    const file = join(root, 'spec.ejs');
    expect(() => renderTemplate('spec.ejs', {}, root)).toThrow(`Rendering template ${file} failed`);
    expect(() => renderTemplate('spec.ejs', { version: undefined }, root)).toThrow(/template value is undefined/);
    expect(() => renderTemplate('spec.ejs', { version: null }, root)).toThrow(/template value is undefined/);
  });

  it('prints falsy values that are defined', () => {
    const root = templates({ 't.ejs': '<%= it.zero %>|<%= it.no %>|<%= it.empty %>|' });
    expect(renderTemplate('t.ejs', { zero: 0, no: false, empty: '' }, root)).toBe('0|false||');
  });

  it('supports control flow with whitespace trimming', () => {
    const root = templates({ 'list.ejs': '<% for (const f of it.files) { -%>\n%license <%= f %>\n<% } -%>\nend\n' });
    expect(renderTemplate('list.ejs', { files: ['COPYING', 'LICENSE'] }, root)).toBe('%license COPYING\n%license LICENSE\nend\n');
    expect(renderTemplate('list.ejs', { files: [] }, root)).toBe('end\n');
  });

  it('fails naming the file when the template does not exist', () => {
    const root = tempDir();
    expect(() => renderTemplate('missing.ejs', {}, root)).toThrow(join(root, 'missing.ejs'));
  });

  it('reads the shipped templates by default', () => {
    expect(renderTemplate('cryptodev/modules-load.conf.ejs', { module: 'cryptodev', package: 'cryptodev-linux' })).toMatch(/^cryptodev\n$/m);
    expect(TEMPLATES.endsWith('templates')).toBe(true);
  });
});
