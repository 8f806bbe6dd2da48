/**
 * armkit bench crypto on this machine (the board): probe what the OpenSSL supports and whether the engine can work
 * here, run `openssl speed -evp ALGO` in software, with the engine, and both at once (src/speed/plan.ts), then judge
 * from what was seen whether the engine did the work (src/speed/verdict.ts).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { mismatch, missing, usageError } from '../errors.js';
import { execute } from '../run/execute.js';
import { parseSpeedOutput, type SpeedRun } from '../speed/parse.js';
import { DEFAULT_SIZES, label, planBenchCrypto } from '../speed/plan.js';
import {
  type DriverInfo,
  type KernelAlgorithm,
  kernelDriverFor,
  kernelName,
  parseDumpInfo,
  parseEngineAnswer,
  parseProcCrypto,
  probeOpenssl,
} from '../speed/probe.js';
import { buildReport, type CryptoReport, engineFailure, figureOf, type OffloadVerdict, type RunInput } from '../speed/report.js';
import { type SpeedWatch, speedOutput } from '../speed/steps.js';
import { offloadVerdict, usesDevCrypto } from '../speed/verdict.js';
import { STEP_KINDS } from '../steps/index.js';
import type { BenchCryptoOptions } from './bench-options.js';
import { executeOptions } from './env.js';
import type { Env } from './kmod-input.js';
import { info, printPlan } from './output.js';

const ENGINE_HINTS: Record<string, string> = {
  devcrypto:
    'The devcrypto engine comes with OpenSSL 1.1.1 to 3.x built with enable-devcryptoeng (Debian and Fedora build without it): "armkit build openssl" makes one.',
  cryptodev: 'The cryptodev engine is OpenSSL 1.0.x built with -DHAVE_CRYPTODEV ("armkit build openssl" makes one from a 1.0.x spec).',
  afalg: 'The afalg engine needs a kernel with AF_ALG sockets for ciphers (CONFIG_CRYPTO_USER_API_SKCIPHER) and an OpenSSL built with it.',
};

/** The engine to measure: --engine, or the one this OpenSSL series ships; none measures software only. */
export function chooseEngine(requested: string | undefined, major: number, minor: number): string | undefined {
  if (requested === 'none') return undefined;
  if (requested) {
    if (!/^[a-z0-9_-]+$/i.test(requested)) throw usageError(`--engine ${requested}: expected an engine id such as devcrypto, cryptodev or afalg (or none).`);
    return requested;
  }
  return major === 1 && minor === 0 ? 'cryptodev' : 'devcrypto';
}

const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');

/** One SpeedRun per run label, gathered from its per-size output files. */
function gather(outputDir: string, labels: string[], sizes: number[]): Map<string, SpeedRun> {
  const runs = new Map<string, SpeedRun>();
  for (const name of labels) {
    let merged: SpeedRun | undefined;
    for (const size of sizes.length ? sizes : [undefined]) {
      const file = speedOutput(outputDir, name, size);
      const [run] = parseSpeedOutput(read(file), file);
      if (!merged) merged = { ...run!, source: sizes.length ? join(outputDir, `${name}-*.txt`) : file, algorithms: [] };
      merged.engineMessages.push(...run!.engineMessages.filter((m) => !merged!.engineMessages.includes(m)));
      if (run!.engine) merged.engine = run!.engine;
      for (const a of run!.algorithms) {
        const into = merged.algorithms.find((x) => x.key === a.key);
        if (into) into.samples.push(...a.samples);
        else merged.algorithms.push({ ...a, samples: [...a.samples] });
      }
    }
    for (const a of merged!.algorithms) a.samples.sort((x, y) => x.blockSize - y.blockSize);
    runs.set(name, merged!);
  }
  return runs;
}

/** Runs of several algorithms as one run (the report keys each algorithm inside it). */
function combine(runs: SpeedRun[], source: string): SpeedRun {
  const first = runs[0]!;
  return {
    ...first,
    source,
    engineMessages: [...new Set(runs.flatMap((r) => r.engineMessages))],
    algorithms: runs.flatMap((r) => r.algorithms),
    notes: [...new Set(runs.flatMap((r) => r.notes))],
  };
}

/** Verdicts per algorithm, as one: offload only if every algorithm was; the first that was not says why. */
function overall(verdicts: Array<{ algo: string; verdict: OffloadVerdict }>): OffloadVerdict {
  const tag = (x: { algo: string; verdict: OffloadVerdict }) => (verdicts.length > 1 ? `${x.algo}: ` : '');
  const pick = verdicts.find((x) => x.verdict.status === 'not-offload') ?? verdicts.find((x) => x.verdict.status === 'unproven') ?? verdicts[0]!;
  return {
    status: pick.verdict.status,
    reason: `${tag(pick)}${pick.verdict.reason}`,
    evidence: verdicts.flatMap((x) => x.verdict.evidence.map((e) => `${tag(x)}${e}`)),
    ...(pick.verdict.driver ? { driver: pick.verdict.driver } : {}),
  };
}

