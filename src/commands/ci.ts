/**
 * armkit ci github|gitlab: writes the CI workflow that cross-builds the recipes in a matrix, tests them, uploads
 * the packages and makes the dnf repository (src/ci/). A file there that armkit did not write is not replaced
 * without --force; `--out -` prints the workflow instead.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CI_SYSTEMS, type CiOptions, type CiSystem, ciModel } from '../ci/model.js';
import { DEFAULT_PATHS, renderWorkflow, writtenByArmkit } from '../ci/render.js';
import { usageError } from '../errors.js';
import { info, printJson } from './output.js';

export interface CiCommandOptions extends CiOptions {
  out?: string;
  force?: boolean;
  json?: boolean;
}

export async function ciCommand(system: string, options: CiCommandOptions): Promise<void> {
  if (!(CI_SYSTEMS as readonly string[]).includes(system)) throw usageError(`armkit ci ${system}: armkit writes workflows for ${CI_SYSTEMS.join(' and ')}.`);
  const model = ciModel(system as CiSystem, options);
  const text = renderWorkflow(model);
  if (options.out === '-') {
    process.stdout.write(text);
    return;
  }
  const file = resolve(options.out ?? DEFAULT_PATHS[model.system]);
  const existed = existsSync(file);
  if (existed && !options.force && !writtenByArmkit(readFileSync(file, 'utf8'))) {
    throw usageError(`${file} exists and armkit did not write it (its first line is not armkit's mark): pass --force to replace it, or --out another file.`);
  }
  mkdirSync(dirname(file), { recursive: true });
  const part = `${file}.armkit-${process.pid}`;
  writeFileSync(part, text);
  renameSync(part, file);
  if (options.json) {
    printJson({ ok: true, file, replaced: existed, model });
    return;
  }
  info(
    `armkit: ${existed ? 'replaced' : 'wrote'} ${file}: ${model.recipes.join(', ')} × ${model.arches.join(', ')}${model.kernels.length ? ` × ${model.kernels.join(', ')}` : ''} (${model.engine}${model.test ? ', tested in QEMU' : ''}), then the dnf repository`,
  );
  if (model.engine === 'copr')
    info(
      `  it needs the ${model.system === 'github' ? 'repository secret' : 'CI/CD variable'} ${model.secrets.copr}: the text of ~/.config/copr from https://copr.fedorainfracloud.org/api/`,
    );
  info(`  optional: ${model.secrets.signingKey} (an armored secret key) signs the repository`);
}
