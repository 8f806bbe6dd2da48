/**
 * A DKMS recipe's dkms.conf for one build, read before planning: sourced as DKMS sources it (src/dkms/conf.ts) with
 * this kernel's release, arch and header tree, so a dkms.conf that reads the kernel's .config (v4l2loopback's does)
 * sees the real one. A Debian header tree not in the cache yet is fetched first, for that reason; a dry run
 * downloads nothing and says when it read the dkms.conf without the tree.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Arch } from '../arch.js';
import { evaluateDkmsConf } from '../dkms/conf.js';
import { type DkmsBuild, dkmsArch, interpretDkms } from '../dkms/model.js';
import { usageError } from '../errors.js';
import type { ResolvedKernel } from '../kernel/resolve.js';
import type { KmodRecipe, RecipeSource } from '../recipes/schema.js';
import { execute } from '../run/execute.js';
import { STEP_KINDS } from '../steps/index.js';
import type { Env } from './env.js';
import { executeOptions } from './env.js';

export interface DkmsInputOptions {
  cacheDir: string;
  dryRun?: boolean;
  recipeFile: string;
  /** Resolves the kernel again once its tree is in the cache. */
  reresolve(): Promise<ResolvedKernel>;
}

export async function dkmsForKernel(
  recipe: KmodRecipe,
  source: RecipeSource | undefined,
  arch: Arch,
  kernel: ResolvedKernel,
  env: Env,
  options: DkmsInputOptions,
): Promise<{ dkms: DkmsBuild; kernel: ResolvedKernel; warnings: string[] }> {
  const conf = recipe.dkms!.conf;
  if (kernel.source === 'chroot') {
    throw usageError(
      `${recipe.name} is a DKMS recipe: its dkms.conf is read for the kernel it is built against, which a chroot engine only learns inside the chroot; build it with --engine local.`,
    );
  }
  const warnings: string[] = [];
  if (kernel.prepare.length > 0) {
    if (options.dryRun) {
      warnings.push(
        `The dry run read ${recipe.name}'s dkms.conf without Linux ${kernel.release}'s header tree (not downloaded yet): what it computes from the tree's .config may differ in the real build.`,
      );
    } else {
      // The tree's directory (…/<release>/root/usr/src/linux-headers-<release>) is locked as the build would lock it.
      const tree = dirname(dirname(dirname(dirname(kernel.dir))));
      await execute(
        {
          summary: `fetch Linux ${kernel.release} headers for ${recipe.name}'s dkms.conf`,
          logsDir: join(tree, '..', 'logs'),
          warnings: [],
          requires: [],
          locks: [tree],
          steps: kernel.prepare,
        },
        { ...executeOptions(STEP_KINDS, env, {}), quiet: true },
      );
      kernel = await options.reresolve();
    }
  }
  const topdir = source?.topdir ?? `${recipe.package}-${source?.version ?? '0'}`;
  const ctx = {
    kernelver: kernel.release,
    arch: dkmsArch(arch.rpm),
    kernel_source_dir: kernel.dir,
    module: recipe.package,
    module_version: topdir.startsWith(`${recipe.package}-`) ? topdir.slice(recipe.package.length + 1) : (source?.version ?? ''),
  };
  const what = `The dkms.conf of ${options.recipeFile}`;
  const vars = await evaluateDkmsConf(env.runner, conf, ctx, what);
  const dkms = interpretDkms(vars, ctx, what);
  if (!existsSync(join(kernel.dir, '.config')) && dkms.exclusiveConfig.length > 0 && !options.dryRun) {
    warnings.push(`${kernel.dir} has no .config: BUILD_EXCLUSIVE_CONFIG (${dkms.exclusiveConfig.join(' ')}) is checked when the module is built.`);
  }
  if (dkms.unsupported.length > 0) warnings.push(`${recipe.name}'s dkms.conf sets fields armkit does not act on: ${dkms.unsupported.join('; ')}.`);
  return { dkms, kernel, warnings };
}
