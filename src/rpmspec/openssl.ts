/**
 * Patching a distribution's openssl.spec for the /dev/crypto engine, as one pure function: spec text in, patched
 * text and a report of every change (what, why, where) out. `armkit spec openssl` writes the result; a build
 * command can feed the text straight to rpmbuild. Each step leaves alone what is already as it must be, so patching
 * a patched spec changes nothing and says so.
 */
import type { OpensslRecipe } from '../recipes/openssl.js';
import { enableEngineBcond } from './bcond.js';
import { addChangelogEntry, type ChangelogOutcome } from './changelog.js';
import { addConfigureFlags, buildSection, findInvocations, removeDisablingOptions } from './configure.js';
import { type ChangeKind, SpecEditor } from './editor.js';
import { chooseEngine, type EngineChoice } from './engine.js';
import { planEngineConfig, shipEngineConfig } from './engine-config.js';
import { resolveOpensslVersion } from './header.js';
import { expand } from './macros.js';
import { normalizeReleaseSuffix, patchRelease } from './release.js';
import { addBuildRequires, addRecommends } from './requires.js';

export interface PatchOptions {
  recipe: OpensslRecipe;
  /** Where the spec came from, for messages. */
  file: string;
  /** Overrides the recipe's suffix (validated; a missing leading "." is added). */
  releaseSuffix?: string;
  now: Date;
  armkitVersion: string;
}

export interface ReportedChange {
  kind: ChangeKind;
  what: string;
  why: string;
  /** 1-based lines of the patched spec this change wrote. */
  lines: number[];
  /** 1-based lines of the input this change removed. */
  removed: number[];
}

export interface PatchResult {
  text: string;
  changed: boolean;
  name: string;
  version: string;
  epoch?: string;
  release: { before: string; after: string };
  engine: string;
  series: string;
  flags: string[];
  module: EngineChoice['module'];
  /** The package with libcrypto, which got the Recommends. */
  library: string;
  changes: ReportedChange[];
  /** What was already as it must be. */
  unchanged: string[];
  /** What was deliberately not done, and what instead. */
  notes: string[];
  /** Every Configure invocation in %build, after patching: command and 1-based line of the flags. */
  invocations: Array<{ command: string; line: number; flagsLine: number }>;
  config?: { file: string; path: string; package: string; dropIn: boolean; source: string; content: string };
  check: string;
  changelog: ChangelogOutcome;
}

/**
 * Release as the changelog writes it: the spec's macros resolved, %{?dist} and other conditionals dropped. rpm
 * expands %changelog, so whatever else is left is text: every % doubled, except rpmautospec's %autorelease.
 */
function changelogRelease(release: string, macros: Map<string, string>): string {
  return expand(release, macros)
    .replace(/%\{\?[^{}]*\}|%\{dist\}|%dist\b/g, '')
    .replace(/%/g, '%%')
    .replace(/%%\{(autorelease[^}]*)\}|%%(autorelease)\b/, '%$1$2');
}

/** A path for changelog text, where rpm would expand macros: /etc for %{_sysconfdir}, other macros kept literally. */
function changelogPath(path: string): string {
  return path.replace(/%\{_sysconfdir\}/g, '/etc').replace(/%/g, '%%');
}

export function patchOpensslSpec(text: string, options: PatchOptions): PatchResult {
  // A spec with CRLF line ends is patched as lines, and every line armkit writes gets the same ending.
  const crlf = /\r\n/.test(text);
  const result = patchLines(crlf ? text.replace(/\r\n/g, '\n') : text, options);
  return crlf ? { ...result, text: result.text.replace(/\n/g, '\r\n') } : result;
}

