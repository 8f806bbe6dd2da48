/**
 * Whether the engine really did the work, from what armkit saw on this machine: the engine's own messages, who
 * held /dev/crypto open, the kernel driver behind the algorithm (devcrypto's DUMP_INFO, /proc/crypto), the
 * interrupts of crypto hardware. An engine that fell back to software, or a kernel driver that runs on the CPU, is
 * never offload. Pure.
 */
import { CRYPTO_IRQ, cpuDriver, type DriverInfo, type KernelAlgorithm } from './probe.js';
import type { OffloadVerdict } from './report.js';

export interface VerdictInput {
  engine: string;
  algo: string;
  /** An engine failure openssl printed during the engine run. */
  outputFailure?: string;
  /** devcrypto and cryptodev talk to /dev/crypto: whether the engine run's openssl was seen holding it open. */
  devCryptoOpened?: boolean;
  /** devcrypto's DUMP_INFO line for the algorithm. */
  dumpInfo?: DriverInfo;
  /** The highest-priority kernel driver for the algorithm (/proc/crypto). */
  kernelDriver?: KernelAlgorithm;
  /** Interrupts that fired during the engine run. */
  interrupts: Array<{ irq: string; name: string; count: number }>;
  /** user + system CPU of the engine run, per second of wall time. */
  cpuShare?: number;
}

export const usesDevCrypto = (engine: string) => engine === 'devcrypto' || engine === 'cryptodev';

export function offloadVerdict(v: VerdictInput): OffloadVerdict {
  const evidence: string[] = [];
  const driver = v.dumpInfo?.driver ?? v.kernelDriver?.driver;
  const crypto = v.interrupts.filter((i) => CRYPTO_IRQ.test(i.name) && i.count >= 10);
  if (v.devCryptoOpened) evidence.push('openssl held /dev/crypto open during the engine run');
  if (v.dumpInfo?.driver) evidence.push(`devcrypto DUMP_INFO: ${v.dumpInfo.name} by driver ${v.dumpInfo.driver} (${v.dumpInfo.accelerated})`);
  if (v.kernelDriver)
    evidence.push(
      `/proc/crypto: ${v.kernelDriver.name} goes to ${v.kernelDriver.driver} (priority ${v.kernelDriver.priority}, module ${v.kernelDriver.module})`,
    );
  for (const i of crypto.slice(0, 3)) evidence.push(`interrupt ${i.irq} (${i.name}) fired ${i.count} times`);
  if (v.cpuShare !== undefined) evidence.push(`the engine run kept ${(100 * v.cpuShare).toFixed(0)}% of a CPU busy (user + system)`);
  const no = (reason: string): OffloadVerdict => ({ status: 'not-offload', reason, evidence, ...(driver ? { driver } : {}) });

  if (v.outputFailure) return no(`the engine failed and openssl went on in software: ${v.outputFailure}`);
  if (usesDevCrypto(v.engine) && v.devCryptoOpened === false) return no('openssl never opened /dev/crypto during the engine run: it did the work itself');
  if (v.dumpInfo?.sessionFailed)
    return no(`the kernel has no driver for ${v.dumpInfo.name} behind /dev/crypto (CIOCGSESSION failed): openssl did it in software`);
  if (v.dumpInfo?.accelerated === 'software') return no(`the kernel driver ${driver} is software: the CPU did the work, in the kernel`);
  if (driver && cpuDriver(driver))
    return no(`the kernel driver ${driver} runs on the CPU (generic code or CPU instructions): the CPU did the work, in the kernel`);
  if (v.dumpInfo?.accelerated === 'hw accelerated')
    return { status: 'offload', reason: `the kernel driver ${driver} is hardware (devcrypto DUMP_INFO)`, evidence, driver: driver! };
  if (driver && crypto.length > 0) return { status: 'offload', reason: `the kernel driver ${driver} served it and crypto interrupts fired`, evidence, driver };
  return {
    status: 'unproven',
    reason: driver
      ? `the kernel driver ${driver} is not known to run on the CPU, but nothing shows hardware at work (no crypto interrupt fired)`
      : `armkit could not tell which kernel driver served ${v.algo}`,
    evidence,
    ...(driver ? { driver } : {}),
  };
}
