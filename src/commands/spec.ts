/** armkit spec openssl: placeholder until the spec patcher lands; refuses clearly instead of pretending. */
import { ArmkitError } from '../errors.js';
import type { Env } from './kmod-input.js';

export interface SpecOptions {
  spec?: string;
  srpm?: string;
  releaseSuffix?: string;
  out?: string;
  json?: boolean;
}

export async function specCommand(recipe: string, _options: SpecOptions, _env: Env): Promise<void> {
  throw new ArmkitError('usage', `armkit spec ${recipe} is not available yet.`);
}