function patchLines(input: string, options: PatchOptions): PatchResult {
  const { recipe, file } = options;
  const suffix = normalizeReleaseSuffix(options.releaseSuffix ?? recipe.releaseSuffix);
  const editor = new SpecEditor(input);
  const { header, version } = resolveOpensslVersion(editor.lines(), recipe, file);
  const engine = chooseEngine(recipe, version);

  addConfigureFlags(editor, engine, file);
  removeDisablingOptions(editor, engine, file);
  enableEngineBcond(editor);
  const release = patchRelease(editor, suffix);
  addBuildRequires(editor, recipe.buildRequires);
  const library = addRecommends(editor, recipe.recommends, header.name);

  // Found again: the steps above moved lines.
  const current = editor.lines();
  const invocations = findInvocations(current, buildSection(current, file));
  const plan = planEngineConfig(current, recipe, engine, { main: header.name, library, version: version.text }, invocations, options.armkitVersion);
  let config: PatchResult['config'];
  if (plan) {
    const number = shipEngineConfig(editor, plan, recipe.sourceNumber);
    config = {
      file: plan.file,
      path: `${plan.dir}/${plan.file}`,
      package: plan.package,
      dropIn: plan.dropIn,
      source: `Source${number}`,
      content: plan.content,
    };
  } else {
    editor.notes.push(`the spec has no %files section to list ${engine.engine}.cnf in: the engine configuration was written but not added to the spec`);
  }

  let changelog: ChangelogOutcome = { kind: 'none', reason: 'unchanged' };
  if (editor.changes.length > 0) {
    const kinds = new Set(editor.changes.map((c) => c.kind));
    const items = [`Build the ${engine.engine} engine for /dev/crypto offload (${engine.flags.join(' ')})`];
    if (kinds.has('bcond')) items.push('Turn the engine build condition on');
    const dropped = editor.changes.filter((c) => c.kind === 'disabling-option').map((c) => c.what.replace(/^removed (.*) from %build$/, '$1'));
    if (dropped.length > 0) items.push(`Drop ${dropped.join(' ')}, which kept the engine from being built`);
    if (config && kinds.has('files')) {
      items.push(`Ship ${changelogPath(config.path)} loading it: ciphers offloaded${engine.engine === 'devcrypto' ? ', digests off' : ''}`);
    }
    items.push(`BuildRequires ${recipe.buildRequires}; ${library} Recommends ${recipe.recommends}`);
    const evr = `${header.epoch ? `${header.epoch}:` : ''}${version.text}-${changelogRelease(release.after, header.macros)}`;
    changelog = addChangelogEntry(editor, { packager: recipe.changelog.packager, evr, items, now: options.now });
    if (changelog.kind === 'none' && changelog.reason !== 'unchanged') {
      const why = {
        missing: 'the spec has no %changelog',
        generated: "the changelog is generated by %autochangelog from the package's git history (commit the patched spec with a message saying what changed)",
        empty: "the spec's %changelog is empty (the distribution keeps its changelog elsewhere, as openSUSE does in a .changes file)",
        unreadable: 'the top %changelog entry has a header armkit cannot read, so its style cannot be copied',
      }[changelog.reason];
      editor.notes.push(`no %changelog entry added: ${why}; the Release suffix ${suffix} marks the rebuild instead`);
    }
  }
  if (editor.changes.length === 0) editor.notes.push('the spec is already patched for the engine: nothing changed');

  const final = editor.lines();
  const finalInvocations = findInvocations(final, buildSection(final, file)).map((inv) => {
    let flagsLine = inv.line;
    for (let i = inv.line; i < inv.end; i++) if (engine.flags.some((f) => final[i]!.includes(f))) flagsLine = i;
    return { command: inv.command, line: inv.line + 1, flagsLine: flagsLine + 1 };
  });

  return {
    text: editor.text(),
    changed: editor.changes.length > 0,
    name: header.name,
    version: version.text,
    epoch: header.epoch,
    release,
    engine: engine.engine,
    series: engine.series,
    flags: engine.flags,
    module: engine.module,
    library,
    changes: editor.changes
      .map((c) => ({ kind: c.kind, what: c.what, why: c.why, lines: editor.lineNumbers(c), removed: c.removed }))
      .sort((a, b) => (a.lines[0] ?? a.removed[0] ?? 0) - (b.lines[0] ?? b.removed[0] ?? 0)),
    unchanged: editor.unchanged,
    notes: editor.notes,
    invocations: finalInvocations,
    config,
    check: engine.check,
    changelog,
  };
}
