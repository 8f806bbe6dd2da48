/**
 * `armkit recipe import dkms (DIR | debian:PACKAGE)`, `armkit recipes` and `armkit recipe show NAME`.
 * Importing reads a DKMS module's source tree and its dkms.conf (sourced as DKMS sources it: src/dkms/conf.ts) and
 * writes a kind: kmod recipe whose source is pinned by sha256: the Debian package itself (its checksum the archive's
 * own, read from armkit's private apt index), or for a directory a tar.gz armkit packs reproducibly beside the
 * recipe.
 */
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { release as osRelease, tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sha256File } from '../artifacts/hash.js';
import { evaluateDkmsConf } from '../dkms/conf.js';
import { type DkmsBuild, dkmsArch, interpretDkms } from '../dkms/model.js';
import { ArmkitError, missing, usageError } from '../errors.js';
import { INDEX_MAX_AGE_MS, PrivateApt } from '../kernel/debian.js';
import { BUILTIN_RECIPES, defaultCacheDir } from '../paths.js';
import { cachedSource } from '../plan/kmod.js';
import { findRecipeFile, parseRecipe, recipeKind, recipeNames } from '../recipes/load.js';
import { opensslRecipeSchema } from '../recipes/openssl.js';
import { type KmodRecipe, kmodRecipeSchema } from '../recipes/schema.js';
import { yaml } from '../recipes/yaml.js';
import { scratch } from '../scratch.js';
import type { Env } from './kmod-input.js';
import { info, printJson } from './output.js';

export interface ImportOptions {
  name?: string;
  out?: string;
  force?: boolean;
  cacheDir?: string;
  json?: boolean;
}

/** What an import learnt from the package besides its dkms.conf (Debian's control fields). */
interface Provenance {
  from: string;
  summary?: string;
  description?: string;
  homepage?: string;
  license?: string;
}

/** Every file of a tree with its modification time: the newest is the source's date. */
function newest(dir: string): number {
  let n = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    n = Math.max(n, Math.floor(st.mtimeMs / 1000), st.isDirectory() ? newest(p) : 0);
  }
  return n;
}

/** The license the module declares to the kernel (MODULE_LICENSE), when Debian's copyright file does not say. */
function moduleLicense(dir: string): string | undefined {
  const walk = (d: string): string | undefined => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (lstatSync(p).isDirectory()) {
        const found = walk(p);
        if (found) return found;
      } else if (name.endsWith('.c') && statSync(p).size < 2_000_000) {
        const m = /MODULE_LICENSE\s*\(\s*"([^"\n]+)"\s*\)/.exec(readFileSync(p, 'utf8'));
        if (m) return m[1];
      }
    }
    return undefined;
  };
  return walk(dir);
}

/** Debian's machine-readable copyright: the License of the `Files: *` paragraph. */
export function copyrightLicense(text: string): string | undefined {
  for (const para of text.split(/\n\s*\n/)) {
    if (/^Files:\s*\*\s*$/m.test(para)) return /^License:\s*(\S[^\n]*)$/m.exec(para)?.[1]?.trim();
  }
  return undefined;
}

/** `apt-get --print-uris download`: 'URL' FILE SIZE SHA256:HEX. */
export function parsePrintUris(text: string): { url: string; file: string; sha256: string } | undefined {
  const m = /^'([^']+)'\s+(\S+)\s+\d+\s+SHA256:([0-9a-f]{64})\s*$/m.exec(text);
  return m ? { url: m[1]!, file: m[2]!, sha256: m[3]! } : undefined;
}

/** An `apt-cache show` stanza's fields (continuation lines joined with newlines). */
export function stanzaFields(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let last: string | undefined;
  for (const line of text.split('\n')) {
    if (line === '') break;
    const m = /^([A-Za-z0-9-]+):\s?(.*)$/.exec(line);
    if (m && !line.startsWith(' ')) {
      last = m[1]!;
      out[last] = m[2]!;
    } else if (last && line.startsWith(' ')) out[last] += `\n${line.slice(1) === '.' ? '' : line.slice(1)}`;
  }
  return out;
}

const date = (seconds: number) => new Date(Math.max(seconds, 86400) * 1000).toISOString().slice(0, 10);

