/**
 * What recipes/openssl.yaml may say: which OpenSSL series get which engine and Configure flags, which are refused and
 * why, and the packaging names the patched spec refers to. Behaviour lives in src/spec/; the recipe is data.
 */
import { readFileSync } from 'node:fs';
import semver from 'semver';
import { usageError } from '../errors.js';
import * as z from '../zod.js';
import { findRecipeFile, type LoadedRecipe, parseRecipe, yamlOf } from './load.js';

const range = z.string().check(
  z.refine((r) => semver.validRange(r) !== null, 'must be a semver range such as ">=1.1.1 <4.0.0"'),
  z.refine(
    (r) => semver.validRange(r) === null || semver.minVersion(r) !== null,
    'no OpenSSL version satisfies this range (is it written the wrong way round?)',
  ),
);
const packageName = z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/, 'must be an RPM package name'));
const regex = z.string().check(
  z.refine((r) => {
    try {
      new RegExp(r);
      return true;
    } catch {
      return false;
    }
  }, 'must be a regular expression'),
);
const configureOption = z.string().check(z.regex(/^[A-Za-z0-9_=.,+/-]+$/, 'must be one Configure argument without spaces or quotes'));

// A directory as the spec writes it: plain characters and %{macro} references, never %(...) or shell syntax.
const specDir = z.string().check(z.regex(/^(?:[A-Za-z0-9._/+-]|%\{[A-Za-z_][A-Za-z0-9_]*\})+$/, 'must be a path of plain characters and %{macro} references'));

const nonEmpty = z.string().check(z.minLength(1));
const option = z.strictObject({ option: configureOption, why: nonEmpty });

const engineSeries = z.strictObject({
  versions: range,
  /** Engine id, as `openssl engine` names it. */
  engine: z.enum(['cryptodev', 'devcrypto']),
  flags: z.array(configureOption).check(z.minLength(1)),
  /** Why these flags, for the report. */
  why: nonEmpty,
  /** builtin: compiled into libcrypto (no dynamic_path); dynamic: a module in the engines directory. */
  module: z.enum(['builtin', 'dynamic']),
  /** The engine's module file in the engines directory (dynamic only). */
  moduleFile: z.optional(z.string().check(z.regex(/^[A-Za-z0-9._-]+$/))),
  /** Template under templates/ for the engine configuration. */
  template: z.string().check(z.regex(/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*\.ejs$/, 'must be a template path under templates/ (no ..)')),
  /** Configure options that keep the engine from being built; removed from %build. */
  disabling: z._default(z.array(option), []),
});

const refusedSeries = z.strictObject({
  versions: range,
  /** Why armkit cannot do it. */
  refuse: nonEmpty,
  /** What would work instead. */
  instead: nonEmpty,
});

export const opensslRecipeSchema = z
  .strictObject({
    name: z.string().check(z.regex(/^[a-z0-9][a-z0-9-]*$/)),
    kind: z.literal('spec'),
    summary: nonEmpty,
    /** A spec is an OpenSSL spec when its Name (macros resolved) matches. */
    packageNames: regex,
    /** Appended to Release so the rebuild sorts after the distribution's build and before its next update. */
    releaseSuffix: z.string().check(z.regex(/^\.[A-Za-z0-9][A-Za-z0-9._+^]*$/, 'must start with "." and hold RPM release characters')),
    /** The header package armkit's `build cryptodev` makes (crypto/cryptodev.h). */
    buildRequires: packageName,
    /** What the library package weakly depends on: the kmod that provides /dev/crypto. */
    recommends: packageName,
    /** First SourceNNN number tried for the engine configuration. */
    sourceNumber: z.int().check(z.minimum(1), z.maximum(99999)),
    changelog: z.strictObject({ packager: z.string().check(z.regex(/^[^<>\n]+ <[^<>\s]+>$/, 'must be "Name <email>"')) }),
    config: z.strictObject({
      /** Drop-in directories beside openssl.cnf that the distribution's openssl.cnf includes (Fedora: openssl.d). */
      dropInDirs: z._default(z.array(z.string().check(z.regex(/^[A-Za-z0-9._-]+$/))), []),
      /** The section openssl_conf names in the distribution's openssl.cnf, which a drop-in reopens to add engines. */
      initSection: z.string().check(z.regex(/^[A-Za-z0-9_]+$/)),
      /** Where openssl.cnf lives when the spec does not say. */
      defaultDir: specDir,
      /** The engines directory when the spec's %files does not name one. */
      defaultEnginesDir: specDir,
    }),
    series: z.array(z.union([engineSeries, refusedSeries])).check(z.minLength(1)),
  })
  .check(
    z.superRefine((recipe, ctx) => {
      recipe.series.forEach((s, i) => {
        if ('engine' in s && s.module === 'dynamic' && !s.moduleFile) {
          ctx.addIssue({ code: 'custom', path: ['series', i, 'moduleFile'], message: 'a dynamic engine needs moduleFile' });
        }
      });
    }),
  );

export type OpensslRecipe = z.infer<typeof opensslRecipeSchema>;
export type EngineSeries = z.infer<typeof engineSeries>;
export type RefusedSeries = z.infer<typeof refusedSeries>;

export function loadOpensslRecipe(name = 'openssl', userDirs: string[] = []): LoadedRecipe<OpensslRecipe> {
  const file = findRecipeFile(name, userDirs);
  const text = readFileSync(file, 'utf8');
  // A kmod recipe named by mistake deserves a pointer to the right command, not a schema error.
  let kind: unknown;
  try {
    kind = (yamlOf(text, file) as { kind?: unknown } | null)?.kind;
  } catch {
    kind = undefined;
  }
  if (kind === 'kmod')
    throw usageError(`${name} is a kernel-module recipe (${file}): build it with "armkit build ${name}"; armkit spec patches specs (recipe openssl).`);
  return { recipe: parseRecipe(opensslRecipeSchema, text, file), file };
}
