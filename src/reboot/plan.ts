/**
 * The plan of `armkit reboot --warm`: a kexec into a kernel (the running one by default) that skips firmware and
 * POST. From the machine's facts (read by commands/reboot.ts) it decides the kernel image and initramfs (Fedora/RHEL
 * and Debian layouts), the order in which to unload modules (holders first, from /proc/modules), how to load the
 * kernel (`kexec --load`, or `kexec -s` under lockdown) and how to hand over (`systemctl kexec` when systemd runs,
 * `kexec --exec` otherwise), or refuses with what to do. Pure.
 */
import { type ArmkitError, missing, usageError } from '../errors.js';

export interface LoadedModule {
  name: string;
  size: number;
  /** The kernel's use count: module holders plus anything else (a process with its device open). */
  refcount: number;
  /** Modules that use this one. */
  holders: string[];
  state: string;
}

/** /proc/modules: `name size refcount holders,|- state address`. */
export function parseProcModules(text: string): LoadedModule[] {
  const out: LoadedModule[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5 || !/^\d+$/.test(f[1]!)) continue;
    out.push({
      name: f[0]!,
      size: Number(f[1]),
      refcount: Number(f[2]),
      holders: f[3] === '-' ? [] : f[3]!.split(',').filter(Boolean),
      state: f[4]!,
    });
  }
  return out;
}

export interface WarmRebootFacts {
  isRoot: boolean;
  /** Where kexec is, if it is installed. */
  kexec?: string;
  runningRelease: string;
  procModules: string;
  /** Modules built into the target kernel (modules.builtin): they cannot be unloaded. */
  builtin: string[];
  /** Files that exist among the candidates (kernel images, initramfs) of the release. */
  files: string[];
  /** /sys/kernel/security/lockdown, when there is one: `[none] integrity confidentiality`. */
  lockdown?: string;
  /** systemd runs this machine (/run/systemd/system). */
  systemd: boolean;
  /** graphical.target is active now. */
  graphical: boolean;
  family: 'debian' | 'fedora' | 'unknown';
}

export interface WarmRebootOptions {
  kernel?: string;
  unload: string[];
  /** Only print or write the script (--dry-run, --script): no root or kexec needed here, the script checks there. */
  scriptOnly?: boolean;
}

export interface UnloadItem {
  name: string;
  /** Why it is unloaded: asked for, or it holds one that was. */
  why: string;
}

export interface WarmRebootPlan {
  release: string;
  image: string;
  initrd: string;
  /** Modules in the order rmmod takes them: every holder before what it holds. */
  unload: UnloadItem[];
  /** kexec_file_load (`-s`): the kernel is locked down, which refuses kexec_load. */
  fileLoad: boolean;
  /** `kexec --load ...`: the kernel command line is /proc/cmdline's (`--reuse-cmdline`). */
  load: string[];
  handover: 'systemctl' | 'kexec';
  /** Leave graphical.target first (the script checks that it is active when it runs). */
  leaveGraphical: boolean;
  notes: string[];
}

/** Where each distribution keeps the kernel and its initramfs. */
export function imageCandidates(release: string): string[] {
  return [`/boot/vmlinuz-${release}`, `/lib/modules/${release}/vmlinuz`, `/usr/lib/modules/${release}/vmlinuz`, `/boot/Image-${release}`];
}

export function initrdCandidates(release: string): string[] {
  // Fedora/RHEL (dracut), Debian/Ubuntu (initramfs-tools), openSUSE.
  return [`/boot/initramfs-${release}.img`, `/boot/initrd.img-${release}`, `/boot/initrd-${release}`];
}

/** kexec-tools' install command; on Debian the package would otherwise turn every reboot into a kexec. */
export function kexecInstall(family: WarmRebootFacts['family']): string[] {
  const debian = `echo 'kexec-tools kexec-tools/load_kexec boolean false' | debconf-set-selections && apt-get install kexec-tools`;
  const fedora = 'dnf install kexec-tools';
  return family === 'debian' ? [debian] : family === 'fedora' ? [fedora] : [debian, fedora];
}

