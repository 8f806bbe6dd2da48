/**
 * What a kernel-module recipe may say. Recipes are data: behaviour lives in src/, and a recipe only names sources,
 * version ranges and the upstream build interface.
 */
import semver from 'semver';
import * as z from '../zod.js';

const sha256 = z.string().check(z.regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'));
// RPM forbids "-" in Version; "^" and "~" are RPM's snapshot and pre-release markers.
const rpmVersion = z.string().check(z.regex(/^[A-Za-z0-9._+~^]+$/, 'must be a valid RPM version (letters, digits, . _ + ~ ^)'));
const range = z.string().check(
  z.refine((r) => semver.validRange(r) !== null, 'must be a semver range such as ">=6.11.0"'),
  // ">=7 <6" is a valid range that no version satisfies: a recipe error, not "no source supports this kernel".
  z.refine(
    (r) => semver.validRange(r) === null || semver.minVersion(r) !== null,
    'no kernel version satisfies this range (is it written the wrong way round?)',
  ),
);
const makeVariable = z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a make variable name'));
// Paths and names reach the spec's shell lines and make's command line: plain characters only.
const relativePath = z.string().check(
  z.regex(/^[A-Za-z0-9._+/-]+$/, 'must be a path of letters, digits and ._+/- (no spaces, quotes, $ or %)'),
  z.refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'must be a relative path inside the source tree'),
);
const oneLine = z.string().check(z.minLength(1), z.regex(/^[^\n\r]+$/, 'must be one line'));

export const sourceSchema = z.strictObject({
  version: rpmVersion,
  url: z.url(),
  /** File name in the cache and in the source RPM. */
  file: z.string().check(z.regex(/^[A-Za-z0-9._+^~-]+$/, 'must be a plain file name')),
  sha256,
  /** Top directory the archive unpacks to. */
  topdir: z.string().check(z.regex(/^[A-Za-z0-9._+^-]+$/, 'must be a plain directory name')),
  /** Kernel versions this source builds against. */
  kernels: range,
  /** When the source was released (YYYY-MM-DD): SOURCE_DATE_EPOCH of its builds, so they are reproducible. */
  date: z.iso.date(),
  /**
   * The archive is a Debian package holding the source tree at this path (a DKMS package's usr/src/NAME-VERSION):
   * armkit verifies the .deb, extracts the tree and packs it as <topdir>.tar.gz (sorted, one time, no owners), so
   * the same .deb gives the same source archive.
   */
  deb: z.optional(relativePath),
});

/**
 * A DKMS recipe's dkms.conf says how each module is built and where it goes (per kernel), so its module.built,
 * module.installDir and make are not written: they are filled with what kbuild's own interface would be, which only
 * code that ignores dkms: reads (the kmod planner reads the dkms.conf instead).
 */
function dkmsDefaults(raw: unknown): unknown {
  if (!raw || typeof raw !== 'object' || !('dkms' in raw)) return raw;
  const r = raw as Record<string, unknown>;
  const module = r.module && typeof r.module === 'object' ? (r.module as Record<string, unknown>) : undefined;
  const name = typeof module?.name === 'string' ? module.name : 'module';
  return {
    ...r,
    ...(module ? { module: { built: `${name}.ko`, installDir: name, ...module } } : {}),
    make: r.make ?? { target: 'modules', vars: { kernelDir: 'KERNEL_DIR', arch: 'ARCH', crossCompile: 'CROSS_COMPILE' } },
  };
}

const kmodRecipeObject = z
  .strictObject({
    name: z.string().check(z.regex(/^[a-z0-9][a-z0-9-]*$/)),
    kind: z.literal('kmod'),
    package: z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/)),
    summary: oneLine,
    description: z.string().check(z.minLength(1)),
    homepage: z.url().check(z.regex(/^[^\s'"`$\\]+$/, 'must be a URL without spaces, quotes, $ or backslashes')),
    license: oneLine,
    licenseFiles: z._default(z.array(relativePath), []),
    release: z.int().check(z.positive()),
    sources: z.array(sourceSchema).check(z.minLength(1)),
    module: z.strictObject({
      /** The module, and the name of its kmod package (kmod-NAME-<release>); a DKMS recipe's package name. */
      name: z.string().check(z.regex(/^[A-Za-z0-9_-]+$/)),
      /** Where make leaves the module (one-module recipes; a DKMS recipe's dkms.conf says where each goes). */
      built: relativePath,
      installDir: z.string().check(z.regex(/^[A-Za-z0-9_.-]+$/)),
      autoload: z.boolean(),
    }),
    make: z.strictObject({
      target: z.string().check(z.regex(/^[A-Za-z0-9_.-]+$/, 'must be one make target name')),
      vars: z.strictObject({ kernelDir: makeVariable, arch: makeVariable, crossCompile: makeVariable }),
    }),
    headers: z._default(z.array(z.strictObject({ from: relativePath, to: relativePath })), []),
    /**
     * A module packaged for DKMS: its dkms.conf, evaluated per kernel as DKMS evaluates it (docs/dkms.md), says
     * the make command, the modules and where they go, the patches, what it excludes. Written by
     * `armkit recipe import dkms`.
     */
    dkms: z.optional(
      z.strictObject({
        conf: z.string().check(z.minLength(1)),
        /** Where the import took it from (debian:PACKAGE=VERSION, or a directory). */
        from: oneLine,
      }),
    ),
  })
  .check(
    z.superRefine((recipe, ctx) => {
      // One version, one pin: --version and the packages' names could not tell two sources of one version apart.
      const first = new Map<string, number>();
      recipe.sources.forEach((s, i) => {
        const earlier = first.get(s.version);
        if (earlier === undefined) first.set(s.version, i);
        else {
          ctx.addIssue({
            code: 'custom',
            path: ['sources', i, 'version'],
            message: `version "${s.version}" is pinned twice (sources.${earlier} and sources.${i}); give each version one source`,
          });
        }
      });
    }),
  );

export const kmodRecipeSchema = z.pipe(z.transform(dkmsDefaults), kmodRecipeObject);

export type KmodRecipe = z.infer<typeof kmodRecipeSchema>;
export type RecipeSource = z.infer<typeof sourceSchema>;
