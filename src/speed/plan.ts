/**
 * The plan of `armkit bench crypto` on this machine: per algorithm, `openssl speed -evp ALGO` in software, then
 * with the engine, then both at the same time (the combined figure, measured rather than added up). Pure: the
 * probes (commands/bench-crypto-run.ts) decide what the OpenSSL supports.
 */
import type { OpensslSpeedStep, Plan, Step } from '../step.js';
import type { SpeedFeatures } from './probe.js';

export interface BenchCryptoInput {
  openssl: string;
  features: SpeedFeatures;
  /** The engine to measure, or none (software only). */
  engine?: string;
  algos: string[];
  /** -seconds N (where the OpenSSL has it). */
  seconds?: number;
  /** One process per block size (-bytes, 1.1.1+); none: openssl's own sizes in one process. */
  sizes: number[];
  /** A CPU to pin every run to (taskset), so that "combined" means one CPU plus the engine. */
  cpu?: number;
  outputDir: string;
  logsDir: string;
}

export const DEFAULT_SIZES = [16, 64, 256, 1024, 8192, 16384];

/** The runs' labels, and so their output files: `<algo>-software-<size>.txt`. */
export const label = (algo: string, role: 'software' | 'engine', together = false) => `${algo}-${role}${together ? '-together' : ''}`;

export function speedCommand(input: BenchCryptoInput, algo: string, withEngine: boolean): string[] {
  return [
    ...(input.cpu !== undefined ? ['taskset', '-c', String(input.cpu)] : []),
    input.openssl,
    'speed',
    ...(input.features.elapsed ? ['-elapsed'] : []),
    ...(input.seconds !== undefined && input.features.seconds ? ['-seconds', String(input.seconds)] : []),
    ...(withEngine && input.engine ? ['-engine', input.engine] : []),
    '-evp',
    algo,
  ];
}

export function planBenchCrypto(input: BenchCryptoInput): Plan {
  const seconds = input.features.seconds && input.seconds !== undefined ? input.seconds : 3;
  // Each process: one block size with -bytes, else openssl's own six one after another; and a minute to spare.
  const timeoutSeconds = (input.sizes.length ? 1 : 6) * seconds + 60;
  const steps: Step[] = [{ kind: 'mkdir', title: `Create ${input.outputDir}`, path: input.outputDir }];
  const phase = (title: string, runs: OpensslSpeedStep['runs']): OpensslSpeedStep => ({
    kind: 'openssl-speed',
    title,
    runs,
    sizes: input.sizes,
    outputDir: input.outputDir,
    log: 'openssl-speed.log',
    timeoutSeconds,
  });
  for (const algo of input.algos) {
    steps.push(phase(`openssl speed -evp ${algo}: software`, [{ label: label(algo, 'software'), argv: speedCommand(input, algo, false) }]));
    if (input.engine) {
      steps.push(phase(`openssl speed -evp ${algo}: engine ${input.engine}`, [{ label: label(algo, 'engine'), argv: speedCommand(input, algo, true) }]));
      steps.push(
        phase(`openssl speed -evp ${algo}: software and engine ${input.engine} at the same time`, [
          { label: label(algo, 'software', true), argv: speedCommand(input, algo, false) },
          { label: label(algo, 'engine', true), argv: speedCommand(input, algo, true) },
        ]),
      );
    }
  }
  const what = input.engine ? `without and with engine ${input.engine}, then both at once` : 'in software only';
  return {
    summary: `openssl speed -evp ${input.algos.join(',')} ${what}${input.cpu !== undefined ? ` on CPU ${input.cpu}` : ''}`,
    logsDir: input.logsDir,
    warnings: [],
    requires: [input.openssl, 'sh', ...(input.cpu !== undefined ? ['taskset'] : [])],
    steps,
  };
}
