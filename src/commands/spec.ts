/**
 * armkit spec openssl: patches a distribution's openssl.spec (given as --spec, or inside a source RPM as --srpm) for
 * the /dev/crypto engine, checks that rpm still parses it, and writes out/<recipe>/<version>/ with the patched
 * spec, a unified diff and the engine configuration, atomically. The report says what changed and why: on stderr
 * for people, or as one JSON document on stdout with --json.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { mismatch, usageError } from '../errors.js';
import { assertDirCreatable } from '../fsutil.js';
import { loadOpensslRecipe } from '../recipes/openssl.js';
import { unifiedDiff } from '../rpmspec/diff.js';
import { type PatchResult, patchOpensslSpec } from '../rpmspec/openssl.js';
import { normalizeReleaseSuffix } from '../rpmspec/release.js';
import { extractSpecFromSrpm } from '../rpmspec/srpm.js';
import { type SpecVerification, verifyPatchedSpec } from '../rpmspec/verify.js';
import { OUT, publishTextFiles } from '../rpmspec/write.js';
import type { Env } from './kmod-input.js';
import { info, printJson } from './output.js';

export interface SpecOptions {
  spec?: string;
  srpm?: string;
  releaseSuffix?: string;
  /** Directories of recipes that override armkit's own. */
  recipes?: string[];
  out?: string;
  json?: boolean;
  /** Skip `rpmspec -P`, which runs the spec's own %(...) shell expansions. */
  verify?: boolean;
  /** A spec that parses only with stand-ins for macros this rpm lacks is an error, not a warning. */
  strict?: boolean;
}

/** What the parse check found, for the report and --json. */
interface ParseReport {
  checked: boolean;
  supplied: string[];
  status?: SpecVerification['status'];
  standIns?: string[];
  includes?: string[];
}

/** The macros and %include files this rpm lacks, as the report names them. */
function lacking(check: SpecVerification): string {
  return [...check.standIns.map((m) => `%${m}`), ...check.includes.map((f) => `%include ${f}`)].join(', ');
}

/** The spec file names in out/: fixed, so a build step finds them whatever the package is called. */
const SPEC_FILE = 'openssl.spec';
const DIFF_FILE = `${SPEC_FILE}.diff`;

function inputFile(flag: string, path: string): string {
  const file = resolve(path);
  if (!existsSync(file) || !statSync(file).isFile()) throw usageError(`${flag} ${path}: no such file.`);
  return file;
}

async function readInput(options: SpecOptions, env: Env): Promise<{ text: string; label: string; kind: 'spec' | 'srpm'; file: string }> {
  if (Boolean(options.spec) === Boolean(options.srpm)) {
    throw usageError('Pass the spec to patch with --spec FILE, or a source RPM with --srpm FILE (one of the two).');
  }
  if (options.spec) {
    const file = inputFile('--spec', options.spec);
    return { text: readFileSync(file, 'utf8'), label: options.spec, kind: 'spec', file };
  }
  const file = inputFile('--srpm', options.srpm!);
  const spec = await extractSpecFromSrpm(file, env.runner);
  return { text: spec.text, label: `${spec.name} in ${options.srpm}`, kind: 'srpm', file };
}

function printReport(result: PatchResult, written: string[], parse: ParseReport): void {
  const evr = (release: string) => `${result.epoch ? `${result.epoch}:` : ''}${result.version}-${release}`;
  info(
    `armkit: ${result.name} ${evr(result.release.before)} → ${evr(result.release.after)}: ${result.engine} engine for OpenSSL ${result.series}` +
      ` (${result.module === 'dynamic' ? 'a module in the engines directory' : 'built into libcrypto'})`,
  );
  if (result.changes.length > 0) info('  changes:');
  for (const c of result.changes) {
    const where =
      c.lines.length > 0 ? `line ${c.lines[0]}${c.lines.length > 1 ? `-${c.lines[c.lines.length - 1]}` : ''}` : `input line ${c.removed.join(', ')}`;
    info(`    ${where.padEnd(14)} ${c.what}`);
    info(`    ${''.padEnd(14)} why: ${c.why}`);
  }
  for (const u of result.unchanged) info(`  already so: ${u}`);
  for (const n of result.notes) info(`  note: ${n}`);
  for (const inv of result.invocations) info(`  flags: ${result.flags.join(' ')} at line ${inv.flagsLine}, in ${inv.command} (line ${inv.line})`);
  const supplied = parse.supplied.length > 0 ? ` (armkit supplied %${parse.supplied.join(', %')}, which this rpm lacks)` : '';
  info(
    !parse.checked
      ? '  not checked with rpmspec -P'
      : parse.status === 'compared'
        ? `  rpmspec -P parses the original and the patched spec alike only with stand-ins for what this rpm lacks (${[...(parse.standIns ?? []).map((m) => `%${m}`), ...(parse.includes ?? []).map((f) => `%include ${f}`)].join(', ')})${supplied}; check it on the target with rpmspec -P`
        : `  rpmspec -P parses the patched spec${supplied}`,
  );
  info(`  wrote: ${written.join('\n         ')}`);
  if (result.config) info(`  ${result.config.path} is ${result.config.source}, installed by %install and listed in %files of ${result.config.package}`);
  info(`  check on the board, once the rebuilt package and the cryptodev kmod are installed: ${result.check}`);
}

