/**
 * The warm reboot's plan: unload order from /proc/modules (holders first), the kernel image and initramfs of the
 * Fedora/RHEL and Debian layouts, /proc/cmdline reused, kexec --load or -s under lockdown, systemctl kexec or
 * kexec --exec, and every refusal; and the script it becomes.
 */
import { describe, expect, it } from 'vitest';
import { ArmkitError } from '../../src/errors.js';
import { parseProcModules, planWarmReboot, unloadOrder, type WarmRebootFacts } from '../../src/reboot/plan.js';
import { warmRebootScript } from '../../src/reboot/script.js';

// A desktop with the nvidia family loaded, as /proc/modules lists it (the addresses as a root reads them).
const NVIDIA = `nvidia_drm 77824 4 - Live 0xffffffffc1a2b000 (POE)
nvidia_modeset 1314816 6 nvidia_drm, Live 0xffffffffc18e8000 (POE)
nvidia_uvm 1458176 0 - Live 0xffffffffc1781000 (POE)
nvidia 56680448 213 nvidia_modeset,nvidia_uvm, Live 0xffffffffbe000000 (POE)
drm_kms_helper 208896 1 nvidia_drm, Live 0xffffffffc1738000
drm 610304 8 nvidia_drm,drm_kms_helper, Live 0xffffffffc1672000
video 65536 0 - Live 0xffffffffc1649000
`;

const REL = '6.1.0-28-amd64';
const debian = (over: Partial<WarmRebootFacts> = {}): WarmRebootFacts => ({
  isRoot: true,
  kexec: '/usr/sbin/kexec',
  runningRelease: REL,
  procModules: NVIDIA,
  builtin: ['ext4', 'crc32c_intel'],
  files: [`/boot/vmlinuz-${REL}`, `/boot/initrd.img-${REL}`],
  lockdown: '[none] integrity confidentiality\n',
  systemd: true,
  graphical: true,
  family: 'debian',
  ...over,
});
const refusal = (fn: () => unknown): ArmkitError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof ArmkitError) return e;
    throw e;
  }
  throw new Error('no refusal');
};

describe('/proc/modules and the unload order', () => {
  it('reads holders, use counts and states', () => {
    const mods = parseProcModules(NVIDIA);
    expect(mods.find((m) => m.name === 'nvidia')).toEqual({
      name: 'nvidia',
      size: 56680448,
      refcount: 213,
      holders: ['nvidia_modeset', 'nvidia_uvm'],
      state: 'Live',
    });
    expect(mods.find((m) => m.name === 'video')!.holders).toEqual([]);
  });
  it('unloads every holder before what it holds: nvidia_drm, nvidia_modeset, nvidia_uvm, then nvidia', () => {
    const { order, absent } = unloadOrder(parseProcModules(NVIDIA), ['nvidia']);
    expect(order.map((o) => o.name)).toEqual(['nvidia_drm', 'nvidia_modeset', 'nvidia_uvm', 'nvidia']);
    expect(order.map((o) => o.why)).toEqual(['it holds nvidia_modeset', 'it holds nvidia', 'it holds nvidia', 'asked for']);
    expect(absent).toEqual([]);
  });
  it('takes a shared holder once, accepts dashes, and reports modules that are not loaded', () => {
    const { order, absent } = unloadOrder(parseProcModules(NVIDIA), ['drm', 'nvidia-modeset', 'cryptodev']);
    expect(order.map((o) => o.name)).toEqual(['nvidia_drm', 'drm_kms_helper', 'drm', 'nvidia_modeset']);
    expect(absent).toEqual(['cryptodev']);
  });
});

describe('the plan', () => {
  it('Debian with systemd: the Debian initrd name, /proc/cmdline reused, systemctl kexec, graphical target left', () => {
    const plan = planWarmReboot(debian(), { unload: ['nvidia'] });
    expect(plan).toMatchObject({
      release: REL,
      image: `/boot/vmlinuz-${REL}`,
      initrd: `/boot/initrd.img-${REL}`,
      fileLoad: false,
      handover: 'systemctl',
      leaveGraphical: true,
    });
    expect(plan.load).toEqual(['kexec', '--load', `/boot/vmlinuz-${REL}`, `--initrd=/boot/initrd.img-${REL}`, '--reuse-cmdline']);
    // nvidia's 213 uses are mostly the X server's: left to the script, after the graphical target is gone.
    expect(plan.notes.some((n) => n.startsWith('nvidia is in use 211 time(s) by something that is not a module'))).toBe(true);
  });
  it('Fedora/RHEL: /boot/initramfs-REL.img, or the image in /lib/modules/REL; no systemd: kexec --exec', () => {
    const rel = '6.11.4-301.fc41.aarch64';
    const facts = debian({
      runningRelease: rel,
      family: 'fedora',
      systemd: false,
      graphical: false,
      files: [`/lib/modules/${rel}/vmlinuz`, `/boot/initramfs-${rel}.img`],
    });
    const plan = planWarmReboot(facts, { unload: [] });
    expect(plan).toMatchObject({ image: `/lib/modules/${rel}/vmlinuz`, initrd: `/boot/initramfs-${rel}.img`, handover: 'kexec', leaveGraphical: false });
  });
  it('a locked-down kernel refuses kexec_load: kexec -s', () => {
    const plan = planWarmReboot(debian({ lockdown: 'none [integrity] confidentiality\n' }), { unload: [] });
    expect(plan.load.slice(0, 3)).toEqual(['kexec', '-s', '--load']);
    expect(plan.fileLoad).toBe(true);
  });
  it('--kernel boots another installed release', () => {
    const other = '6.1.0-30-amd64';
    const plan = planWarmReboot(debian({ files: [`/boot/vmlinuz-${other}`, `/boot/initrd.img-${other}`] }), { kernel: other, unload: [] });
    expect(plan.image).toBe(`/boot/vmlinuz-${other}`);
    expect(plan.notes).toContain(`into ${other}, not the running ${REL}`);
  });
});

