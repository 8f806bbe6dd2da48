/**
 * manifest.json, the record every published build carries: what was built (each file with its NVRA, size and
 * sha256), from what (the source and its checksum, the kernel, the toolchain, the engine) and the build's cache key.
 * This module is the one schema: publish writes through it, and every reader (armkit test, the build cache,
 * latest-build lookup) reads through it, with a version the readers check.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArmkitError } from './errors.js';
import * as z from './zod.js';

/** Bumped when a reader could misread an older manifest. 1: armkit 0.1 before this module (no kind, no inputs). */
export const MANIFEST_SCHEMA = 2;

const artifact = z.object({
  file: z.string(),
  name: z.string(),
  version: z.string(),
  release: z.string(),
  arch: z.string(),
  size: z.int().check(z.nonnegative()),
  sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
});

export const manifestFactsSchema = z.object({
  recipe: z.string(),
  kind: z.enum(['kmod', 'spec']),
  package: z.string(),
  version: z.string(),
  epoch: z.optional(z.string()),
  release: z.optional(z.string()),
  arch: z.string(),
  mode: z.enum(['native', 'cross']),
  engine: z.enum(['local', 'mock', 'copr']),
  crossCompile: z.optional(z.string()),
  chroot: z.optional(z.string()),
  kernel: z.optional(
    z.object({ release: z.string(), version: z.string(), spec: z.string(), dir: z.string(), debianPackages: z.optional(z.array(z.string())) }),
  ),
  source: z.object({
    kind: z.enum(['recipe', 'tarball', 'directory', 'srpm']),
    url: z.optional(z.string()),
    path: z.optional(z.string()),
    file: z.optional(z.string()),
    sha256: z.optional(z.string()),
    verified: z.boolean(),
  }),
  /** A signed module: who signed it (the certificate's issuer), the certificate's serial and fingerprint. */
  moduleSignature: z.optional(z.object({ signer: z.string(), serial: z.string(), certSha256: z.string() })),
  opensslEngine: z.optional(z.object({ id: z.string(), flags: z.array(z.string()), check: z.string(), config: z.nullable(z.string()) })),
  /** Everything the build's result depends on, and its hash: the build cache's key, and how to rebuild and compare. */
  inputs: z.optional(z.catchall(z.object({ key: z.string(), sourceDateEpoch: z.optional(z.int().check(z.positive())) }), z.unknown())),
  armkit: z.string(),
});

export const manifestSchema = z.extend(manifestFactsSchema, {
  schema: z.literal(MANIFEST_SCHEMA),
  createdAt: z.string(),
  artifacts: z.array(artifact),
});

export type ManifestFacts = z.infer<typeof manifestFactsSchema>;
export type Manifest = z.infer<typeof manifestSchema>;
export type ArtifactRecord = z.infer<typeof artifact>;

function invalid(file: string, why: string): ArmkitError {
  return new ArmkitError('verification', `${file} is not a manifest armkit can read: ${why}.`, {
    details: ['Build the packages again with "armkit build" (which writes a new manifest), or pass --from with another build.'],
  });
}

/** Checks a value as a manifest, naming the file and the first field that is wrong. */
export function parseManifest(value: unknown, file: string): Manifest {
  const schema = (value as { schema?: unknown } | null)?.schema;
  if (typeof schema === 'number' && schema !== MANIFEST_SCHEMA) {
    throw invalid(
      file,
      `it is schema ${schema}, written by ${schema < MANIFEST_SCHEMA ? 'an older' : 'a newer'} armkit; this one reads schema ${MANIFEST_SCHEMA}`,
    );
  }
  const result = manifestSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw invalid(file, `${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  return result.data;
}

export function readManifest(dir: string): Manifest {
  const file = join(dir, 'manifest.json');
  if (!existsSync(file)) throw new ArmkitError('usage', `${dir} holds no manifest.json from "armkit build".`);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw invalid(file, `it is not JSON (${(error as Error).message})`);
  }
  return parseManifest(value, file);
}

export function writeManifest(dir: string, manifest: Manifest): void {
  const checked = parseManifest(manifest, join(dir, 'manifest.json'));
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(checked, null, 2)}\n`);
}
