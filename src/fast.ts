/**
 * The launcher's first look (bin/armkit.js): is this exact build command up to date (src/stamp.ts)? Then say so
 * and stop, before armkit's own modules load. Anything else goes on to the CLI. Kept tiny on purpose.
 */
import { defaultCacheDir } from './paths.js';
import { currentStamp, stampFile, stampKey } from './stamp.js';

/** Flags after which a command is never answered from a stamp: each asks for work or output a stamp cannot give. */
const NEVER = new Set(['--dry-run', '--force', '--test', '--timings', '--help', '-h', '--verbose']);

export function upToDate(argv: string[], env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): boolean {
  const args = argv.slice(2);
  if (args[0] !== 'build' || args.some((a) => NEVER.has(a))) return false;
  const at = args.findIndex((a) => a === '--cache-dir' || a.startsWith('--cache-dir='));
  const cacheDir = at < 0 ? defaultCacheDir(env) : args[at]!.includes('=') ? args[at]!.slice('--cache-dir='.length) : args[at + 1];
  if (!cacheDir) return false;
  const stamp = currentStamp(stampFile(cacheDir, stampKey(args, cwd, env)));
  if (!stamp) return false;
  if (args.includes('--json')) process.stdout.write(`${JSON.stringify(stamp.json, null, 2)}\n`);
  process.stderr.write(`${stamp.messages.join('\n')}\n`);
  return true;
}