export async function measureCrypto(options: BenchCryptoOptions, env: Env, signal?: AbortSignal): Promise<CryptoReport | undefined> {
  if (options.guest) return (await import('./bench-crypto-guest.js')).measureInGuest(options, env, signal);
  const binary = options.openssl ?? 'openssl';
  const path = env.host.which(binary);
  if (!path) {
    throw missing(
      options.openssl ? `--openssl ${binary}: no such program.` : 'openssl not found: install it with "apt-get install openssl" or "dnf install openssl".',
    );
  }
  const probe = await probeOpenssl(env.runner, path);
  if (!probe.version) throw mismatch(`${binary} does not say it is OpenSSL: "${binary} version" printed ${JSON.stringify(probe.versionText.slice(0, 120))}.`);
  const { major, minor } = probe.version;
  const engine = chooseEngine(options.engine, major, minor);
  const algos = (options.algo ?? 'aes-128-cbc')
    .split(',')
    .map((a) => a.trim().toLowerCase())
    .filter(Boolean);
  for (const a of algos) if (!/^[a-z0-9-]+$/.test(a)) throw usageError(`--algo ${a}: expected EVP names such as aes-128-cbc or sha256.`);
  let seconds: number | undefined;
  if (options.seconds !== undefined) {
    seconds = Number(options.seconds);
    if (!Number.isInteger(seconds) || seconds < 1) throw usageError(`--seconds ${options.seconds}: expected a whole number of seconds, 1 or more.`);
    if (!probe.features.seconds) env.warn(`OpenSSL ${probe.version.version} has no -seconds: each block size runs for its built-in 3 s.`);
  }
  if (!probe.features.elapsed) env.warn(`OpenSSL ${probe.version.version} has no -elapsed: the figures use the run's fixed duration as wall time.`);

  const facts: string[] = [
    `OpenSSL ${probe.version.version}`,
    `speed options: ${Object.entries(probe.features)
      .filter(([, v]) => v)
      .map(([k]) => `-${k}`)
      .join(' ')}`,
  ];
  let dumpInfo: DriverInfo[] = [];
  if (engine) {
    if (major >= 4)
      throw missing(`OpenSSL ${probe.version.version} has no engines (removed in 4.0) and no /dev/crypto provider exists: measure with an OpenSSL 3.x.`);
    if (!probe.features.engine) {
      throw missing(`This OpenSSL (${probe.version.version}) has no -engine in "openssl speed": it was built without engine support (no-engine).`, [
        'Measure software only with --engine none, or use an OpenSSL built with engines.',
      ]);
    }
    if (probe.features.provider) facts.push('providers too (-provider), but no provider for /dev/crypto exists: the engine is used');
    const answer = await env.runner.capture([path, 'engine', '-t', '-c', engine]);
    const said = parseEngineAnswer(`${answer.stdout}\n${answer.stderr}`, engine);
    const noDevCrypto = usesDevCrypto(engine) && !existsSync('/dev/crypto');
    const loadCryptodev =
      'Load the cryptodev module ("modprobe cryptodev"; "armkit build cryptodev" packages it for this kernel), or measure software only with --engine none.';
    if (!said.loaded) {
      throw missing(`OpenSSL ${probe.version.version} cannot load the ${engine} engine.`, [
        ...said.errors.slice(0, 4).map((e) => `openssl: ${e}`),
        ENGINE_HINTS[engine] ?? `Check "${binary} engine -t -c ${engine}".`,
        ...(noDevCrypto ? [`This machine has no /dev/crypto either. ${loadCryptodev}`] : []),
      ]);
    }
    if (noDevCrypto)
      throw missing(`The ${engine} engine talks to /dev/crypto, and this machine has none: the cryptodev module is not loaded.`, [loadCryptodev]);
    if (!said.available) {
      throw missing(
        `The ${engine} engine loads but is not available here (openssl engine -t says "[ unavailable ]"): it cannot do the work, so there is nothing to measure.`,
        [...said.errors.slice(0, 3).map((e) => `openssl: ${e}`), ...(ENGINE_HINTS[engine] ? [ENGINE_HINTS[engine]!] : [])],
      );
    }
    const offered = said.capabilities.map((c) => c.toUpperCase());
    for (const a of algos) {
      if (offered.length > 0 && !offered.includes(a.toUpperCase())) {
        throw missing(`The ${engine} engine does not offer ${a.toUpperCase()} here: openssl would do it in software.`, [
          `It offers: ${said.capabilities.join(', ')}.`,
        ]);
      }
    }
    facts.push(`engine ${engine}: ${said.name ?? engine} [ available ]`);
    if (engine === 'devcrypto') {
      const dump = await env.runner.capture([path, 'engine', '-pre', 'DUMP_INFO', 'devcrypto']);
      dumpInfo = parseDumpInfo(`${dump.stdout}\n${dump.stderr}`);
    }
  }
  const kernelAlgorithms: KernelAlgorithm[] = parseProcCrypto(read('/proc/crypto'));
  const cpu = env.host.which('taskset') && env.host.cpus > 1 ? 0 : undefined;
  const stamp = env.now.toISOString().replace(/[:.]/g, '-');
  const outputDir = resolve(options.out ?? 'out', 'bench', 'crypto', stamp);
  const sizes = probe.features.bytes ? DEFAULT_SIZES : [];
  const plan = planBenchCrypto({
    openssl: path,
    features: probe.features,
    ...(engine ? { engine } : {}),
    algos,
    ...(seconds !== undefined ? { seconds } : {}),
    sizes,
    ...(cpu !== undefined ? { cpu } : {}),
    outputDir,
    logsDir: join(outputDir, 'logs'),
  });
  if (options.dryRun) {
    await printPlan(plan, Boolean(options.json));
    return undefined;
  }
  info(`armkit: ${plan.summary}; ${facts.join('; ')}`);
  const result = await execute(plan, executeOptions(STEP_KINDS, env, { verbose: options.verbose }, signal));
  const watches = result.steps.filter((s) => s.kind === 'openssl-speed').map((s) => s.result as SpeedWatch[]);

  const labels = algos.flatMap((a) =>
    engine ? [label(a, 'software'), label(a, 'engine'), label(a, 'software', true), label(a, 'engine', true)] : [label(a, 'software')],
  );
  const runs = gather(outputDir, labels, sizes);
  const perAlgo = (role: 'software' | 'engine', together = false) => algos.map((a) => runs.get(label(a, role, together))!);
  const software = combine(perAlgo('software'), join(outputDir, '*-software*.txt'));
  const inputs: RunInput[] = [{ label: 'software', role: 'software', roleFrom: 'measured', run: software }];
  const notes: string[] = [];
  // The software run must be software: an engine loaded by default (openssl.cnf, a built-in devcrypto) is not.
  const swWatch = algos.map((_, k) => watches[engine ? 3 * k : k]!);
  if (swWatch.some((w) => w.some((x) => x.devCrypto.length > 0))) {
    notes.push(
      'the software run opened /dev/crypto: this OpenSSL loads an engine by default (openssl.cnf or a built-in devcrypto), so the "software" figures may be the engine\'s',
    );
  }
  let combined: { software: SpeedRun; engine: SpeedRun } | undefined;
  if (engine) {
    const engineRun = combine(perAlgo('engine'), join(outputDir, '*-engine*.txt'));
    const verdicts = algos.map((algo, k) => {
      const w = watches[3 * k + 1]!;
      const run = runs.get(label(algo, 'engine'))!;
      const shares = run.algorithms.flatMap((a) => a.samples.map((s) => figureOf(run, s)?.cpuShare)).filter((x): x is number => x !== undefined);
      const name = kernelName(algo);
      const failure = engineFailure(run);
      return {
        algo,
        verdict: offloadVerdict({
          engine,
          algo,
          ...(failure ? { outputFailure: failure } : {}),
          ...(usesDevCrypto(engine) ? { devCryptoOpened: w.some((x) => x.devCrypto.length > 0) } : {}),
          ...(() => {
            const d = dumpInfo.find((x) => x.name.toUpperCase() === algo.toUpperCase());
            return d ? { dumpInfo: d } : {};
          })(),
          ...(() => {
            const k2 = name ? kernelDriverFor(kernelAlgorithms, name) : undefined;
            return k2 ? { kernelDriver: k2 } : {};
          })(),
          interrupts: w.flatMap((x) => x.interrupts),
          ...(shares.length ? { cpuShare: Math.max(...shares) } : {}),
        }),
      };
    });
    inputs.push({ label: 'engine', role: 'engine', roleFrom: 'measured', run: engineRun, offload: overall(verdicts) });
    combined = {
      software: combine(perAlgo('software', true), join(outputDir, '*-software-together*.txt')),
      engine: combine(perAlgo('engine', true), join(outputDir, '*-engine-together*.txt')),
    };
  }
  const cpus = os.cpus();
  const environment = `measured on this machine: ${cpus[0]?.model?.trim() || os.machine()}, ${cpus.length} CPUs, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Linux ${os.release()}, ${facts.join('; ')}${cpu !== undefined ? `; every run pinned to CPU ${cpu} (taskset), so "combined" is one CPU plus the engine` : ''}`;
  const report = buildReport(inputs, { mode: 'measure', ...(combined ? { combined } : {}), environment });
  report.notes.push(...notes);
  writeFileSync(join(outputDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  info(`armkit: raw outputs and report.json in ${outputDir}`);
  return report;
}
