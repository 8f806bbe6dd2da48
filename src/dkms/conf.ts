/**
 * dkms.conf, read as DKMS reads it: a shell fragment sourced by bash with `kernelver`, `arch`, `kernel_source_dir`
 * and DKMS's other variables set, whose variables (arrays included) are the answer. Sourcing it runs code from an
 * archive, so armkit does it the narrowest way it can: one bash child through the runner, its environment cleared
 * (`env -i`, only the context variables and a fixed PATH), in a scratch directory that holds nothing but a copy of
 * the file, with a CPU-time limit and a wall-clock timeout, stdin closed and the fragment's own output sent to
 * stderr. The variables come back on stdout as NUL-separated records printed by a fixed driver script (no value is
 * ever parsed as shell again), and everything taken from them is checked as data (src/dkms/model.ts).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArmkitError } from '../errors.js';
import { shellQuote } from '../proc/quote.js';
import type { Runner } from '../proc/runner.js';
import { scratch } from '../scratch.js';

/** What DKMS sets before it sources dkms.conf (dkms 3.x `read_conf`), as armkit sets it for one kernel. */
export interface DkmsContext {
  /** The kernel release the module is built for (uname -r on the target). */
  kernelver: string;
  /** The target's machine name as `uname -m` prints it (aarch64, armv7l, x86_64). */
  arch: string;
  /** The kernel's build tree (its headers); a directory that may not exist yet. */
  kernel_source_dir: string;
  /** The module's name and version as DKMS was given them (NAME-VERSION under /usr/src). */
  module: string;
  module_version: string;
}

/** DKMS's own tree, where it builds `$dkms_tree/NAME/VERSION/build`: armkit recognises that path in MAKE lines. */
export const DKMS_TREE = '/var/lib/dkms';
export const SOURCE_TREE = '/usr/src';
export const INSTALL_TREE = '/lib/modules';

/** A variable dkms.conf set: a scalar, or an (indexed or associative) array by key. */
export type DkmsValue = { scalar: string } | { array: Map<string, string> };
export type DkmsVariables = Map<string, DkmsValue>;

/**
 * The driver bash runs: source the fragment (its output to stderr), then print every variable it created as
 * records `S NUL name NUL value NUL` or `A NUL name NUL key NUL value NUL`. Names come from `compgen -v`, so they are
 * identifiers and safe inside the evals that read arrays; values are only ever printed, never evaluated. No
 * subshell per variable: a dkms.conf that sources the kernel's .config (v4l2loopback's) creates thousands.
 */
const DRIVER = String.raw`
set +e +u
ulimit -t 10 2>/dev/null
declare -A __armkit_before __armkit_arrays
for __armkit_n in $(compgen -v); do __armkit_before[$__armkit_n]=1; done
. "$1" </dev/null >&2
__armkit_status=$?
for __armkit_n in $(compgen -A arrayvar); do __armkit_arrays[$__armkit_n]=1; done
for __armkit_n in $(compgen -v); do
  # CONFIG_* come from sourcing the kernel's .config (thousands); armkit reads none of them.
  [[ -n "${'$'}{__armkit_before[$__armkit_n]:-}" || "$__armkit_n" == __armkit_* || "$__armkit_n" == CONFIG_* ]] && continue
  if [[ -n "${'$'}{__armkit_arrays[$__armkit_n]:-}" ]]; then
    eval "__armkit_keys=(\"\${!$__armkit_n[@]}\")"
    for __armkit_k in "${'$'}{__armkit_keys[@]}"; do
      eval "__armkit_v=\${$__armkit_n[\$__armkit_k]}"
      printf 'A\0%s\0%s\0%s\0' "$__armkit_n" "$__armkit_k" "$__armkit_v"
    done
  else
    printf 'S\0%s\0%s\0' "$__armkit_n" "${'$'}{!__armkit_n}"
  fi
done
printf 'X\0status\0%s\0' "$__armkit_status"
`;

/** The NUL-separated records the driver prints, back into variables; the fragment's exit status with them. */
export function parseRecords(out: string): { vars: DkmsVariables; status: number } {
  const fields = out.split('\0');
  const vars: DkmsVariables = new Map();
  let status = -1;
  let i = 0;
  while (i < fields.length - 1) {
    const tag = fields[i];
    if (tag === 'S') {
      vars.set(fields[i + 1]!, { scalar: fields[i + 2]! });
      i += 3;
    } else if (tag === 'A') {
      const name = fields[i + 1]!;
      const held = vars.get(name);
      const array = held && 'array' in held ? held.array : new Map<string, string>();
      array.set(fields[i + 2]!, fields[i + 3]!);
      vars.set(name, { array });
      i += 4;
    } else if (tag === 'X') {
      status = Number(fields[i + 2]);
      i += 3;
    } else {
      throw new Error(`dkms driver printed an unknown record ${JSON.stringify(tag)}`);
    }
  }
  return { vars, status };
}

/** The variables a dkms.conf sets for one kernel, read by sourcing it as DKMS does (see the file's comment). */
export async function evaluateDkmsConf(runner: Runner, text: string, ctx: DkmsContext, what: string): Promise<DkmsVariables> {
  const dir = mkdtempSync(join(tmpdir(), 'armkit-dkms-'));
  const forget = scratch(dir);
  try {
    const conf = join(dir, 'dkms.conf');
    const out = join(dir, 'variables');
    writeFileSync(conf, text);
    const context: Record<string, string> = {
      kernelver: ctx.kernelver,
      arch: ctx.arch,
      kernel_source_dir: ctx.kernel_source_dir,
      module: ctx.module,
      module_version: ctx.module_version,
      dkms_tree: DKMS_TREE,
      source_tree: SOURCE_TREE,
      install_tree: INSTALL_TREE,
    };
    const argv = [
      'env',
      '-i',
      'PATH=/usr/bin:/bin',
      `HOME=${dir}`,
      'LC_ALL=C',
      ...Object.entries(context).map(([k, v]) => `${k}=${v}`),
      'bash',
      '--noprofile',
      '--norc',
      '-c',
      DRIVER,
      'armkit-dkms-conf',
      conf,
    ];
    const outcome = await runner.attempt(argv, { cwd: dir, stdoutFile: out, logFile: join(dir, 'stderr.log'), timeoutSeconds: 20 });
    // The log starts with the runner's header (the command and its directory); the fragment's words follow it.
    const header = `$ ${argv.map(shellQuote).join(' ')}\n# in ${dir}\n`;
    const stderr = readFileSync(join(dir, 'stderr.log'), 'utf8').slice(header.length).trim();
    if (outcome.timedOut) throw new ArmkitError('recipe', `${what} did not finish within 20 s when sourced (does it loop or wait?).`);
    const { vars, status } = parseRecords(readFileSync(out, 'utf8'));
    if (outcome.exitCode !== 0 || status !== 0) {
      throw new ArmkitError('recipe', `${what} fails when sourced as DKMS sources it (exit ${status === -1 ? outcome.exitCode : status}).`, {
        details: stderr ? stderr.split('\n').slice(-8) : [],
      });
    }
    return vars;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    forget();
  }
}