describe('refusals, before anything changes', () => {
  it('not root', () => {
    expect(refusal(() => planWarmReboot(debian({ isRoot: false }), { unload: [] })).message).toBe(
      'armkit reboot --warm must run as root: it unloads modules and loads a kernel with kexec.',
    );
  });
  it('no kexec: the install command, with the Debian preseed', () => {
    const e = refusal(() => planWarmReboot(debian({ kexec: undefined }), { unload: [] }));
    expect(e.exitCode).toBe(4);
    expect(e.details[0]).toBe("Install it: echo 'kexec-tools kexec-tools/load_kexec boolean false' | debconf-set-selections && apt-get install kexec-tools");
    expect(refusal(() => planWarmReboot(debian({ kexec: undefined, family: 'fedora' }), { unload: [] })).details).toEqual([
      'Install it: dnf install kexec-tools',
    ]);
  });
  it('no image, no initramfs', () => {
    expect(refusal(() => planWarmReboot(debian({ files: [] }), { unload: [] })).message).toMatch(
      /^No kernel image for 6\.1\.0-28-amd64: looked for \/boot\/vmlinuz-6\.1\.0-28-amd64, /,
    );
    expect(refusal(() => planWarmReboot(debian({ files: [`/boot/vmlinuz-${REL}`] }), { unload: [] })).message).toBe(
      `No initramfs for ${REL}: looked for /boot/initramfs-${REL}.img, /boot/initrd.img-${REL}, /boot/initrd-${REL}.`,
    );
  });
  it('a module held by a process, with no graphical session to leave: named, nothing changed', () => {
    const mods = 'cryptodev 69632 1 - Live 0xffffffffc0a00000 (OE)\n';
    const e = refusal(() => planWarmReboot(debian({ procModules: mods, graphical: false }), { unload: ['cryptodev'] }));
    expect(e.message).toBe(
      'Cannot unload cryptodev: cryptodev is in use 1 time(s) by something that is not a module: a process with its device open (fuser -v /dev/...), or a mount.',
    );
  });
  it('a module built into the kernel', () => {
    expect(refusal(() => planWarmReboot(debian(), { unload: ['ext4'] })).message).toBe(`ext4 is built into the kernel ${REL}: it cannot be unloaded.`);
  });
  it('--dry-run and --script need neither root nor kexec here: the script checks where it runs', () => {
    const plan = planWarmReboot(debian({ isRoot: false, kexec: undefined }), { unload: [], scriptOnly: true });
    expect(plan.notes).toContain('kexec is not installed here: the script needs kexec-tools where it runs');
  });
});

describe('the script', () => {
  it('loads first, leaves the graphical target, unloads holders first, then hands over', () => {
    const text = warmRebootScript(planWarmReboot(debian(), { unload: ['nvidia'] }), 'debian', '0.1.0');
    const at = (s: string) => {
      const i = text.indexOf(s);
      expect(i, s).toBeGreaterThan(-1);
      return i;
    };
    expect(text.startsWith('#!/bin/sh\n')).toBe(true);
    const load = at(`kexec --load /boot/vmlinuz-${REL} --initrd=/boot/initrd.img-${REL} --reuse-cmdline || fail`);
    const leave = at('systemctl isolate multi-user.target');
    const unload = at('for m in nvidia_drm nvidia_modeset nvidia_uvm nvidia; do');
    const hand = at('systemctl kexec || fail');
    expect(load < leave && leave < unload && unload < hand).toBe(true);
    expect(text).toContain('restore() { kexec --unload; systemctl isolate graphical.target; }');
    expect(text).not.toContain('kexec --exec');
  });
  it('without systemd: no graphical target, kexec --exec', () => {
    const text = warmRebootScript(planWarmReboot(debian({ systemd: false, graphical: false }), { unload: [] }), 'debian', '0.1.0');
    expect(text).not.toContain('systemctl');
    expect(text).toContain('kexec --exec || fail');
    expect(text).not.toContain('for m in');
  });
  it('refuses values a shell would interpret', () => {
    expect(() => planWarmReboot(debian(), { kernel: '6.1; reboot', unload: [] })).toThrow(/expected a kernel release/);
  });
});
