/**
 * The engine configuration users keep asking for, shipped by the patched package: a new SourceNNN (rendered from
 * templates/openssl/), installed by %install beside openssl.cnf (into its drop-in directory where the distribution
 * has one, as Fedora's openssl.d) and listed in %files as %config(noreplace). A dynamic engine's path is the
 * package's own engines directory, which only rpm knows (lib vs lib64): %install writes it in with sed.
 */

import type { OpensslRecipe } from '../recipes/openssl.js';
import { renderTemplate } from '../templates.js';
import type { Invocation } from './configure.js';
import type { SpecEditor } from './editor.js';
import type { EngineChoice } from './engine.js';
import { depths, findSections, formatTagLike, type Section, sectionPackage, sections, tagLine } from './text.js';

/** Replaced by %install with the engines directory of the package being built. */
export const ENGINES_DIR_PLACEHOLDER = '@ENGINESDIR@';

export interface EngineConfigPlan {
  /** File name of the configuration (the SourceNNN and the installed file). */
  file: string;
  /** Directory it is installed into, with the spec's macros ("%{_sysconfdir}/pki/tls/openssl.d"). */
  dir: string;
  /** Whether dir is a drop-in directory that openssl.cnf reads by itself. */
  dropIn: boolean;
  /** The package whose %files lists it. */
  package: string;
  /** The arguments of that %files line ("libs", "-n libopenssl3", ""), to find it again. */
  filesArgs: string;
  /** The engines directory a dynamic engine is loaded from (macros kept), when the engine is a module. */
  enginesDir?: string;
  content: string;
  /** What armkit did not take from the spec, and why. */
  notes: string[];
}

const CNF = /^(.*)\/openssl[0-9._-]*\.cnf$/;

/**
 * A directory the spec names that armkit may copy into lines of its own (%install's shell, %files, the engine
 * configuration): plain characters and %{macro} references, as the recipe's defaults are. Anything else (quotes,
 * $, %(...), spaces) stays where the spec wrote it, and armkit uses its default instead, saying so.
 */
const SPEC_DIR = /^(?:[A-Za-z0-9._/+-]|%\{[A-Za-z_][A-Za-z0-9_]*\})+$/;
const plainDir = (dir: string) => SPEC_DIR.test(dir);