/** The dkms.conf read once at import, for no particular kernel: what the recipe is called and what it holds. */
async function readForImport(env: Env, conf: string, tree: string, what: string): Promise<{ dkms: DkmsBuild; notes: string[] }> {
  const dirName = basename(tree);
  const dash = dirName.lastIndexOf('-');
  const noKernel = mkdtempSync(join(tmpdir(), 'armkit-no-kernel-'));
  const forget = scratch(noKernel);
  try {
    const ctx = {
      kernelver: osRelease(),
      arch: dkmsArch(env.host.arch?.rpm ?? env.host.machine),
      // No kernel tree: what dkms.conf computes from one is read again for each kernel a build is for.
      kernel_source_dir: join(noKernel, 'build'),
      module: dash > 0 ? dirName.slice(0, dash) : dirName,
      module_version: dash > 0 ? dirName.slice(dash + 1) : '',
    };
    const vars = await evaluateDkmsConf(env.runner, conf, ctx, what);
    const notes: string[] = [];
    try {
      return { dkms: interpretDkms(vars, ctx, what), notes };
    } catch (error) {
      // An exclusion of this host's own kernel says nothing about the kernels the recipe will be built for.
      if (!(error instanceof ArmkitError) || error.kind !== 'usage') throw error;
      notes.push(`${error.message} (armkit checks this again for each kernel it builds for)`);
      const open = new Map(vars);
      for (const f of ['BUILD_EXCLUSIVE_KERNEL', 'BUILD_EXCLUSIVE_KERNEL_MIN', 'BUILD_EXCLUSIVE_KERNEL_MAX', 'BUILD_EXCLUSIVE_ARCH']) open.delete(f);
      return { dkms: interpretDkms(open, ctx, what), notes };
    }
  } finally {
    rmSync(noKernel, { recursive: true, force: true });
    forget();
  }
}

function recipeName(wanted: string | undefined, packageName: string): string {
  const name =
    wanted ??
    packageName
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '');
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw usageError(`--name ${name}: a recipe name is lower-case letters, digits and "-".`);
  return name;
}

interface ImportResult {
  file: string;
  recipe: KmodRecipe;
  warnings: string[];
}

function writeRecipe(
  dkms: DkmsBuild,
  conf: string,
  tree: string,
  source: { url: string; file: string; sha256: string; topdir: string; deb?: string; date: string },
  prov: Provenance,
  options: ImportOptions,
  notes: string[],
): ImportResult {
  const name = recipeName(options.name, dkms.packageName);
  const outDir = resolve(options.out ?? 'recipes');
  const file = join(outDir, `${name}.yaml`);
  if (existsSync(file) && !options.force) throw usageError(`${file} exists: pass --force to replace it, or --name for another recipe name.`);
  const licenseFiles = readdirSync(tree)
    .filter((f) => /^(COPYING|LICENSE|LICENCE)([._-].*)?$/i.test(f) && /^[A-Za-z0-9._+-]+$/.test(f))
    .sort();
  const modules = dkms.modules.map((m) => m.name);
  const raw = {
    name,
    kind: 'kmod',
    package: dkms.packageName,
    summary: (prov.summary ?? `${dkms.packageName} kernel module${modules.length > 1 ? 's' : ''}`).replace(/[\r\n]+/g, ' '),
    description: `${prov.description ?? `${modules.join(', ')}: out-of-tree kernel module${modules.length > 1 ? 's' : ''} packaged for DKMS.`}\n\nImported by armkit from ${prov.from}.\n`,
    homepage: prov.homepage ?? pathToFileURL(tree).href,
    license: prov.license ?? moduleLicense(tree) ?? 'Unknown',
    licenseFiles,
    release: 1,
    sources: [
      {
        version: dkms.packageVersion,
        url: source.url,
        file: source.file,
        sha256: source.sha256,
        topdir: source.topdir,
        kernels: '>=0.0.0',
        date: source.date,
        ...(source.deb ? { deb: source.deb } : {}),
      },
    ],
    // The kmod package is named after the DKMS package; the dkms.conf says which modules it holds, per kernel.
    module: { name: dkms.packageName.replace(/[^A-Za-z0-9_-]/g, '_'), autoload: false },
    dkms: { conf, from: prov.from },
  };
  const header = [
    `# ${name}: imported by armkit from ${prov.from} (armkit recipe import dkms).`,
    `# The source is pinned by sha256; the dkms.conf below is sourced by bash for each kernel the recipe is built`,
    `# for, as DKMS sources it (docs/dkms.md): read it before you build.`,
    `# Modules (for no particular kernel): ${dkms.modules.map((m) => `${m.name} -> /lib/modules/<release>/${m.dest}`).join(', ')}.`,
    '',
  ].join('\n');
  const text = `${header}${yaml().stringify(raw, { lineWidth: 0 })}`;
  // What is written must load: the same schema every build reads it with.
  const recipe = parseRecipe(kmodRecipeSchema, text, file);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(file, text);
  const warnings = [...notes, ...dkms.notes];
  if (dkms.unsupported.length > 0) warnings.push(`dkms.conf sets fields armkit does not act on: ${dkms.unsupported.join('; ')}.`);
  if (!dkms.autoinstall)
    warnings.push('dkms.conf does not set AUTOINSTALL="yes": DKMS would not build it for new kernels by itself (armkit builds it for the kernels you name).');
  return { file, recipe, warnings };
}

