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
import { scratch } from '../scratch.js';

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

/** NAME, VERSION, RELEASE and ARCH of every package, asked of rpm in one call. */
async function describeRpms(paths: string[], runner: Runner): Promise<Array<Omit<ArtifactRecord, 'file' | 'size' | 'sha256'>>> {
  const result = await runner.capture(['rpm', '-qp', '--nosignature', '--qf', '%{NAME}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\n', ...paths]);
  const rows = result.stdout.split('\n').filter(Boolean).map((line) => line.split('\t'));
  if (result.exitCode !== 0 || rows.length !== paths.length || rows.some((r) => r.length !== 4)) {
    throw new ArmkitError('step-failed', `rpm could not read ${paths.join(', ')}: ${result.stderr.trim()}`);
  }
  return rows.map(([name, version, release, arch], i) => ({ name: name!, version: version!, release: release!, arch: paths[i]!.endsWith('.src.rpm') ? 'src' : arch! }));
}

export async function publish(step: PublishStep, runner: Runner): Promise<Manifest> {
  const files = step.artifacts.flatMap(expandGlob);
  if (files.length === 0) throw new ArmkitError('step-failed', `The build produced none of ${step.artifacts.join(', ')}.`);
  const parent = dirname(step.dest);
  const staging = join(parent, `.${basename(step.dest)}.staging-${process.pid}`);
  const old = join(parent, `.${basename(step.dest)}.old-${process.pid}`);
  mkdirSync(parent, { recursive: true });
  rmSync(staging, { recursive: true, force: true });
  const forget = scratch(staging);
  try {
    mkdirSync(staging);
    const described = await describeRpms(files, runner);
    const artifacts: ArtifactRecord[] = [];
    for (const [i, file] of files.entries()) {
      cpSync(file, join(staging, basename(file)));
      artifacts.push({ file: basename(file), ...described[i]!, size: statSync(file).size, sha256: await sha256File(file) });
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
  } finally {
    forget();
  }
}
