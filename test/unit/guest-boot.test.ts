/**
 * Whether QEMU started the guest (src/guest/boot.ts), judged from how QEMU ended, its own messages and the serial
 * console. The messages are QEMU 7.2's own words, seen when its firmware files were absent.
 */
import { describe, expect, it } from 'vitest';
import { judgeBoot, missingFile, qemuMessages } from '../../src/guest/boot.js';
import type { RunOutcome } from '../../src/proc/runner.js';

const ended = (exitCode: number | undefined, tail: string[], timedOut = false): RunOutcome => ({ exitCode, signal: undefined, timedOut, tail });
const BOOTED = 'Booting Linux on physical CPU 0x0\n...\nARMKIT:BOOT 6.1.0-57-arm64 aarch64\nARMKIT:CHECK kernel-release pass\n';

describe('judgeBoot', () => {
  it("a missing iPXE ROM: QEMU exits at once, a missing prerequisite naming QEMU's words and the packages", () => {
    const error = judgeBoot('qemu-system-aarch64', ended(1, ['qemu-system-aarch64: failed to find romfile "efi-virtio.rom"']), '', '/l/qemu.log')!;
    expect(error.kind).toBe('prerequisite');
    expect(error.exitCode).toBe(4);
    expect(error.message).toBe('qemu-system-aarch64 could not start the guest: failed to find romfile "efi-virtio.rom"');
    expect(error.details).toContain('qemu: qemu-system-aarch64: failed to find romfile "efi-virtio.rom"');
    expect(error.details.at(-1)).toBe(
      'efi-virtio.rom is a file QEMU loads at start: install it with "apt-get install ipxe-qemu" or "dnf install ipxe-roms-qemu" (or run "armkit doctor --for test --fix").',
    );
    expect(error.logFile).toBe('/l/qemu.log');
  });

  it('a missing PC BIOS names seabios', () => {
    const error = judgeBoot('qemu-system-x86_64', ended(1, ["qemu: could not load PC BIOS 'bios-256k.bin'"]), '')!;
    expect(error.kind).toBe('prerequisite');
    expect(error.message).toBe("qemu-system-x86_64 could not start the guest: qemu: could not load PC BIOS 'bios-256k.bin'");
    expect(error.details.at(-1)).toContain('"apt-get install seabios" or "dnf install seabios-bin"');
  });

  it("a missing option ROM hangs QEMU until the timeout: still QEMU's failure, not the checks'", () => {
    const tail = [
      "Could not open option rom 'linuxboot_dma.bin': No such file or directory",
      'qemu-system-x86_64: terminating on signal 15 from pid 1 (timeout)',
    ];
    const error = judgeBoot('qemu-system-x86_64', ended(undefined, tail, true), 'SeaBIOS (version 1.16.2)\nBooting from ROM...\n')!;
    expect(error.kind).toBe('prerequisite');
    expect(error.details.at(-1)).toContain('"apt-get install qemu-system-data"');
    // armkit's own stop of QEMU is not QEMU's message.
    expect(error.details.some((d) => d.includes('terminating on signal'))).toBe(false);
  });

  it("a bad argument is a failed step with QEMU's words", () => {
    const error = judgeBoot('qemu-system-arm', ended(1, ["qemu-system-arm: unable to find CPU model 'cortex-z9'"]), '')!;
    expect(error.kind).toBe('step-failed');
    expect(error.message).toBe("qemu-system-arm could not start the guest: unable to find CPU model 'cortex-z9'");
  });

  it('a guest that reached /init is judged by its checks, however QEMU ended', () => {
    expect(judgeBoot('qemu-system-aarch64', ended(0, []), BOOTED)).toBeUndefined();
    expect(judgeBoot('qemu-system-aarch64', ended(undefined, ['qemu-system-aarch64: terminating on signal 15'], true), BOOTED)).toBeUndefined();
  });

  it("a kernel that booted but never reached /init is the report's to explain (its serial output)", () => {
    expect(judgeBoot('qemu-system-aarch64', ended(0, []), 'Kernel panic - not syncing: No working init found.\n')).toBeUndefined();
    expect(
      judgeBoot(
        'qemu-system-aarch64',
        ended(undefined, ['qemu-system-aarch64: terminating on signal 15 from pid 9 (timeout)'], true),
        '[ 0.0] Linux version 6.1\n',
      ),
    ).toBeUndefined();
  });

  it("QEMU failing silently is still reported as QEMU's failure, with its exit code", () => {
    const error = judgeBoot('qemu-system-aarch64', ended(3, []), '')!;
    expect(error.message).toBe('qemu-system-aarch64 could not start the guest: exit code 3');
  });
});

describe('QEMU messages', () => {
  it("drop armkit's log header and QEMU's answer to armkit's own stop", () => {
    expect(qemuMessages(['$ qemu-system-arm -M virt', '# in /w', '', 'warning: x', 'qemu-system-arm: terminating on signal 15 from pid 2'])).toEqual([
      'warning: x',
    ]);
  });

  it('find the file of each known wording', () => {
    expect(missingFile(['failed to find romfile "efi-e1000e.rom"'])).toBe('efi-e1000e.rom');
    expect(missingFile(["qemu: could not load PC BIOS 'bios-256k.bin'"])).toBe('bios-256k.bin');
    expect(missingFile(["Could not open option rom 'linuxboot_dma.bin': No such file or directory"])).toBe('linuxboot_dma.bin');
    expect(missingFile(['qemu-system-aarch64: -cpu foo: unable to find CPU model'])).toBeUndefined();
  });
});
