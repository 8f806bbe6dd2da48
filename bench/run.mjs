#!/usr/bin/env node
// npm run bench: armkit's overhead measured side by side with the same work done by hand, in one run.
//  1. `armkit build cryptodev --arch aarch64` (cross, warm cache) vs. the rpmbuild command of its own plan run
//     by hand in a prepared rpmbuild tree (the spec's %build runs the upstream make).
//  2. The same build vs. the --dry-run script run by sh (every step, armkit's own ones as shell commands).
//  3. `armkit --help` vs. a bare `node -e ""` start.
// Rounds are interleaved (A, B, A, B, ...) so drift in machine load hits both sides; medians are compared.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const cli = join(root, 'bin/armkit.js');
const cache = process.env.ARMKIT_CACHE_DIR ?? join(tmpdir(), 'armkit-test-cache');
const env = { ...process.env, ARMKIT_CACHE_DIR: cache, CI: 'true' };
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);

// The real release tarball when the cache has it (seeded or downloaded once); the suite's module otherwise.
const pinned = join(cache, 'sources/67223d5bee47/cryptodev-linux-1.14.tar.gz');
const sourceArgs = existsSync(pinned) ? [] : ['--source', join(root, 'test/fixtures/cryptodev-mini'), '--version', '0.1'];
const what = existsSync(pinned) ? 'cryptodev-linux 1.14 (recipe source, cached)' : 'test module (no cached 1.14 tarball)';
const buildArgs = ['build', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:latest', ...sourceArgs];

function time(fn) {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...options });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr?.slice(-2000)}`);
  return r.stdout;
}

const out = mkdtempSync(join(tmpdir(), 'armkit-bench-'));
// Warm up: headers downloaded, index fresh, source cached.
run(process.execPath, [cli, ...buildArgs, '--out', out]);

const plan = JSON.parse(run(process.execPath, [cli, ...buildArgs, '--out', out, '--dry-run', '--json'])).plan;
const rpmbuild = plan.steps.find((s) => s.kind === 'exec' && s.argv[0] === 'rpmbuild').argv;
const topdir = rpmbuild[rpmbuild.indexOf('--define') + 1].replace(/^_topdir /, '');
const script = run(process.execPath, [cli, ...buildArgs, '--out', out, '--dry-run']);

// By hand: a copy of the rpmbuild tree armkit prepared (SOURCES + SPECS), and rpmbuild with the same arguments.
const hand = mkdtempSync(join(tmpdir(), 'armkit-bench-hand-'));
const handArgs = rpmbuild.map((a) => a.replace(topdir, join(hand, 'rpmbuild')));
function byHand() {
  rmSync(join(hand, 'rpmbuild'), { recursive: true, force: true });
  for (const d of ['SOURCES', 'SPECS']) cpSync(join(topdir, d), join(hand, 'rpmbuild', d), { recursive: true });
  run(handArgs[0], handArgs.slice(1));
}
// Copy the prepared tree once so the by-hand rounds do not depend on armkit's next run clearing it.
const prepared = mkdtempSync(join(tmpdir(), 'armkit-bench-prepared-'));
for (const d of ['SOURCES', 'SPECS']) cpSync(join(topdir, d), join(prepared, d), { recursive: true });
function byHandPrepared() {
  rmSync(join(hand, 'rpmbuild'), { recursive: true, force: true });
  for (const d of ['SOURCES', 'SPECS']) cpSync(join(prepared, d), join(hand, 'rpmbuild', d), { recursive: true });
  run(handArgs[0], handArgs.slice(1));
}

const armkitTimes = [];
const handTimes = [];
const scriptTimes = [];
for (let i = 0; i < rounds; i++) {
  armkitTimes.push(time(() => run(process.execPath, [cli, ...buildArgs, '--out', out])));
  handTimes.push(time(byHandPrepared));
  scriptTimes.push(time(() => run('sh', ['-c', script])));
}

const helpTimes = [];
const nodeTimes = [];
for (let i = 0; i < 15; i++) {
  helpTimes.push(time(() => run(process.execPath, [cli, '--help'])));
  nodeTimes.push(time(() => run(process.execPath, ['-e', ''])));
}

const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;
const a = median(armkitTimes);
const h = median(handTimes);
const s = median(scriptTimes);
console.log(`armkit bench: ${what}, aarch64 cross against debian:latest, warm cache, ${rounds} interleaved rounds, medians`);
console.log(`  armkit build cryptodev            ${fmt(a)}`);
console.log(`  rpmbuild by hand (same command)   ${fmt(h)}   ratio armkit/by-hand    ${(a / h).toFixed(3)}   (goal <= 1.05)`);
console.log(`  its --dry-run script run by sh    ${fmt(s)}   ratio armkit/dry-run-sh ${(a / s).toFixed(3)}`);
console.log(`  armkit --help                     ${median(helpTimes).toFixed(0)} ms (node -e "" alone: ${median(nodeTimes).toFixed(0)} ms; goal < 150 ms)`);
rmSync(out, { recursive: true, force: true });
rmSync(hand, { recursive: true, force: true });
rmSync(prepared, { recursive: true, force: true });
void byHand;
void readdirSync;
void execFileSync;
