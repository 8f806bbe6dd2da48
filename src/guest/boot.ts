/**
 * Whether QEMU started the guest at all. QEMU's exit status says nothing about the checks (the serial log does),
 * but a QEMU that exits at once, or prints errors while the guest says nothing, is the real failure: a missing
 * ROM or firmware, a bad argument. Then the user must hear QEMU's own words, not a list of checks that "never
 * reported".
 */
import { ArmkitError } from '../errors.js';
import { installCommands, qemuFilePackages } from '../prereqs.js';
import type { RunOutcome } from '../proc/runner.js';

/** QEMU's own lines from its log: what it printed, without armkit's command header or its answer to our timeout. */
export function qemuMessages(lines: string[]): string[] {
  return lines.filter((l) => l.trim() !== '' && !l.startsWith('$ ') && !l.startsWith('# in ') && !/terminating on signal \d+/.test(l));
}

/** The firmware or ROM file a QEMU message says it could not load. */
export function missingFile(messages: string[]): string | undefined {
  for (const line of messages) {
    const m =
      /failed to find romfile "([^"]+)"/.exec(line) ??
      /could not load PC BIOS '([^']+)'/.exec(line) ??
      /Could not open option rom '([^']+)'/.exec(line) ??
      /could not load (?:firmware|bios) '?([^':]+)'?/i.exec(line);
    if (m) return m[1]!.split('/').pop()!;
  }
  return undefined;
}

/**
 * Judges one QEMU run from how it ended and what the guest printed. Returns an error when QEMU could not start the
 * guest; undefined when the guest ran (its checks are then read from the serial log).
 */
export function judgeBoot(binary: string, outcome: RunOutcome, serial: string, logFile?: string): ArmkitError | undefined {
  const guestSpoke = serial.includes('ARMKIT:BOOT');
  if (guestSpoke) return undefined;
  const messages = qemuMessages(outcome.tail);
  const exitedAtOnce = !outcome.timedOut && outcome.exitCode !== 0;
  // A guest that booted but never reached /init (kernel panic, wrong console) is the report's to explain.
  if (!exitedAtOnce && messages.length === 0) return undefined;
  if (!exitedAtOnce && serial.trim() !== '' && missingFile(messages) === undefined) return undefined;
  const file = missingFile(messages);
  const packages = file ? qemuFilePackages(file) : undefined;
  const first = messages.find((m) => m.includes(binary)) ?? messages[0] ?? `exit code ${outcome.exitCode ?? outcome.signal}`;
  const said = first.replace(new RegExp(`^${binary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `), '');
  const details = [...messages.slice(-10).map((m) => `qemu: ${m}`)];
  if (file) {
    const how = packages
      ? installCommands(packages)
          .map((c) => `"${c}"`)
          .join(' or ')
      : "your distribution's QEMU firmware package";
    details.push(`${file} is a file QEMU loads at start: install it with ${how} (or run "armkit doctor --for test --fix").`);
  }
  return new ArmkitError(file ? 'prerequisite' : 'step-failed', `${binary} could not start the guest: ${said}`, { details, ...(logFile ? { logFile } : {}) });
}
