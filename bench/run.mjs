#!/usr/bin/env node
// npm run bench: what armkit's build cache, plan sets and start-up are worth, each measured side by side in one
// run (rounds interleaved, so drift in machine load hits both sides; medians compared):
//  1. an unchanged rebuild against the cold build it repeats (goal: at least 30 times faster);
//  2. three architectures with --jobs 2 against the same three one after another (goal: at least 1.6 times faster),
//     with the ceiling the machine allows: the CPU time the builds take, divided by its cores;
//  3. `armkit build cryptodev --arch aarch64 --kernel debian:latest --test` with every input cached (goal: <= 6 s);
//  4. a cold build against the same rpmbuild command run by hand (goal: ratio <= 1.05), and armkit's own time
//     around rpmbuild (its wall time less the rpmbuild step's, from --timings); where NODE_EXTRA_CA_CERTS is set,
//     also without it (Node parses that CA bundle as it starts; bin/armkit hands it over instead: src/extra-ca.ts).
// armkit runs as users run it: bin/armkit, the package's command, with this Node first on PATH.
// Uses cryptodev-linux 1.14 when its pinned archive is in the cache, else the suite's own module.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const cli = join(root, 'bin/armkit');
const cache = process.env.ARMKIT_CACHE_DIR ?? join(tmpdir(), 'armkit-test-cache');
const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}`, ARMKIT_CACHE_DIR: cache, CI: 'true' };
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);

// BENCH_SOURCE=suite measures the suite's module even when the 1.14 archive is cached.
const pinned = join(cache, 'sources/67223d5bee47/cryptodev-linux-1.14.tar.gz');
const real = existsSync(pinned) && process.env.BENCH_SOURCE !== 'suite';
const sourceArgs = real ? [] : ['--source', join(root, 'test/fixtures/cryptodev-mini'), '--version', '0.1'];
const what = real ? 'cryptodev-linux 1.14 (recipe source, cached)' : 'the suite module';
const build = (arch) => ['build', 'cryptodev', '--arch', arch, '--kernel', 'debian:latest', ...sourceArgs];

function time(fn) {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function runBoth(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 1 << 26, ...options });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr?.slice(-2000)}`);
  return r;
}
const run = (cmd, args, options) => runBoth(cmd, args, options).stdout;
const armkit = (args) => run(cli, args);
// Wall and CPU time (user + system of every process it started) of one armkit run, from bash's `times`.
function timedCpu(args) {
  let out;
  const wall = time(() => {
    // LC_ALL=C: times writes 0m3.56s there (another locale may write 0m3,56s).
    out = run('bash', ['-c', '"$@" >/dev/null || exit $?; times', 'bash', cli, ...args], { env: { ...env, LC_ALL: 'C' } });
  });
  const children = out.trim().split('\n').pop().split(/\s+/);
  const seconds = (t) => {
    const [, m, s] = t.match(/^(\d+)m([\d.]+)s$/);
    return Number(m) * 60 + Number(s);
  };
  return { wall, cpu: (seconds(children[0]) + seconds(children[1])) * 1000 };
}
const cores = availableParallelism();
const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;
const verdict = (ok) => (ok ? 'ok' : 'MISSED');

const out = mkdtempSync(join(tmpdir(), 'armkit-bench-'));
// Warm up: headers downloaded, index fresh, source cached, guest assets cached.
for (const arch of ['aarch64', 'armv7hl', 'armv5tel']) armkit([...build(arch), '--out', out]);
armkit([...build('aarch64'), '--out', out, '--test']);

// 1. Cold (--force: no stamp, no build cache) against the unchanged rebuild it repeats.
const cold = [];
const warm = [];
for (let i = 0; i < rounds; i++) {
  cold.push(time(() => armkit([...build('aarch64'), '--out', out, '--force'])));
  armkit([...build('aarch64'), '--out', out]); // the first plain run after --force writes the stamp
  warm.push(time(() => armkit([...build('aarch64'), '--out', out])));
}

// 2. Three architectures: --jobs 2 against --jobs 1, both cold.
const three = build('aarch64,armv7hl,armv5tel');
// The CPU time of the one-after-another run bounds any schedule: N cores cannot finish sooner than CPU / N.
const sets = { one: [], two: [], cpu: [] };
for (let i = 0; i < Math.max(2, Math.ceil(rounds / 2)); i++) {
  const one = timedCpu([...three, '--out', out, '--force', '--jobs', '1']);
  sets.one.push(one.wall);
  sets.cpu.push(one.cpu);
  sets.two.push(time(() => armkit([...three, '--out', out, '--force', '--jobs', '2'])));
}

// 3. build --test with everything cached.
const tested = [];
for (let i = 0; i < Math.max(2, Math.ceil(rounds / 2)); i++) tested.push(time(() => armkit([...build('aarch64'), '--out', out, '--test'])));

