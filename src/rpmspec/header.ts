/**
 * Who a spec is: Name, Version, Release and Epoch with the spec's own macros resolved, and whether it is an OpenSSL
 * spec at all. Everything later (the engine, the flags, the changelog's E:V-R) starts from here.
 */
import { mismatch } from '../errors.js';
import type { OpensslRecipe } from '../recipes/openssl.js';
import { expand, hasMacro, type MacroTable, specMacros } from './macros.js';
import { type OpensslVersion, parseOpensslVersion } from './version.js';

export interface SpecHeader {
  name: string;
  /** Version with macros resolved. */
  version: string;
  /** Epoch with macros resolved, when the spec has one. */
  epoch?: string;
  /** Release as written (macros kept: "5%{?dist}"). */
  release: string;
  macros: MacroTable;
}

export function readSpecHeader(lines: string[], file: string): SpecHeader {
  const macros = specMacros(lines);
  const get = (key: string) => (macros.has(key) ? expand(macros.get(key)!, macros).trim() : undefined);
  const name = get('name');
  const version = get('version');
  const release = macros.get('release');
  if (!name || !version || release === undefined) {
    const lacking = [!name && 'Name', !version && 'Version', release === undefined && 'Release'].filter(Boolean).join(', ');
    throw mismatch(`${file} is not an RPM spec armkit can read: its preamble has no ${lacking} tag.`);
  }
  return { name, version, epoch: get('epoch'), release: release.trim(), macros };
}

export interface OpensslSpec {
  header: SpecHeader;
  version: OpensslVersion;
}

/** The spec's OpenSSL version, after checking that the spec builds OpenSSL itself. */
export function resolveOpensslVersion(lines: string[], recipe: OpensslRecipe, file: string): OpensslSpec {
  const header = readSpecHeader(lines, file);
  if (!new RegExp(recipe.packageNames).test(header.name)) {
    throw mismatch(
      `${file} is not an OpenSSL spec: it builds "${header.name}", and armkit spec openssl patches the spec of OpenSSL itself (Name matching ${recipe.packageNames}).`,
      ['Pass the openssl.spec of your distribution (or its source RPM with --srpm).'],
    );
  }
  if (hasMacro(header.version)) {
    throw mismatch(`${file}: cannot resolve Version "${header.version}": it uses macros the spec does not define itself.`);
  }
  const version = parseOpensslVersion(header.version);
  if (!version) throw mismatch(`${file}: Version "${header.version}" is not an OpenSSL version (such as 1.0.2u or 3.0.7).`);
  return { header, version };
}