export async function specCommand(recipeName: string, options: SpecOptions, env: Env): Promise<void> {
  const { recipe } = loadOpensslRecipe(recipeName, options.recipes ?? []);
  // A bad --release-suffix, or an --out armkit cannot write in, is an error before any work is done.
  if (options.releaseSuffix !== undefined) normalizeReleaseSuffix(options.releaseSuffix);
  if (options.strict && options.verify === false)
    throw usageError('--strict applies only to the rpmspec -P check, which --no-verify turns off: pass one of the two.');
  assertDirCreatable(resolve(options.out ?? 'out'), OUT);
  const input = await readInput(options, env);
  const result = patchOpensslSpec(input.text, {
    recipe,
    file: input.label,
    releaseSuffix: options.releaseSuffix,
    now: env.now,
    armkitVersion: env.armkitVersion,
  });

  let parse: ParseReport = { checked: false, supplied: [] };
  if (options.verify === false) {
    env.warn('--no-verify: the patched spec was not checked with rpmspec -P (which would run the shell commands in its %(...) expansions).');
  } else if (env.host.which('rpmspec')) {
    const check = await verifyPatchedSpec(input.text, result.text, SPEC_FILE, env.runner, result.flags);
    parse = { checked: true, supplied: check.supplied, status: check.status, standIns: check.standIns, includes: check.includes };
    if (check.status === 'compared') {
      const why =
        `${input.label} does not parse with this host's rpm, the original as well as the patched spec: this rpm lacks ${lacking(check)}` +
        ' (macros of the distribution the spec is for). With harmless stand-ins for them, the original and the patched spec both parse, and the' +
        ` patched one has ${result.flags.join(' ')}: the patch is not to blame.`;
      const target = `The final check belongs on the target: run "rpmspec -P ${SPEC_FILE}" there, where these macros are defined.`;
      if (options.strict) throw mismatch(`--strict: ${why}`, [target, 'Without --strict armkit writes the patched spec with this warning.']);
      env.warn(`${why} ${target}`);
    }
  } else {
    env.warn('rpmspec not found (apt-get install rpm, or dnf install rpm-build): the patched spec was not checked with rpmspec -P.');
  }

  const files: Record<string, string> = {
    [SPEC_FILE]: result.text,
    [DIFF_FILE]: unifiedDiff(SPEC_FILE, input.text, result.text),
  };
  if (result.config) files[result.config.file] = result.config.content;
  // Beside the build results (out/openssl/<version>/<arch>/), never over them.
  const dest = resolve(options.out ?? 'out', recipe.name, result.version, 'spec');
  const written = publishTextFiles(dest, files);

  if (options.json) {
    const { text: _text, config, ...rest } = result;
    printJson({
      ok: true,
      recipe: recipe.name,
      input: { [input.kind]: input.file },
      ...rest,
      config: config && { file: config.file, path: config.path, package: config.package, dropIn: config.dropIn, source: config.source },
      files: {
        spec: `${dest}/${SPEC_FILE}`,
        diff: `${dest}/${DIFF_FILE}`,
        ...(config ? { config: `${dest}/${config.file}` } : {}),
      },
      parse,
    });
    return;
  }
  printReport(
    result,
    written.map((f) => (f.startsWith(`${process.cwd()}/`) ? f.slice(process.cwd().length + 1) : f)),
    parse,
  );
}
