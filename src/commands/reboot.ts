/**
 * armkit reboot --warm: read the facts of this machine (root, kexec, /proc/modules, the kernel's files, lockdown,
 * systemd and the graphical target), plan the warm reboot (src/reboot/plan.ts) and print it (--dry-run), write it
 * (--script FILE) or, once confirmed, run it: one script for all three.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { usageError } from '../errors.js';
import { confirmationNeeded, imageCandidates, initrdCandidates, planWarmReboot, type WarmRebootFacts } from '../reboot/plan.js';
import { warmRebootScript } from '../reboot/script.js';
import { scratch } from '../scratch.js';
import type { Env } from './kmod-input.js';
import { info } from './output.js';

export interface RebootOptions {
  warm?: boolean;
  kernel?: string;
  unload?: string;
  dryRun?: boolean;
  script?: string;
  yes?: boolean;
  verbose?: boolean;
}

const read = (path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

export async function rebootFacts(env: Env, release: string): Promise<WarmRebootFacts> {
  const systemd = existsSync('/run/systemd/system');
  const graphical =
    systemd && env.host.which('systemctl') ? (await env.runner.capture(['systemctl', 'is-active', 'graphical.target'])).stdout.trim() === 'active' : false;
  const builtin = (read(`/lib/modules/${env.host.kernelRelease}/modules.builtin`) ?? '')
    .split('\n')
    .filter(Boolean)
    .map((p) =>
      p
        .split('/')
        .pop()!
        .replace(/\.ko(\.\w+)?$/, '')
        .replace(/-/g, '_'),
    );
  const lockdown = read('/sys/kernel/security/lockdown');
  const kexec = env.host.which('kexec') ?? ['/usr/sbin/kexec', '/sbin/kexec'].find((p) => existsSync(p));
  return {
    isRoot: env.host.isRoot,
    ...(kexec ? { kexec } : {}),
    runningRelease: env.host.kernelRelease,
    procModules: read('/proc/modules') ?? '',
    builtin,
    files: [...imageCandidates(release), ...initrdCandidates(release)].filter((f) => existsSync(f)),
    ...(lockdown ? { lockdown } : {}),
    systemd,
    graphical,
    family: env.host.family,
  };
}

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) throw confirmationNeeded();
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export async function rebootCommand(options: RebootOptions, env: Env): Promise<void> {
  if (!options.warm) throw usageError('armkit reboot only does warm reboots so far: pass --warm (a kexec into the kernel, without firmware and POST).');
  const unload = (options.unload ?? '')
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  for (const m of unload) if (!/^[\w-]+$/.test(m)) throw usageError(`--unload ${m}: expected module names such as nvidia_drm,nvidia.`);
  const scriptOnly = Boolean(options.dryRun || options.script);
  const facts = await rebootFacts(env, options.kernel ?? env.host.kernelRelease);
  const plan = planWarmReboot(facts, { ...(options.kernel ? { kernel: options.kernel } : {}), unload, scriptOnly });
  const script = warmRebootScript(plan, facts.family, env.armkitVersion);
  for (const n of plan.notes) info(`armkit: ${n}`);
  if (options.dryRun) {
    process.stdout.write(script);
    return;
  }
  if (options.script) {
    writeFileSync(resolve(options.script), script, { mode: 0o755 });
    info(`armkit: wrote ${resolve(options.script)}: run it as root on the machine (it checks its facts again first)`);
    return;
  }
  const what = `kexec into ${plan.release}${plan.unload.length ? `, unloading ${plan.unload.map((u) => u.name).join(', ')}` : ''}`;
  if (!options.yes && !(await confirm(`armkit: warm reboot now (${what})? [y/N] `))) {
    info('armkit: not rebooting; nothing was changed.');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'armkit-reboot-'));
  const forget = scratch(dir);
  try {
    const file = join(dir, 'warm-reboot.sh');
    writeFileSync(file, script, { mode: 0o700 });
    info(`armkit: ${what}`);
    await env.runner.run(['sh', file], { echo: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
    forget();
  }
}
