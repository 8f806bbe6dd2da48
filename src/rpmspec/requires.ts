/**
 * The dependencies between the rebuilt OpenSSL and armkit's cryptodev packages: a BuildRequires on the header
 * package (the engine includes <crypto/cryptodev.h>, which no distribution header package has) and a weak
 * dependency from the library package on the kmod that provides /dev/crypto (the library works without it).
 */
import type { SpecEditor } from './editor.js';
import { depths, findSections, formatTagLike, type Section, sectionPackage, sections, tagLine, topLevelTags } from './text.js';

function mentions(lines: string[], tag: RegExp, pkg: string): boolean {
  const word = new RegExp(`(^|[\\s,(])${pkg.replace(/[.+]/g, '\\$&')}($|[\\s,)<>=])`);
  return lines.some((line) => {
    const t = tagLine(line);
    return t !== undefined && tag.test(t.tag) && word.test(t.value);
  });
}

/** The last unconditional line among the tags, else the last unconditional tag of the section: where a tag goes. */
function anchor(lines: string[], section: Section, preferred: RegExp): number | undefined {
  const depth = depths(lines);
  const same = topLevelTags(lines, section, depth, preferred);
  if (same.length > 0) return same[same.length - 1];
  const any = topLevelTags(lines, section, depth, /./);
  return any.length > 0 ? any[any.length - 1] : undefined;
}

export function addBuildRequires(editor: SpecEditor, pkg: string): void {
  const lines = editor.lines();
  if (mentions(lines, /^BuildRequires$/i, pkg)) {
    editor.unchanged.push(`BuildRequires: ${pkg} already present`);
    return;
  }
  const preamble = sections(lines)[0]!;
  const at = anchor(lines, preamble, /^BuildRequires$/i);
  if (at === undefined) return;
  const touched = editor.insertAfter(at, [formatTagLike('BuildRequires', pkg, lines[at])]);
  editor.record(
    {
      kind: 'build-requires',
      what: `BuildRequires: ${pkg}`,
      why: `the engine includes <crypto/cryptodev.h>, which only ${pkg} (armkit build cryptodev) provides`,
    },
    touched,
  );
}

/** The package that holds libcrypto: "-libs" where it exists, an openSUSE-style lib package, else the main one. */
export function libraryPackage(lines: string[], mainName: string): { name: string; section: Section } {
  const packages = findSections(lines, 'package').map((s) => ({ name: sectionPackage(s.args, mainName), section: s }));
  const libs =
    packages.find((p) => p.name === `${mainName}-libs`) ?? packages.find((p) => /^lib(openssl|ssl|crypto)/.test(p.name) && !/-(devel|static|doc)/.test(p.name));
  return libs ?? { name: mainName, section: sections(lines)[0]! };
}

export function addRecommends(editor: SpecEditor, pkg: string, mainName: string): string {
  const lines = editor.lines();
  const lib = libraryPackage(lines, mainName);
  if (mentions(lines, /^(Recommends|Requires)$/i, pkg)) {
    editor.unchanged.push(`a dependency on ${pkg} is already present`);
    return lib.name;
  }
  const at = anchor(lines, lib.section, /^(Requires|Recommends)(\(.*\))?$/i);
  if (at === undefined) return lib.name;
  const touched = editor.insertAfter(at, [formatTagLike('Recommends', pkg, lines[at])]);
  editor.record(
    {
      kind: 'recommends',
      what: `Recommends: ${pkg} in ${lib.name}`,
      why: `the engine needs /dev/crypto, which ${pkg} provides; a weak dependency, so ${lib.name} still installs where the module is not wanted`,
    },
    touched,
  );
  return lib.name;
}
