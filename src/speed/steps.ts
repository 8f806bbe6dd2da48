/**
 * The `openssl-speed` step kind (armkit bench crypto): the runs of a step at the same time for each block size,
 * each wrapped in `sh` so that `times` reports the CPU its openssl used, with a watch on /dev/crypto and the
 * interrupts while they run (the evidence of whether an engine did the work).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ArmkitError } from '../errors.js';
import { comment, shellQuote as q } from '../proc/quote.js';
import type { OpensslSpeedStep, StepKinds } from '../step.js';
import { interruptDelta } from './probe.js';

/** The shell around each openssl: stderr with stdout (as a terminal shows them), then the CPU it used. */
export const TIMES_WRAPPER = 'exec 2>&1; "$@"; s=$?; echo ARMKIT:TIMES; times; exit $s';

export function wrapped(argv: string[]): string[] {
  return ['sh', '-c', TIMES_WRAPPER, 'sh', ...argv];
}

export function speedArgv(argv: string[], size: number | undefined): string[] {
  return size === undefined ? argv : [...argv, '-bytes', String(size)];
}

export function speedOutput(dir: string, label: string, size: number | undefined): string {
  return join(dir, size === undefined ? `${label}.txt` : `${label}-${size}.txt`);
}

/** What was seen while one block size ran: who held /dev/crypto, which interrupts fired. */
export interface SpeedWatch {
  size?: number;
  /** Processes named openssl that had /dev/crypto open, with the label of the run whose command line they have. */
  devCrypto: Array<{ pid: number; label?: string }>;
  interrupts: Array<{ irq: string; name: string; count: number }>;
  exitCodes: Record<string, number | undefined>;
}

const readOr = (path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
};

/** Every process called openssl that has /dev/crypto open now, and its command line. */
export function devCryptoHolders(): Array<{ pid: number; cmdline: string[] }> {
  const out: Array<{ pid: number; cmdline: string[] }> = [];
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return out;
  }
  for (const pid of pids) {
    if (readOr(`/proc/${pid}/comm`).trim() !== 'openssl') continue;
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    const holds = fds.some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === '/dev/crypto';
      } catch {
        return false;
      }
    });
    if (holds) out.push({ pid: Number(pid), cmdline: readOr(`/proc/${pid}/cmdline`).split('\0').filter(Boolean) });
  }
  return out;
}

/** The run a process belongs to: the one whose openssl arguments its command line has (the engine's -engine). */
function labelOf(cmdline: string[], runs: OpensslSpeedStep['runs']): string | undefined {
  const engine = cmdline.includes('-engine');
  return runs.find((r) => r.argv.includes('-engine') === engine)?.label;
}

export const SPEED_STEPS: Pick<StepKinds, 'openssl-speed'> = {
  'openssl-speed': {
    async run(step, ctx) {
      mkdirSync(step.outputDir, { recursive: true });
      const watches: SpeedWatch[] = [];
      const sizes: Array<number | undefined> = step.sizes.length ? step.sizes : [undefined];
      for (const size of sizes) {
        const before = readOr('/proc/interrupts');
        const seen = new Map<number, string | undefined>();
        const look = () => {
          for (const h of devCryptoHolders()) seen.set(h.pid, labelOf(h.cmdline, step.runs));
        };
        const timer = existsSync('/dev/crypto') ? setInterval(look, 200) : undefined;
        try {
          const outcomes = await Promise.all(
            step.runs.map((r) =>
              ctx.runner.attempt(wrapped(speedArgv(r.argv, size)), {
                stdoutFile: speedOutput(step.outputDir, r.label, size),
                logFile: join(ctx.logsDir, step.log),
                timeoutSeconds: step.timeoutSeconds,
                echo: ctx.verbose,
              }),
            ),
          );
          const exitCodes: Record<string, number | undefined> = {};
          outcomes.forEach((o, k) => {
            const label = step.runs[k]!.label;
            exitCodes[label] = o.exitCode;
            if (o.timedOut) throw new ArmkitError('step-failed', `openssl speed (${label}) did not finish within ${step.timeoutSeconds} s and was stopped.`);
            if (o.exitCode !== 0) {
              const out = readOr(speedOutput(step.outputDir, label, size))
                .split('\n')
                .slice(-12);
              throw new ArmkitError(
                'step-failed',
                `openssl speed (${label}${size ? `, ${size} bytes` : ''}) failed with exit code ${o.exitCode ?? o.signal}.`,
                {
                  details: out,
                  logFile: speedOutput(step.outputDir, label, size),
                },
              );
            }
          });
          watches.push({
            ...(size !== undefined ? { size } : {}),
            devCrypto: [...seen.entries()].map(([pid, label]) => ({ pid, ...(label ? { label } : {}) })),
            interrupts: interruptDelta(before, readOr('/proc/interrupts')),
            exitCodes,
          });
        } finally {
          if (timer) clearInterval(timer);
        }
      }
      return watches;
    },
    shell(step) {
      const sizes: Array<number | undefined> = step.sizes.length ? step.sizes : [undefined];
      const lines = [`mkdir -p ${q(step.outputDir)}`];
      for (const size of sizes) {
        const cmds = step.runs.map((r) => `${wrapped(speedArgv(r.argv, size)).map(q).join(' ')} > ${q(speedOutput(step.outputDir, r.label, size))}`);
        if (cmds.length === 1) lines.push(cmds[0]!);
        else lines.push(`${cmds.map((c) => `${c} &`).join('\n')}\nwait  ${comment(`${step.runs.map((r) => r.label).join(' and ')} at the same time`)}`);
      }
      return lines.join('\n');
    },
    // taskset -c N openssl ...: both programs.
    programs: (step) => ['sh', ...new Set(step.runs.flatMap((r) => (r.argv[0] === 'taskset' ? ['taskset', r.argv[3]!] : [r.argv[0]!])))],
  },
};
