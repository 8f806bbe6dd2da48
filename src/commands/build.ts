/** armkit build <recipe>: plan, then print (--dry-run) or run it and publish into out/. */
import { resolve } from 'node:path';
import { planKmodBuild } from '../plan/cryptodev.js';
import { resolveKmodInput, type Env, type KmodOptions } from './kmod-input.js';
import { info, printJson, printPlan } from './output.js';
import { recipeKind } from '../recipes/load.js';
import type { OpensslBuildOptions } from './build-openssl.js';

export interface BuildOptions extends KmodOptions {
  out?: string;
  dryRun?: boolean;
  json?: boolean;
  verbose?: boolean;
  /** Run `armkit test` on the packages right after the build. */
  test?: boolean;
  timeout?: string;
  kernelImage?: string;
}

export async function buildCommand(recipeName: string, options: BuildOptions & OpensslBuildOptions, env: Env, signal?: AbortSignal): Promise<void> {
  if (recipeKind(recipeName, options.recipes ?? []) === 'spec') {
    const { buildOpensslCommand } = await import('./build-openssl.js');
    return buildOpensslCommand(options, env, signal);
  }
  const input = await resolveKmodInput(recipeName, options, env);
  const plan = planKmodBuild({ ...input, outDir: resolve(options.out ?? 'out'), nodeps: env.host.family !== 'fedora' });
  if (options.dryRun) return printPlan(plan, Boolean(options.json));
  info(`armkit: building ${plan.summary}`);
  const { execute } = await import('../run/execute.js');
  const { manifest } = await execute(plan, { runner: env.runner, host: env.host, verbose: Boolean(options.verbose), signal, warn: env.warn });
  const publish = plan.steps.find((s) => s.kind === 'publish');
  const dest = publish && publish.kind === 'publish' ? publish.dest : undefined;
  if (options.test) {
    info(`armkit: built ${plan.summary}; testing it in a guest`);
    const { testCommand } = await import('./test.js');
    const results = await testCommand(recipeName, { ...options, arch: input.arch.rpm, from: dest, json: false, dryRun: false }, env, signal);
    if (options.json) printJson({ ok: true, summary: plan.summary, out: dest, manifest, test: results });
    return;
  }
  if (options.json) {
    printJson({ ok: true, summary: plan.summary, out: dest, manifest });
    return;
  }
  info(`armkit: built ${plan.summary}`);
  for (const a of manifest?.artifacts ?? []) info(`  ${dest}/${a.file}`);
}
