/**
 * manifest.json, the record every published build carries: what was built (each file with its NVRA, size and
 * sha256), from what (the source and its checksum, the kernel, the toolchain, the engine) and the build's cache key.
 * This module is the one schema: publish writes through it, and every reader (armkit test, the build cache,
 * latest-build lookup) reads through it, with a version the readers check.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ArmkitError } from './errors.js';

/** Bumped when a reader could misread an older manifest. 1: armkit 0.1 before this module (no kind, no inputs). */
export const MANIFEST_SCHEMA = 2;

const artifact = z.object({
  file: z.string(),
  name: z.string(),
  version: z.string(),
  release: z.string(),
  arch: z.string(),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

export const manifestFactsSchema = z.object({
  recipe: z.string(),
  kind: z.enum(['kmod', 'spec']),
  package: z.string(),
  version: z.string(),
  epoch: z.string().optional(),
  release: z.string().optional(),
  arch: z.string(),
  mode: z.enum(['native', 'cross']),
  engine: z.enum(['local', 'mock', 'copr']),
  crossCompile: z.string().optional(),
  chroot: z.string().optional(),
  kernel: z.object({ release: z.string(), version: z.string(), spec: z.string(), dir: z.string(), debianPackages: z.array(z.string()).optional() }).optional(),
  source: z.object({
    kind: z.enum(['recipe', 'tarball', 'directory', 'srpm']),
    url: z.string().optional(),
    path: z.string().optional(),
    file: z.string().optional(),
    sha256: z.string().optional(),
    verified: z.boolean(),
  }),
  /** A signed module: who signed it (the certificate's issuer), the certificate's serial and fingerprint. */
  moduleSignature: z.object({ signer: z.string(), serial: z.string(), certSha256: z.string() }).optional(),
  opensslEngine: z.object({ id: z.string(), flags: z.array(z.string()), check: z.string(), config: z.string().nullable() }).optional(),
  /** Everything the build's result depends on, and its hash: the build cache's key, and how to rebuild and compare. */
  inputs: z.object({ key: z.string(), sourceDateEpoch: z.number().int().positive().optional() }).catchall(z.unknown()).optional(),
  armkit: z.string(),
});

export const manifestSchema = manifestFactsSchema.extend({
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