function filesPath(line: string): string | undefined {
  if (/^\s*#/.test(line)) return undefined;
  const words = line.trim().split(/\s+/);
  const path = words[words.length - 1];
  return path && /^(\/|%\{)/.test(path) ? path : undefined;
}

interface FilesLocation {
  section: Section;
  /** Index of the openssl.cnf line, when the section has it. */
  cnfLine?: number;
  dir: string;
  dropIn: boolean;
}

function configLocation(
  lines: string[],
  recipe: OpensslRecipe,
  mainName: string,
  libName: string,
  invocations: Invocation[],
  notes: string[],
): FilesLocation | undefined {
  const files = findSections(lines, 'files');
  const allFiles = files.flatMap((s) => lines.slice(s.start, s.end));
  for (const section of files) {
    for (let i = section.start; i < section.end; i++) {
      const m = /%config/.test(lines[i]!) ? CNF.exec(filesPath(lines[i]!) ?? '') : null;
      if (!m) continue;
      const cnfDir = m[1]!;
      if (!plainDir(cnfDir)) {
        notes.push(
          `the openssl.cnf of %files (line ${i + 1}) is in ${JSON.stringify(cnfDir)}, which armkit does not copy into lines of its own (it is not a plain path)`,
        );
        continue;
      }
      const dropIn = recipe.config.dropInDirs.find((d) => allFiles.some((l) => /%dir\b/.test(l) && filesPath(l) === `${cnfDir}/${d}`));
      return { section, cnfLine: i, dir: dropIn ? `${cnfDir}/${dropIn}` : cnfDir, dropIn: dropIn !== undefined };
    }
  }
  // No openssl.cnf in %files: the library package's list, in the directory Configure was given.
  const section = files.find((s) => sectionPackage(s.args, mainName) === libName) ?? files.find((s) => sectionPackage(s.args, mainName) === mainName);
  if (!section) return undefined;
  const openssldir = invocations
    .flatMap((inv) => lines.slice(inv.line, inv.end))
    .map((l) => /--openssldir=(\S+)/.exec(l)?.[1])
    .find(Boolean)
    ?.replace(/^(["'])(.*)\1$/, '$2');
  if (openssldir !== undefined && !plainDir(openssldir)) {
    notes.push(`--openssldir=${openssldir} is not a plain path: the engine configuration goes to ${recipe.config.defaultDir} instead`);
  }
  return { section, dir: openssldir !== undefined && plainDir(openssldir) ? openssldir : recipe.config.defaultDir, dropIn: false };
}

function enginesDirOf(lines: string[], recipe: OpensslRecipe, notes: string[]): string {
  for (const section of findSections(lines, 'files')) {
    for (let i = section.start; i < section.end; i++) {
      const path = filesPath(lines[i]!);
      const m = path ? /^(.*\/engines-[^/\s]+)/.exec(path) : null;
      if (!m) continue;
      if (plainDir(m[1]!)) return m[1]!;
      notes.push(
        `the engines directory of %files (line ${i + 1}) is not a plain path: the engine configuration names ${recipe.config.defaultEnginesDir} instead`,
      );
      return recipe.config.defaultEnginesDir;
    }
  }
  return recipe.config.defaultEnginesDir;
}

export function planEngineConfig(
  lines: string[],
  recipe: OpensslRecipe,
  engine: EngineChoice,
  names: { main: string; library: string; version: string },
  invocations: Invocation[],
  armkitVersion: string,
): EngineConfigPlan | undefined {
  const notes: string[] = [];
  const where = configLocation(lines, recipe, names.main, names.library, invocations, notes);
  if (!where) return undefined;
  const file = `${engine.engine}.cnf`;
  // A build with no-dynamic-engine or without shared libraries links every engine into libcrypto.
  const staticEngines = invocations.some((inv) =>
    lines.slice(inv.line, inv.end).some((l) => /(^|\s)(no-dynamic-engine|no-shared|disable-shared)(\s|$)/.test(l)),
  );
  const dynamic = engine.module === 'dynamic' && !staticEngines;
  const enginesDir = dynamic ? enginesDirOf(lines, recipe, notes) : undefined;
  const content = renderTemplate(engine.template, {
    engine: engine.engine,
    series: engine.series,
    package: names.main,
    version: names.version,
    armkitVersion,
    dynamic,
    modulePath: dynamic ? `${ENGINES_DIR_PLACEHOLDER}/${engine.moduleFile}` : '',
    standalone: !where.dropIn,
    initSection: recipe.config.initSection,
    path: `${where.dir}/${file}`,
    check: engine.check,
  });
  return {
    file,
    dir: where.dir,
    dropIn: where.dropIn,
    package: sectionPackage(where.section.args, names.main),
    filesArgs: where.section.args,
    enginesDir,
    content,
    notes,
  };
}

function sourceNumbers(lines: string[]): Map<number, string> {
  const preamble = sections(lines)[0]!;
  const out = new Map<number, string>();
  for (let i = preamble.start; i < preamble.end; i++) {
    const t = tagLine(lines[i]!);
    const m = t ? /^Source(\d*)$/i.exec(t.tag) : null;
    if (m) out.set(m[1] ? Number(m[1]) : 0, t!.value);
  }
  return out;
}

/** Adds the Source line, the %install lines and the %files line; returns the SourceNNN used. */
export function shipEngineConfig(editor: SpecEditor, plan: EngineConfigPlan, firstNumber: number): number {
  editor.notes.push(...plan.notes);
  const why = `the engine is used only once OpenSSL's configuration loads it${plan.dropIn ? ` (openssl.cnf reads ${plan.dir})` : ''}`;
  // Source line.
  let lines = editor.lines();
  const numbers = sourceNumbers(lines);
  let number = [...numbers].find(([, value]) => value.split('/').pop() === plan.file)?.[0];
  if (number !== undefined) {
    editor.unchanged.push(`Source${number}: ${plan.file} already present`);
  } else {
    number = firstNumber;
    while (numbers.has(number)) number += 1;
    const preamble = sections(lines)[0]!;
    const depth = depths(lines);
    let at = -1;
    for (let i = preamble.start; i < preamble.end; i++) {
      const t = tagLine(lines[i]!);
      if (t && /^Source\d*$/i.test(t.tag) && depth[i] === 0) at = i;
    }
    if (at < 0) at = preamble.end - 1;
    const touched = editor.insertAfter(at, [formatTagLike(`Source${number}`, plan.file, lines[at])]);
    editor.record({ kind: 'source', what: `Source${number}: ${plan.file}`, why: `the ${plan.file} engine configuration travels in the source RPM` }, touched);
  }

  // %install lines, at the end of the section.
  lines = editor.lines();
  const install = findSections(lines, 'install')[0];
  const target = `${plan.dir}/${plan.file}`;
  if (!install) {
    // Listing a file nothing installs would fail the build: ship it in the source RPM only, and say so.
    editor.notes.push(`the spec has no %install section: ${plan.file} is in the source RPM (Source${number}) but not installed; copy it to ${target} by hand`);
    return number;
  }
  const body = lines.slice(install.start, install.end);
  if (body.some((l) => l.includes(`/${plan.file}`))) {
    editor.unchanged.push(`%install already installs ${plan.file}`);
  } else {
    const root = body.join('\n').split('%{buildroot}').length > body.join('\n').split('$RPM_BUILD_ROOT').length ? '%{buildroot}' : '$RPM_BUILD_ROOT';
    let at = install.end - 1;
    while (at > install.header && lines[at]!.trim() === '') at -= 1;
    const added = [
      `# ${plan.file}: loads the ${plan.file.replace(/\.cnf$/, '')} engine (added by armkit)`,
      `install -D -m 0644 %{SOURCE${number}} ${root}${target}`,
    ];
    if (plan.enginesDir) added.push(`sed -i -e 's|${ENGINES_DIR_PLACEHOLDER}|${plan.enginesDir}|' ${root}${target}`);
    const touched = editor.insertAfter(at, added);
    editor.record({ kind: 'install', what: `%install installs ${target}${plan.enginesDir ? ` (dynamic_path into ${plan.enginesDir})` : ''}`, why }, touched);
  }

  // %files line, next to openssl.cnf when the section lists it.
  lines = editor.lines();
  const section = findSections(lines, 'files').find((s) => s.args === plan.filesArgs);
  if (section) {
    const body = lines.slice(section.start, section.end);
    if (body.some((l) => l.includes(`/${plan.file}`))) {
      editor.unchanged.push(`%files already lists ${plan.file}`);
    } else {
      const depth = depths(lines);
      let at = section.header;
      for (let i = section.start; i < section.end; i++) if (depth[i] === 0 && CNF.test(filesPath(lines[i]!) ?? '') && /%config/.test(lines[i]!)) at = i;
      if (at === section.header) while (/^\s*%defattr/.test(lines[at + 1] ?? '')) at += 1;
      const touched = editor.insertAfter(at, [`%config(noreplace) ${target}`]);
      editor.record(
        {
          kind: 'files',
          what: `%files${section.args ? ` ${section.args}` : ''} lists %config(noreplace) ${target}`,
          why: `${why}; noreplace keeps a user's edits on update`,
        },
        touched,
      );
    }
  }
  return number;
}
