/** armkit install <recipe>: build natively with the upstream Makefile and install onto this system or --destdir. */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findArch } from '../arch.js';
import { excludedByConfig } from '../dkms/model.js';
import { missing, usageError } from '../errors.js';
import { resolveModuleSigning, type SigningOptions } from '../kernel/signing.js';
import { parseKconfig } from '../kernel/tree.js';
import { planKmodInstall } from '../plan/kmod.js';
import { STEP_KINDS } from '../steps/index.js';
import { executeOptions } from './env.js';
import { type Env, type KmodOptions, resolveKmodInput } from './kmod-input.js';
import { info, printJson, printPlan } from './output.js';

export interface InstallOptions extends KmodOptions, SigningOptions {
  destdir?: string;
  dryRun?: boolean;
  json?: boolean;
  verbose?: boolean;
}

export async function installCommand(recipeName: string, options: InstallOptions, env: Env, signal?: AbortSignal): Promise<void> {
  if (options.mode === 'cross' || (options.arch && env.host.arch && findArch(options.arch) !== env.host.arch)) {
    throw usageError('armkit install builds for the machine it runs on; to build for another board use "armkit build" and install the RPMs there.');
  }
  const input = await resolveKmodInput(recipeName, { ...options, mode: 'native' }, env);
  // BUILD_EXCLUSIVE_CONFIG, which a build's spec checks in %build, is checked here against the tree's .config: a DKMS
  // recipe's tree is in the cache by now (dkms-input.ts extracts it to read dkms.conf), except in a dry run.
  if (input.dkms?.exclusiveConfig.length) {
    const config = join(input.kernel.dir, '.config');
    if (existsSync(config)) {
      const why = excludedByConfig(input.dkms.exclusiveConfig, parseKconfig(readFileSync(config, 'utf8')));
      if (why) throw usageError(`dkms.conf BUILD_EXCLUSIVE_CONFIG excludes Linux ${input.kernel.release}: ${why}.`);
    } else env.warn(`BUILD_EXCLUSIVE_CONFIG is not checked: ${config} is not there yet.`);
  }
  const destdir = options.destdir ? resolve(options.destdir) : undefined;
  // Secure Boot: the module is signed before it is installed, and the signature checked against the certificate.
  const signing = resolveModuleSigning(options, input.kernel.dir, env.host);
  const plan = planKmodInstall({ ...input, ...(signing ? { signing } : {}), destdir, runningRelease: env.host.kernelRelease });
  if (options.dryRun) return await printPlan(plan, Boolean(options.json));
  if (!destdir && !env.host.isRoot) {
    throw missing('Installing into the running system needs root: run it with sudo, or stage the files with --destdir DIR.');
  }
  info(`armkit: ${plan.summary}`);
  const { execute } = await import('../run/execute.js');
  await execute(plan, executeOptions(STEP_KINDS, env, { verbose: options.verbose }, signal));
  if (options.json) printJson({ ok: true, summary: plan.summary, root: destdir ?? '/' });
  else info(`armkit: installed ${plan.summary}`);
}
