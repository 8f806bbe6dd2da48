/**
 * Atomic publishing: results are copied into a staging directory beside the destination, manifest.json is written
 * last, and one rename puts them in place. Until then out/ holds what it held before.
 */
import { cpSync, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ArmkitError } from '../errors.js';
import type { PublishStep } from '../plan/step.js';
import type { Runner } from '../run/runner.js';
import { expandGlob } from './glob.js';
import { sha256File } from './hash.js';

export interface ArtifactRecord {
  file: string;
  name: string;
  version: string;
  release: string;
  arch: string;
  size: number;
  sha256: string;
}

export interface Manifest extends Record<string, unknown> {
  artifacts: ArtifactRecord[];
}

async function describeRpm(path: string, runner: Runner): Promise<Omit<ArtifactRecord, 'file' | 'size' | 'sha256'>> {
  const result = await runner.capture(['rpm', '-qp', '--nosignature', '--qf', '%{NAME}\\n%{VERSION}\\n%{RELEASE}\\n%{ARCH}\\n', path]);
  const [name, version, release, arch] = result.stdout.split('\n');
  if (result.exitCode !== 0 || !name || !version || !release || !arch) {
    throw new ArmkitError('step-failed', `rpm could not read ${path}: ${result.stderr.trim()}`);
  }
  return { name, version, release, arch: path.endsWith('.src.rpm') ? 'src' : arch };
}

export async function publish(step: PublishStep, runner: Runner): Promise<Manifest> {
  const files = step.artifacts.flatMap(expandGlob);
  if (files.length === 0) throw new ArmkitError('step-failed', `The build produced none of ${step.artifacts.join(', ')}.`);
  const parent = dirname(step.dest);
  const staging = join(parent, `.${basename(step.dest)}.staging-${process.pid}`);
  const old = join(parent, `.${basename(step.dest)}.old-${process.pid}`);
  mkdirSync(parent, { recursive: true });
  rmSync(staging, { recursive: true, force: true });
  try {
    mkdirSync(staging);
    const artifacts: ArtifactRecord[] = [];
    for (const file of files) {
      cpSync(file, join(staging, basename(file)));
      const meta = await describeRpm(file, runner);
      artifacts.push({ file: basename(file), ...meta, size: statSync(file).size, sha256: await sha256File(file) });
    }
    if (existsSync(step.logsDir)) cpSync(step.logsDir, join(staging, 'logs'), { recursive: true });
    const { sourceArchive, source, ...facts } = step.manifest as { sourceArchive?: string; source?: Record<string, unknown> } & Record<string, unknown>;
    const sourceRecord = { ...source };
    if (!sourceRecord.sha256 && typeof sourceArchive === 'string' && existsSync(sourceArchive)) {
      sourceRecord.sha256 = await sha256File(sourceArchive);
    }
    const manifest: Manifest = { schema: 1, ...facts, source: sourceRecord, createdAt: new Date().toISOString(), artifacts };
    writeFileSync(join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    if (existsSync(step.dest)) renameSync(step.dest, old);
    renameSync(staging, step.dest);
    rmSync(old, { recursive: true, force: true });
    return manifest;
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(step.dest) && existsSync(old)) renameSync(old, step.dest);
    throw error;
  }
}
