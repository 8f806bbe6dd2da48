/**
 * Values from users, file names and archives are data, never code (issue: hostile input). Each case plants a
 * command that would create a file named PWNED if rpm, the shell or EJS ever ran it, then searches everywhere the
 * build ran (its working directory, its cache and its output) for that file.
 */

import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { armkit, FIXTURE_MODULE, installedAmd64Release, ROOT, show, tempDir } from '../helpers/cli.js';
import { rpmField, rpmQuery } from '../helpers/rpm.js';

const amd64 = installedAmd64Release();

function findPwned(...dirs: string[]): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const name of existsSync(d) ? readdirSync(d) : []) {
      const p = join(d, name);
      if (name.includes('PWNED') && !name.includes('%(') && !name.includes('$(')) found.push(p);
      if (statSync(p, { throwIfNoEntry: false })?.isDirectory()) walk(p);
    }
  };
  for (const d of dirs) walk(d);
  return found;
}

/** A fresh cwd, cache and out for one hostile build. */
function sandbox(name: string) {
  const base = tempDir(`hostile-${name}`);
  const dirs = { cwd: join(base, 'cwd'), cache: join(base, 'cache'), out: join(base, 'out') };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  return dirs;
}

async function tarball(path: string, topdir: string, from = FIXTURE_MODULE): Promise<string> {
  const stage = tempDir('tar-stage');
  cpSync(from, join(stage, topdir), { recursive: true });
  await execa('tar', ['-czf', path, '-C', stage, topdir]);
  return path;
}

