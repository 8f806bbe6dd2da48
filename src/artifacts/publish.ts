/**
 * Atomic publishing: results are copied into a staging directory beside the destination, manifest.json is written
 * last, and one rename puts them in place. Until then out/ holds what it held before.
 */
import { cpSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ArmkitError } from '../errors.js';
import { expandGlob } from '../glob.js';
import { type ArtifactRecord, MANIFEST_SCHEMA, type Manifest, writeManifest } from '../manifest.js';
import { scratch } from '../scratch.js';
import { KERNEL_RELEASE, type PublishStep } from '../step.js';
import { sha256File } from './hash.js';
import { readRpmHeader } from './rpm-file.js';

/** NAME, VERSION, RELEASE and ARCH of every package, read from its header (a source package's arch is "src"). */
function describeRpms(paths: string[]): Array<Omit<ArtifactRecord, 'file' | 'size' | 'sha256'>> {
  return paths.map((path) => {
    const { name, version, release, arch, source } = readRpmHeader(path);
    return { name, version, release, arch: source ? 'src' : arch };
  });
}

/** The kernel release a chroot's build chose, read from the kmod package's name (PublishStep.releaseFrom). */
function releaseOf(step: PublishStep, names: string[]): string | undefined {
  if (!step.dest.includes(KERNEL_RELEASE)) return undefined;
  const name = names.find((n) => step.releaseFrom && n.startsWith(step.releaseFrom));
  if (!name) throw new ArmkitError('verification', `The build made no ${step.releaseFrom}<release> package: armkit cannot tell which kernel it was built for.`);
  return name.slice(step.releaseFrom!.length);
}

export async function publish(step: PublishStep): Promise<Manifest> {
  const files = step.artifacts.flatMap(expandGlob);
  if (files.length === 0) throw new ArmkitError('step-failed', `The build produced none of ${step.artifacts.join(', ')}.`);
  const known = new Map((step.known ?? []).map((a) => [a.file, a]));
  const described = files.every((f) => known.has(basename(f))) ? files.map((f) => known.get(basename(f))!) : describeRpms(files);
  const release = releaseOf(
    step,
    described.map((d) => d.name),
  );
  const fill = (text: string) => (release ? text.replaceAll(KERNEL_RELEASE, release) : text);
  const dest = fill(step.dest);
  const parent = dirname(dest);
  const staging = join(parent, `.${basename(dest)}.staging-${process.pid}`);
  const old = join(parent, `.${basename(dest)}.old-${process.pid}`);
  mkdirSync(parent, { recursive: true });
  rmSync(staging, { recursive: true, force: true });
  const forget = scratch(staging);
  try {
    mkdirSync(staging);
    const artifacts: ArtifactRecord[] = [];
    for (const [i, file] of files.entries()) {
      cpSync(file, join(staging, basename(file)));
      artifacts.push({ file: basename(file), ...described[i]!, size: statSync(file).size, sha256: await sha256File(file) });
    }
    if (existsSync(step.logsDir)) cpSync(step.logsDir, join(staging, 'logs'), { recursive: true });
    const source = { ...step.manifest.source };
    if (!source.sha256 && step.sourceArchive && existsSync(step.sourceArchive)) source.sha256 = await sha256File(step.sourceArchive);
    const kernel = step.manifest.kernel && { ...step.manifest.kernel, release: fill(step.manifest.kernel.release), dir: fill(step.manifest.kernel.dir) };
    const manifest: Manifest = {
      schema: MANIFEST_SCHEMA,
      ...step.manifest,
      ...(kernel ? { kernel } : {}),
      source,
      createdAt: new Date().toISOString(),
      artifacts,
    };
    writeManifest(staging, manifest);
    if (existsSync(dest)) renameSync(dest, old);
    renameSync(staging, dest);
    rmSync(old, { recursive: true, force: true });
    return manifest;
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(dest) && existsSync(old)) renameSync(old, dest);
    throw error;
  } finally {
    forget();
  }
}