async function importFromDebian(pkg: string, options: ImportOptions, env: Env): Promise<ImportResult> {
  if (!/^[a-z0-9][a-z0-9+.-]+$/.test(pkg)) throw usageError(`debian:${pkg}: not a Debian package name.`);
  if (!env.host.arch) throw usageError(`armkit does not know this host's architecture (${env.host.machine}) for Debian packages.`);
  for (const tool of ['apt-get', 'apt-cache', 'dpkg-deb']) {
    if (!env.host.which(tool))
      throw missing(
        `Importing debian:${pkg} needs ${tool} (a Debian or Ubuntu host); elsewhere, unpack the package and import its /usr/src/NAME-VERSION directory.`,
      );
  }
  const cacheDir = options.cacheDir ? resolve(options.cacheDir) : defaultCacheDir();
  const apt = new PrivateApt(cacheDir, env.host.arch, env.host);
  await apt.refresh(env.runner, INDEX_MAX_AGE_MS, env.warn);
  const shown = await env.runner.capture(['apt-cache', ...apt.options(), 'show', '--no-all-versions', pkg]);
  if (shown.exitCode !== 0 || !shown.stdout.trim()) {
    throw usageError(
      `Debian's archive (${env.host.codename ?? 'this release'}) has no package ${pkg}${pkg.endsWith('-dkms') ? '' : ' (DKMS packages are named NAME-dkms)'}.`,
    );
  }
  const fields = stanzaFields(shown.stdout);
  const uris = await env.runner.capture(['apt-get', ...apt.options(), '--print-uris', 'download', pkg]);
  const where = parsePrintUris(uris.stdout);
  if (!where)
    throw new ArmkitError('step-failed', `apt-get could not say where ${pkg} is in Debian's archive.`, { details: uris.stderr.split('\n').slice(-5) });
  const work = mkdtempSync(join(tmpdir(), 'armkit-import-'));
  const forget = scratch(work);
  try {
    // apt-get download checks the file against the index's checksum, which the archive's signed Release vouches for.
    await env.runner.run(['apt-get', ...apt.options(), 'download', pkg], { cwd: work, logFile: join(work, 'logs', 'apt-download.log') });
    const deb = join(work, where.file);
    if (!existsSync(deb)) throw missing(`apt-get download ${pkg} left no ${where.file}.`);
    if ((await sha256File(deb)) !== where.sha256) throw new ArmkitError('verification', `${where.file} does not have the sha256 Debian's index lists for it.`);
    const root = join(work, 'root');
    await env.runner.run(['dpkg-deb', '-x', deb, root], { logFile: join(work, 'logs', 'dpkg-deb.log') });
    const src = join(root, 'usr', 'src');
    const trees = existsSync(src) ? readdirSync(src).filter((d) => existsSync(join(src, d, 'dkms.conf'))) : [];
    if (trees.length !== 1) {
      throw usageError(
        trees.length === 0
          ? `${pkg} ${fields.Version} has no /usr/src/NAME-VERSION/dkms.conf: it is not a DKMS source package.`
          : `${pkg} has several DKMS trees (${trees.join(', ')}); armkit imports one package with one dkms.conf.`,
      );
    }
    const tree = join(src, trees[0]!);
    if (!/^[A-Za-z0-9._+~^-]+$/.test(trees[0]!)) throw usageError(`${pkg}'s source directory ${JSON.stringify(trees[0])} has characters rpm would interpret.`);
    const conf = readFileSync(join(tree, 'dkms.conf'), 'utf8');
    const { dkms, notes } = await readForImport(env, conf, tree, `${pkg}'s dkms.conf`);
    // The .deb goes where a build looks for the pinned source, so the first build downloads nothing.
    const source = { url: where.url, file: where.file, sha256: where.sha256, topdir: trees[0]!, deb: relative(root, tree), date: date(newest(tree)) };
    const cached = cachedSource(cacheDir, { ...source, version: dkms.packageVersion, kernels: '>=0.0.0' });
    mkdirSync(join(cached, '..'), { recursive: true });
    if (!existsSync(cached)) copyFileSync(deb, cached);
    const copyright = join(root, 'usr', 'share', 'doc', pkg, 'copyright');
    const [summary, ...rest] = (fields.Description ?? '').split('\n');
    const prov: Provenance = {
      from: `debian:${pkg}=${fields.Version}`,
      ...(summary ? { summary } : {}),
      ...(rest.join('\n').trim() ? { description: rest.join('\n').trim() } : {}),
      ...(fields.Homepage && /^https?:\/\/[^\s'"`$\\]+$/.test(fields.Homepage) ? { homepage: fields.Homepage } : {}),
      ...(existsSync(copyright) && copyrightLicense(readFileSync(copyright, 'utf8')) ? { license: copyrightLicense(readFileSync(copyright, 'utf8'))! } : {}),
    };
    return writeRecipe(dkms, conf, tree, source, prov, options, notes);
  } finally {
    rmSync(work, { recursive: true, force: true });
    forget();
  }
}

async function importFromDir(dir: string, options: ImportOptions, env: Env): Promise<ImportResult> {
  const tree = resolve(dir);
  if (!existsSync(join(tree, 'dkms.conf'))) throw usageError(`${dir} has no dkms.conf: import a DKMS module's source tree (/usr/src/NAME-VERSION).`);
  const conf = readFileSync(join(tree, 'dkms.conf'), 'utf8');
  const { dkms, notes } = await readForImport(env, conf, tree, `${join(dir, 'dkms.conf')}`);
  const topdir = `${dkms.packageName}-${dkms.packageVersion}`;
  const outDir = resolve(options.out ?? 'recipes');
  const archive = join(outDir, 'sources', `${topdir}.tar.gz`);
  const mtime = Math.max(86400, newest(tree));
  // The same tree gives the same archive: sorted entries under NAME-VERSION/, one time (the day of the newest
  // file, as a build's SOURCE_DATE_EPOCH), no owners.
  const day = Math.floor(mtime / 86400) * 86400;
  mkdirSync(join(outDir, 'sources'), { recursive: true });
  const tar = await import('tar');
  const entries = (d: string, rel = ''): string[] =>
    readdirSync(join(d, rel))
      .sort()
      .filter((n) => n !== '.git')
      .flatMap((n) => {
        const p = rel ? `${rel}/${n}` : n;
        return lstatSync(join(d, p)).isDirectory() ? [p, ...entries(d, p)] : [p];
      });
  await tar.c({ gzip: true, file: archive, cwd: tree, portable: true, prefix: topdir, noDirRecurse: true, mtime: new Date(day * 1000) }, entries(tree));
  const sha256 = await sha256File(archive);
  const source = { url: pathToFileURL(archive).href, file: `${topdir}.tar.gz`, sha256, topdir, date: date(day) };
  return writeRecipe(dkms, conf, tree, source, { from: tree }, options, notes);
}

export async function recipeImportCommand(kind: string, from: string, options: ImportOptions, env: Env): Promise<void> {
  if (kind !== 'dkms') throw usageError(`armkit recipe import ${kind}: the one kind armkit imports is dkms.`);
  const result = from.startsWith('debian:') ? await importFromDebian(from.slice('debian:'.length), options, env) : await importFromDir(from, options, env);
  for (const w of result.warnings) env.warn(w);
  const outDir = resolve(options.out ?? 'recipes');
  const near = relative(process.cwd(), outDir);
  const rel = near === '' ? '.' : near.startsWith('..') ? outDir : near;
  if (options.json) {
    printJson({ ok: true, file: result.file, recipe: result.recipe, warnings: result.warnings });
    return;
  }
  info(`armkit: wrote ${result.file} (${result.recipe.sources[0]!.version}, sha256 ${result.recipe.sources[0]!.sha256.slice(0, 12)}…)`);
  info(`armkit: build it with: armkit build ${result.recipe.name} --recipes ${rel} --arch ARCH --kernel debian:latest`);
}

interface RecipeRow {
  name: string;
  kind: string;
  versions: string[];
  sources: string[];
  file: string;
  origin: 'built-in' | 'user';
  error?: string;
}

function describe(name: string, dirs: string[]): RecipeRow {
  const file = findRecipeFile(name, dirs);
  const origin = file.startsWith(`${BUILTIN_RECIPES}/`) ? 'built-in' : 'user';
  try {
    const kind = recipeKind(name, dirs);
    if (kind === 'kmod') {
      const r = parseRecipe(kmodRecipeSchema, readFileSync(file, 'utf8'), file);
      return {
        name,
        kind: r.dkms ? 'kmod (dkms)' : 'kmod',
        versions: r.sources.map((s) => s.version),
        sources: r.sources.map((s) => s.url),
        file,
        origin,
      };
    }
    // A spec recipe rebuilds a distribution's source RPM: its versions are the OpenSSL series it knows.
    const r = parseRecipe(opensslRecipeSchema, readFileSync(file, 'utf8'), file);
    return { name, kind, versions: r.series.map((s) => s.versions), sources: ["the distribution's source RPM (--srpm)"], file, origin };
  } catch (error) {
    if (!(error instanceof ArmkitError)) throw error;
    return { name, kind: '?', versions: [], sources: [], file, origin, error: error.message };
  }
}

export async function recipesCommand(options: { recipes?: string[]; json?: boolean }): Promise<void> {
  const dirs = options.recipes ?? [];
  const rows = recipeNames(dirs).map((n) => describe(n, dirs));
  if (options.json) {
    printJson({ ok: true, recipes: rows });
    return;
  }
  const table = [
    ['NAME', 'KIND', 'VERSIONS', 'FROM', 'SOURCES'],
    ...rows.map((r) => [r.name, r.kind, r.versions.join(', ') || '-', r.origin, r.error ? `invalid: ${r.error}` : r.sources.join(' ') || '-']),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  for (const row of table) process.stdout.write(`${row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}\n`);
}

export async function recipeShowCommand(name: string, options: { recipes?: string[]; json?: boolean }): Promise<void> {
  const dirs = options.recipes ?? [];
  const file = findRecipeFile(name, dirs);
  const origin = file.startsWith(`${BUILTIN_RECIPES}/`) ? 'built-in' : 'user';
  const shadowed = dirs.length > 0 && origin === 'user' && existsSync(join(BUILTIN_RECIPES, `${name}.yaml`));
  const kind = recipeKind(name, dirs);
  const parsed = parseRecipe(kind === 'kmod' ? kmodRecipeSchema : opensslRecipeSchema, readFileSync(file, 'utf8'), file) as Record<string, unknown>;
  // A DKMS recipe's module.built, module.installDir and make are stand-ins its dkms.conf overrides: not shown.
  const resolved: unknown =
    'dkms' in parsed && parsed.dkms
      ? (() => {
          const { make: _make, module, ...rest } = parsed as KmodRecipe;
          return { ...rest, module: { name: module.name, autoload: module.autoload } };
        })()
      : parsed;
  if (options.json) {
    printJson({ ok: true, name, file, origin, ...(shadowed ? { overrides: join(BUILTIN_RECIPES, `${name}.yaml`) } : {}), recipe: resolved });
    return;
  }
  process.stdout.write(`# ${name}: ${origin} recipe, from ${file}${shadowed ? ` (overrides armkit's own ${join(BUILTIN_RECIPES, `${name}.yaml`)})` : ''}\n`);
  process.stdout.write('# resolved: every field as armkit reads it, defaults filled in\n');
  process.stdout.write(yaml().stringify(resolved, { lineWidth: 0 }));
}