describe.skipIf(!amd64)('hostile values never run', () => {
  it('a --source file name with %(...) and ${IFS}: staged under a plain name, nothing runs', async () => {
    const s = sandbox('source-name');
    const evil = await tarball(join(tempDir('evil'), 'x%(touch${IFS}PWNED).tar.gz'), 'cryptodev-mini-0.3');
    const r = await armkit(['build', 'cryptodev', '--kernel', amd64!, '--source', evil, '--out', s.out], { cwd: s.cwd, cacheDir: s.cache });
    expect(r.exitCode, show(r)).toBe(0);
    expect(findPwned(s.cwd, s.cache, s.out)).toEqual([]);
    // The version came from the source's Makefile; Source0 is the plain package-version name.
    const srpm = join(s.out, 'cryptodev/0.1', 'x86_64', amd64!, 'cryptodev-linux-0.1-1.local.src.rpm');
    expect(await rpmQuery(srpm, '-l')).toContain('cryptodev-linux-0.1.tar.gz');
  });

  it('an archive whose top directory holds shell syntax is refused before anything runs (exit 2)', async () => {
    const s = sandbox('topdir');
    const evil = await tarball(join(tempDir('evil'), 'mod.tar.gz'), 'm$(touch PWNED)');
    const r = await armkit(['build', 'cryptodev', '--kernel', amd64!, '--source', evil, '--version', '1', '--out', s.out], { cwd: s.cwd, cacheDir: s.cache });
    expect(r.exitCode, show(r)).toBe(2);
    expect(r.stderr).toContain('the archive\'s top directory "m$(touch PWNED)" has characters rpm or the shell would interpret');
    expect(findPwned(s.cwd, s.cache, s.out)).toEqual([]);
    expect(readdirSync(s.out)).toEqual([]);
  });

  it('recipe text with %(...), %{...} and a %files line lands in the package as text', async () => {
    const s = sandbox('recipe-text');
    const recipes = tempDir('hostile-recipes');
    const recipe = readFileSync(join(ROOT, 'recipes/cryptodev.yaml'), 'utf8')
      .replace(/^summary: .*$/m, 'summary: "Offload 100% %(touch PWNED) %{_bindir}"')
      .replace(/^description: \|\n/m, 'description: |\n  %files\n  %(touch PWNED) and 50%\n');
    writeFileSync(join(recipes, 'cryptodev.yaml'), recipe);
    const r = await armkit(['build', 'cryptodev', '--recipes', recipes, '--kernel', amd64!, '--source', FIXTURE_MODULE, '--out', s.out], {
      cwd: s.cwd,
      cacheDir: s.cache,
    });
    expect(r.exitCode, show(r)).toBe(0);
    expect(findPwned(s.cwd, s.cache, s.out)).toEqual([]);
    const srpm = join(s.out, 'cryptodev/0.1/x86_64', amd64!, 'cryptodev-linux-0.1-1.local.src.rpm');
    expect(await rpmField(srpm, 'SUMMARY')).toBe('Offload 100% %(touch PWNED) %{_bindir}');
    const description = await rpmField(srpm, 'DESCRIPTION');
    expect(description).toContain('%(touch PWNED) and 50%');
    expect(description).toMatch(/^ ?%files$/m);
  });

  it('a recipe summary with a newline is a recipe error (exit 3): it would start a new spec line', async () => {
    const recipes = tempDir('hostile-newline');
    writeFileSync(
      join(recipes, 'cryptodev.yaml'),
      readFileSync(join(ROOT, 'recipes/cryptodev.yaml'), 'utf8').replace(/^summary: .*$/m, 'summary: "a\\n%post\\ntouch PWNED"'),
    );
    const r = await armkit(['build', 'cryptodev', '--recipes', recipes, '--kernel', amd64!, '--source', FIXTURE_MODULE, '--dry-run']);
    expect(r.exitCode, show(r)).toBe(3);
    expect(r.stderr).toContain('summary: must be one line');
  });

  it('recipe paths and make targets with shell syntax are recipe errors (exit 3)', async () => {
    for (const [from, to] of [
      [/built: cryptodev\.ko/, 'built: "cryptodev.ko;touch PWNED"'],
      [/target: build/, 'target: "build $(touch PWNED)"'],
      [/from: crypto\/cryptodev\.h/, 'from: "crypto/`touch PWNED`.h"'],
    ] as const) {
      const recipes = tempDir('hostile-path');
      writeFileSync(join(recipes, 'cryptodev.yaml'), readFileSync(join(ROOT, 'recipes/cryptodev.yaml'), 'utf8').replace(from, to));
      const r = await armkit(['build', 'cryptodev', '--recipes', recipes, '--kernel', amd64!, '--source', FIXTURE_MODULE, '--dry-run']);
      expect(r.exitCode, `${to}\n${show(r)}`).toBe(3);
      expect(r.stderr).toMatch(/must be (a path of letters|one make target)/);
    }
  });

  it('a kernel directory or cache directory with $ or % is refused (exit 2), naming the characters', async () => {
    const headers = join(tempDir('kdir'), 'linux$(touch PWNED)%(id)');
    cpSync(`/usr/src/linux-headers-${amd64}`, headers, { recursive: true, verbatimSymlinks: true });
    const r = await armkit(['build', 'cryptodev', '--kernel', headers, '--source', FIXTURE_MODULE, '--dry-run']);
    expect(r.exitCode, show(r)).toBe(2);
    expect(r.stderr).toMatch(/The kernel header directory ".*" contains "\$" "\(" " " "\)" "%", which rpm, the shell or kbuild would interpret/);
    const cache = join(tempDir('cdir'), 'c%(touch PWNED)');
    const c = await armkit(['build', 'cryptodev', '--kernel', amd64!, '--source', FIXTURE_MODULE, '--dry-run'], { cacheDir: cache });
    expect(c.exitCode, show(c)).toBe(2);
    expect(c.stderr).toContain('The cache directory');
    expect(findPwned(headers, cache)).toEqual([]);
  });

  it('a header tree whose release holds rpm syntax is refused (exit 5)', async () => {
    const headers = join(tempDir('krel'), 'linux-headers');
    cpSync(`/usr/src/linux-headers-${amd64}`, headers, { recursive: true, verbatimSymlinks: true });
    const uts = join(headers, 'include/generated/utsrelease.h');
    writeFileSync(uts, '#define UTS_RELEASE "6.1.0%(touch PWNED)"\n');
    const r = await armkit(['build', 'cryptodev', '--kernel', headers, '--source', FIXTURE_MODULE, '--dry-run']);
    expect(r.exitCode, show(r)).toBe(5);
    expect(r.stderr).toContain('which is not a kernel release');
  });

  it("a newline in --out stays inside the dry-run script's comments and quotes: sh runs no injected line", async () => {
    const out = `${tempDir('nl-out')}/x\ntouch PWNED\n`;
    const r = await armkit(['build', 'cryptodev', '--kernel', amd64!, '--source', FIXTURE_MODULE, '--out', out, '--dry-run'], {
      cacheDir: tempDir('nl-cache'),
    });
    expect(r.exitCode, show(r)).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('# ') && l.includes('\\ntouch PWNED')).length).toBeGreaterThan(0);
    // Run the script for real, with every program it calls replaced by a recorder: no "touch PWNED" may run.
    const stubs = tempDir('stubs');
    const log = join(stubs, 'calls.log');
    const programs = new Set([...r.stdout.matchAll(/(?:^|[;&|({]\s*|\$\()\s*([a-z][a-z0-9_.-]+)/gm)].map((m) => m[1]!));
    for (const p of [
      ...programs,
      'touch',
      'rm',
      'cp',
      'mv',
      'tar',
      'rpmbuild',
      'rpm2cpio',
      'cpio',
      'file',
      'grep',
      'sha256sum',
      'curl',
      'sed',
      'sort',
      'find',
      'gzip',
      'timeout',
    ]) {
      // One NUL-terminated record per call: an argument may hold a newline (that is the point of this case).
      writeFileSync(join(stubs, p), `#!/bin/sh\nprintf '%s\\0' "${p} $*" >> ${log}\n`, { mode: 0o755 });
    }
    // Directories and files the script writes itself (heredocs) go into its own scratch cache.
    for (const real of ['mkdir', 'cat', 'chmod']) writeFileSync(join(stubs, real), `#!/bin/sh\nexec /bin/${real} "$@"\n`, { mode: 0o755 });
    const ran = await execa('/bin/sh', ['-s'], { input: r.stdout, env: { PATH: stubs }, extendEnv: false, cwd: tempDir('nl-cwd'), reject: false });
    expect(ran.exitCode, String(ran.stderr)).toBe(0);
    const calls = readFileSync(log, 'utf8').split('\0');
    expect(calls.some((c) => c.startsWith('rpmbuild -ba'))).toBe(true);
    expect(calls.filter((c) => c.startsWith('touch'))).toEqual([]);
  });

  it('an unpinned source without a version it can read needs --version (exit 2)', async () => {
    const src = join(tempDir('noversion'), 'mymodule');
    cpSync(FIXTURE_MODULE, src, { recursive: true });
    writeFileSync(join(src, 'Makefile'), readFileSync(join(src, 'Makefile'), 'utf8').replace(/^VERSION = .*$/m, ''));
    const r = await armkit(['build', 'cryptodev', '--kernel', amd64!, '--source', src, '--dry-run']);
    expect(r.exitCode, show(r)).toBe(2);
    expect(r.stderr).toContain('does not say its version (no VERSION in its Makefile, no version in its name): give it with --version');
  });

  it('an unpinned source never passes for the pinned release: its Release says .local and the warning says so', async () => {
    const s = sandbox('unpinned');
    const src = tempDir('as-1.14');
    cpSync(FIXTURE_MODULE, src, { recursive: true });
    const r = await armkit(['build', 'cryptodev', '--kernel', amd64!, '--source', src, '--version', '1.14', '--out', s.out], { cwd: s.cwd, cacheDir: s.cache });
    expect(r.exitCode, show(r)).toBe(0);
    expect(r.stderr).toContain(
      "no checksum applies to a local source that is not one of the recipe's pinned archives; its packages are marked Release 1.local",
    );
    const files = readdirSync(join(s.out, 'cryptodev/1.14/x86_64', amd64!));
    expect(files).toContain(`kmod-cryptodev-${amd64}-1.14-1.local.x86_64.rpm`);
    expect(JSON.parse(readFileSync(join(s.out, 'cryptodev/1.14/x86_64', amd64!, 'manifest.json'), 'utf8')).source.verified).toBe(false);
  });
});

describe('armkit spec openssl runs nothing in the spec with --no-verify', () => {
  const spec = () => {
    const dir = tempDir('spec-pwned');
    const text = readFileSync(join(ROOT, 'test/fixtures/specs/fedora-style-3.0.9.spec'), 'utf8')
      .replace(/^(Name:.*)$/m, '$1\n%global armkit_probe %(touch PWNED)')
      .replace(/^URL:.*$/m, 'URL: https://example.org/%{armkit_probe}');
    writeFileSync(join(dir, 'openssl.spec'), text);
    return { dir, file: join(dir, 'openssl.spec') };
  };

  it("rpmspec -P (the default check) would run it: the README's warning is true", async () => {
    const { dir, file } = spec();
    const r = await armkit(['spec', 'openssl', '--spec', file, '--out', join(dir, 'out')], { cwd: dir });
    expect(r.exitCode, show(r)).toBe(0);
    expect(existsSync(join(dir, 'PWNED'))).toBe(true);
  });

  it('--no-verify patches and writes the spec without running it, and says it was not checked', async () => {
    const { dir, file } = spec();
    const r = await armkit(['spec', 'openssl', '--spec', file, '--out', join(dir, 'out'), '--no-verify'], { cwd: dir });
    expect(r.exitCode, show(r)).toBe(0);
    expect(existsSync(join(dir, 'PWNED'))).toBe(false);
    expect(r.stderr).toContain('--no-verify: the patched spec was not checked with rpmspec -P');
    expect(readFileSync(join(dir, 'out/openssl/3.0.9/spec/openssl.spec'), 'utf8')).toContain('enable-devcryptoeng');
  });
});
