/** armkit bench crypto on this machine: measuring is not wired yet; saved outputs (--parse, --compare) are. */
import { usageError } from '../errors.js';
import type { CryptoReport } from '../speed/report.js';
import type { BenchCryptoOptions } from './bench.js';
import type { Env } from './kmod-input.js';

export async function measureCrypto(_options: BenchCryptoOptions, _env: Env, _signal?: AbortSignal): Promise<CryptoReport | undefined> {
  throw usageError('armkit bench crypto measures on this machine in a later version; read saved outputs with --parse FILE... or --compare FILE....');
}