/** Holders first: each module after every module that holds it, the whole family of each one asked for. */
export function unloadOrder(modules: LoadedModule[], wanted: string[]): { order: UnloadItem[]; absent: string[] } {
  const byName = new Map(modules.map((m) => [m.name, m]));
  const order: UnloadItem[] = [];
  const absent: string[] = [];
  const visiting = new Set<string>();
  const visit = (name: string, why: string) => {
    if (order.some((o) => o.name === name) || visiting.has(name)) return;
    const m = byName.get(name);
    if (!m) return;
    visiting.add(name);
    for (const h of m.holders) visit(h, `it holds ${name}`);
    visiting.delete(name);
    order.push({ name, why });
  };
  for (const raw of wanted) {
    // The kernel spells module names with underscores; modprobe accepts dashes.
    const name = raw.replace(/-/g, '_');
    if (!byName.has(name)) absent.push(raw);
    else visit(name, 'asked for');
  }
  return { order, absent };
}

export function planWarmReboot(facts: WarmRebootFacts, options: WarmRebootOptions): WarmRebootPlan {
  const notes: string[] = [];
  if (!facts.isRoot && !options.scriptOnly)
    throw missing('armkit reboot --warm must run as root: it unloads modules and loads a kernel with kexec.', ['Run it with sudo.']);
  if (!facts.kexec && options.scriptOnly) notes.push('kexec is not installed here: the script needs kexec-tools where it runs');
  else if (!facts.kexec) {
    throw missing('kexec not found: the warm reboot needs kexec-tools.', [
      ...kexecInstall(facts.family).map((c) => `Install it: ${c}`),
      ...(facts.family !== 'fedora'
        ? ["On Debian, the preseed keeps kexec-tools from turning every reboot into a kexec (its question's default, even when nobody is asked)."]
        : []),
    ]);
  }
  const release = options.kernel ?? facts.runningRelease;
  if (!/^[\w.+~-]+$/.test(release)) throw usageError(`--kernel ${release}: expected a kernel release such as ${facts.runningRelease}.`);
  const image = imageCandidates(release).find((f) => facts.files.includes(f));
  if (!image) throw missing(`No kernel image for ${release}: looked for ${imageCandidates(release).join(', ')}.`, ['Pass --kernel with an installed release.']);
  const initrd = initrdCandidates(release).find((f) => facts.files.includes(f));
  if (!initrd) {
    throw missing(`No initramfs for ${release}: looked for ${initrdCandidates(release).join(', ')}.`, [
      'Make one first (dracut -f --kver RELEASE on Fedora/RHEL, update-initramfs -c -k RELEASE on Debian).',
    ]);
  }

  const modules = parseProcModules(facts.procModules);
  for (const name of options.unload) {
    if (facts.builtin.includes(name.replace(/-/g, '_'))) throw missing(`${name} is built into the kernel ${facts.runningRelease}: it cannot be unloaded.`);
  }
  const { order, absent } = unloadOrder(modules, options.unload);
  for (const a of absent) notes.push(`${a} is not loaded: nothing to unload`);
  for (const item of order) {
    const m = modules.find((x) => x.name === item.name)!;
    const others = m.refcount - m.holders.length;
    if (others > 0) {
      const held = `${item.name} is in use ${others} time(s) by something that is not a module${m.holders.length ? ` (besides ${m.holders.join(', ')})` : ''}: a process with its device open (fuser -v /dev/...), or a mount`;
      if (facts.systemd && facts.graphical)
        notes.push(`${held}; the graphical session may be that process: the script leaves graphical.target first and checks again`);
      else throw missing(`Cannot unload ${item.name}: ${held}.`, ['Stop what uses it and run armkit reboot --warm again; nothing was changed.']);
    }
    if (item.why !== 'asked for') notes.push(`${item.name} goes first: ${item.why}`);
  }

  const locked = Boolean(facts.lockdown && !/\[none\]/.test(facts.lockdown));
  if (locked) notes.push(`the kernel is locked down (${facts.lockdown!.trim()}): kexec -s (kexec_file_load), which needs a signed image`);
  const load = ['kexec', ...(locked ? ['-s'] : []), '--load', image, `--initrd=${initrd}`, '--reuse-cmdline'];
  const handover = facts.systemd ? 'systemctl' : 'kexec';
  if (release !== facts.runningRelease) notes.push(`into ${release}, not the running ${facts.runningRelease}`);
  return { release, image, initrd, unload: order, fileLoad: locked, load, handover, leaveGraphical: facts.systemd, notes };
}

/** The refusal armkit gives when stdin cannot confirm. */
export function confirmationNeeded(): ArmkitError {
  return usageError('armkit reboot --warm reboots this machine: confirm on a terminal, or pass --yes.');
}
