/** Runs the built armkit CLI as a user would, with a cache shared by the whole suite (downloads happen once). */

import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const FIXTURE_MODULE = join(ROOT, 'test/fixtures/cryptodev-mini');
export const FIXTURE_VERSION = '0.1';
/** Kernel headers and sources downloaded by tests are kept between runs here. */
export const TEST_CACHE = process.env.ARMKIT_TEST_CACHE ?? join(tmpdir(), 'armkit-test-cache');

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** This process's environment without what would colour armkit's output. */
export function plainEnv(): Record<string, string> {
  const { FORCE_COLOR: _force, NO_COLOR: _no, ...env } = process.env;
  return env as Record<string, string>;
}

export async function armkit(args: string[], options: { env?: Record<string, string>; cwd?: string; cacheDir?: string } = {}): Promise<CliResult> {
  const result = await execa(process.execPath, [join(ROOT, 'bin/armkit.js'), ...args], {
    cwd: options.cwd ?? ROOT,
    // Plain output whatever the caller's terminal says (FORCE_COLOR would colour armkit's messages).
    env: { ...plainEnv(), ARMKIT_CACHE_DIR: options.cacheDir ?? TEST_CACHE, CI: 'true', ...options.env },
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
  });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** Output and failure text together, for assertion messages. */
export function show(r: CliResult): string {
  return `exit ${r.exitCode}\n--- stdout\n${r.stdout.slice(-3000)}\n--- stderr\n${r.stderr.slice(-3000)}`;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `armkit-${prefix}-`));
}

/** Every file under dir with its size and mtime: to prove a failed build changed nothing. */
export function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries: string[] = [];
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    for (const name of entries.sort()) {
      const p = join(d, name);
      const link = lstatSync(p);
      // Follow links to directories (a cache may share trees by symlink); dangling links count as entries.
      const st = link.isSymbolicLink() ? (existsSync(p) ? statSync(p) : link) : link;
      if (st.isDirectory()) walk(p);
      else out.push(`${p} ${st.size} ${st.mtimeMs}`);
    }
  };
  walk(dir);
  return out;
}

/** The release of the installed Debian amd64 headers (linux-headers-amd64), if any. */
export function installedAmd64Release(): string | undefined {
  try {
    return readdirSync('/usr/src')
      .filter((d) => /^linux-headers-\d.*-amd64$/.test(d))
      .map((d) => d.replace(/^linux-headers-/, ''))
      .sort()
      .pop();
  } catch {
    return undefined;
  }
}

/** A PATH holding every program of /usr/bin and /usr/sbin except those matching `drop`. */
export function pathWithout(drop: RegExp): string {
  const dir = tempDir('path');
  for (const sys of ['/usr/sbin', '/usr/bin']) {
    for (const name of readdirSync(sys)) {
      if (drop.test(name) || existsSync(join(dir, name))) continue;
      symlinkSync(join(sys, name), join(dir, name));
    }
  }
  return dir;
}

/** A HOME whose ~/.config/copr exists: copr-cli's API token file, which armkit asks for before a Copr build. */
export function coprHome(): string {
  const home = tempDir('copr-home');
  mkdirSync(join(home, '.config'), { recursive: true });
  writeFileSync(join(home, '.config', 'copr'), '[copr-cli]\nlogin = x\nusername = someone\ntoken = x\ncopr_url = https://copr.fedorainfracloud.org\n');
  return home;
}