// 4. A cold build against its own rpmbuild command by hand: the plan's argv, environment and prepared tree.
const plan = JSON.parse(armkit([...build('aarch64'), '--out', out, '--force', '--dry-run', '--json'])).plan;
const rpmbuild = plan.steps.find((s) => s.kind === 'exec' && s.argv[0] === 'rpmbuild');
const [topLink, kernelLink] = plan.steps.filter((s) => s.kind === 'symlink');
armkit([...build('aarch64'), '--out', out, '--force']); // leaves the work tree (SOURCES, SPECS) in place
const prepared = mkdtempSync(join(tmpdir(), 'armkit-bench-prepared-'));
for (const d of ['SOURCES', 'SPECS']) cpSync(join(topLink.target, d), join(prepared, d), { recursive: true });
const hand = mkdtempSync(join(tmpdir(), 'armkit-bench-hand-'));
const handArgs = rpmbuild.argv.map((a) =>
  a
    .replace(`_topdir ${topLink.path}`, `_topdir ${join(hand, 'rpmbuild')}`)
    .replace(`kernel_dir ${kernelLink.path}`, `kernel_dir ${kernelLink.target}`)
    .replace(`${topLink.path}/SPECS`, `${join(hand, 'rpmbuild')}/SPECS`),
);
function byHand() {
  rmSync(join(hand, 'rpmbuild'), { recursive: true, force: true });
  for (const d of ['SOURCES', 'SPECS']) cpSync(join(prepared, d), join(hand, 'rpmbuild', d), { recursive: true });
  run(handArgs[0], handArgs.slice(1), { env: { ...env, ...rpmbuild.env } });
}
// NODE_EXTRA_CA_CERTS (set where a proxy's CA must be trusted) makes every Node process parse that bundle before it
// runs a line. bin/armkit keeps Node from doing so; the cold build is also timed without it, side by side, to show.
const extraCa = Boolean(process.env.NODE_EXTRA_CA_CERTS);
const { NODE_EXTRA_CA_CERTS: _ca, ...envNoCa } = env;
const armkitCold = [];
const armkitColdNoCa = [];
const around = [];
const handTimes = [];
function coldRound(into, runEnv) {
  let stderr = '';
  into.push(
    time(() => {
      stderr = runBoth(cli, [...build('aarch64'), '--out', out, '--force', '--timings'], { env: runEnv }).stderr;
    }),
  );
  // What armkit spends outside rpmbuild: its wall time less the rpmbuild step's own (--timings).
  const step = stderr.match(/^ {2}rpmbuild .*?([\d.]+) s +\d+%$/m);
  if (step && runEnv === env) around.push(into.at(-1) - Number(step[1]) * 1000);
}
// A ratio near 1 is read against rpmbuild's own spread (about 0.1 s between runs here): more rounds than the others.
for (let i = 0; i < Math.max(rounds, 9); i++) {
  coldRound(armkitCold, env);
  if (extraCa) coldRound(armkitColdNoCa, envNoCa);
  handTimes.push(time(byHand));
}
const nodeStart = (runEnv) => median(Array.from({ length: 11 }, () => time(() => run(process.execPath, ['-e', '0'], { env: runEnv }))));

const r1 = median(cold) / median(warm);
const r2 = median(sets.one) / median(sets.two);
const t3 = median(tested);
const r4 = median(armkitCold) / median(handTimes);
console.log(`armkit bench: ${what}, against Debian's current kernels; medians of interleaved rounds`);
console.log(`  1. cold build ${fmt(median(cold))}, unchanged rebuild ${fmt(median(warm))}: ${r1.toFixed(1)} times faster (goal >= 30) ${verdict(r1 >= 30)}`);
const ceiling = median(sets.one) / Math.max(median(sets.cpu) / cores, 1);
console.log(
  `  2. three arches --jobs 1 ${fmt(median(sets.one))}, --jobs 2 ${fmt(median(sets.two))}: ${r2.toFixed(2)} times faster (goal >= 1.6) ${verdict(r2 >= 1.6)}`,
);
console.log(
  `     the builds use ${fmt(median(sets.cpu))} of CPU: on ${cores} cores no schedule finishes sooner than ${fmt(median(sets.cpu) / cores)}, a ceiling of ${ceiling.toFixed(2)} times`,
);
console.log(`  3. build --test, every input cached: ${fmt(t3)} (goal <= 6 s) ${verdict(t3 <= 6000)}`);
console.log(
  `  4. cold build ${fmt(median(armkitCold))}, the same rpmbuild by hand ${fmt(median(handTimes))}: ratio ${r4.toFixed(3)} (goal <= 1.05) ${verdict(r4 <= 1.05)}`,
);
if (around.length) console.log(`     armkit's own time around rpmbuild (start-up, plan, steps, publish): ${fmt(median(around))}`);
if (extraCa) {
  const r4NoCa = median(armkitColdNoCa) / median(handTimes);
  console.log(
    `     NODE_EXTRA_CA_CERTS is set (bin/armkit defers it; node -e 0 takes ${fmt(nodeStart(env))} with it, ${fmt(nodeStart(envNoCa))} without); the cold build without it ${fmt(median(armkitColdNoCa))}: ratio ${r4NoCa.toFixed(3)} ${verdict(r4NoCa <= 1.05)}`,
  );
}
for (const d of [out, hand, prepared]) rmSync(d, { recursive: true, force: true });
