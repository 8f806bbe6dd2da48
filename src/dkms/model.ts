/**
 * What a dkms.conf's variables (src/dkms/conf.ts) mean for one kernel, as DKMS reads them: the make command, the
 * modules and where they go, the patches for this kernel, what the package excludes. Values are data from an
 * archive: names, paths and make words are checked to be plain, and anything else is refused with the field named.
 * Pure.
 */
import semver from 'semver';
import { ArmkitError } from '../errors.js';
import { DKMS_TREE, type DkmsContext, type DkmsValue, type DkmsVariables, SOURCE_TREE } from './conf.js';

/** Fields armkit reads. */
export const SUPPORTED_FIELDS = [
  'PACKAGE_NAME',
  'PACKAGE_VERSION',
  'MAKE',
  'MAKE_MATCH',
  'CLEAN',
  'BUILT_MODULE_NAME',
  'BUILT_MODULE_LOCATION',
  'DEST_MODULE_NAME',
  'DEST_MODULE_LOCATION',
  'PATCH',
  'PATCH_MATCH',
  'BUILD_EXCLUSIVE_KERNEL',
  'BUILD_EXCLUSIVE_KERNEL_MIN',
  'BUILD_EXCLUSIVE_KERNEL_MAX',
  'BUILD_EXCLUSIVE_ARCH',
  'BUILD_EXCLUSIVE_CONFIG',
  'AUTOINSTALL',
  'MODULES_CONF',
] as const;

/** DKMS fields armkit does not act on, and what that means for the packages. */
export const UNSUPPORTED_FIELDS: Record<string, string> = {
  POST_ADD: 'a script DKMS runs when the source is added; armkit does not run it',
  PRE_INSTALL: 'a script DKMS runs before installing; the kmod package has no such scriptlet',
  POST_INSTALL: 'a script DKMS runs after installing; the kmod package has no such scriptlet',
  POST_REMOVE: 'a script DKMS runs after removing; the kmod package has no such scriptlet',
  BUILD_DEPENDS: 'other DKMS modules to build first; build those recipes yourself',
  BUILD_DEPENDS_REBUILD: 'rebuild when a dependency changes; not applicable to per-kernel packages',
  STRIP: 'whether DKMS strips the module; rpm decides here',
  REMAKE_INITRD: 'rebuild the initramfs after install; the kmod package does not',
  MODULES_CONF_ALIAS_TYPE: 'modprobe alias handling of DKMS 2; not applied',
  MODULES_CONF_OBSOLETES: 'obsolete module names of DKMS 2; not applied',
  MODULES_CONF_OBSOLETE_ONLY: 'obsolete module names of DKMS 2; not applied',
  OBSOLETE_BY: 'a kernel that makes the module obsolete; not applied',
  NO_WEAK_MODULES: 'weak-modules handling; the kmod package does not use weak-modules',
  SIGN_TOOL: "DKMS's signing hook; use armkit build --module-key/--module-cert",
};

/** A make word: plain characters only, plus the two places armkit fills in per build. */
export type MakePart = { text: string } | { token: 'kernel_dir' | 'build_dir' };
export type MakeWord = MakePart[];

export interface DkmsModule {
  /** The module's name as installed (DEST_MODULE_NAME, else BUILT_MODULE_NAME). */
  name: string;
  /** Where make leaves it, relative to the build directory. */
  built: string;
  /** Its directory under /lib/modules/<release>/, without a leading slash (DEST_MODULE_LOCATION). */
  dest: string;
}

export interface DkmsBuild {
  packageName: string;
  packageVersion: string;
  make: MakeWord[];
  clean?: MakeWord[];
  modules: DkmsModule[];
  /** Patch files under patches/ that apply to this kernel (PATCH[n] whose PATCH_MATCH[n] matches), in order. */
  patches: string[];
  /** BUILD_EXCLUSIVE_CONFIG: CONFIG_X (must be y or m) or !CONFIG_X (must not be), checked against .config. */
  exclusiveConfig: string[];
  autoinstall: boolean;
  /** MODULES_CONF lines, for /etc/modprobe.d/<package>.conf. */
  modprobeConf: string[];
  /**
   * PRE_BUILD and POST_BUILD: a script of the source tree and its arguments, run in the build directory before and
   * after make (DKMS runs them there, and skips one that is not executable). The first word is the script's path.
   */
  preBuild?: MakeWord[];
  postBuild?: MakeWord[];
  /** Fields armkit does not act on, each with what that means. */
  unsupported: string[];
  /** What the user should know (renamed version, default locations). */
  notes: string[];
}

const NAME = /^[A-Za-z0-9_-]+$/;
const PLAIN_WORD = /^[A-Za-z0-9._/+=:,@~^-]+$/;
const PLAIN_REL = /^[A-Za-z0-9._+/-]+$/;

function scalar(v: DkmsValue | undefined): string | undefined {
  if (!v) return undefined;
  return 'scalar' in v ? v.scalar : v.array.get('0');
}

/** An array field by index ("MAKE" alone is MAKE[0], as in bash). */
function indexed(v: DkmsValue | undefined): Map<number, string> {
  const out = new Map<number, string>();
  if (!v) return out;
  if ('scalar' in v) out.set(0, v.scalar);
  else for (const [k, value] of v.array) if (/^\d+$/.test(k)) out.set(Number(k), value);
  return out;
}

function refuse(what: string, field: string, value: string, why: string): never {
  throw new ArmkitError('recipe', `${what}: ${field}=${JSON.stringify(value)} ${why}.`);
}

/** A DKMS regular expression (extended, as DKMS matches them with bash's =~), tested against a value. */
function matches(pattern: string, value: string, what: string, field: string): boolean {
  try {
    return new RegExp(pattern).test(value);
  } catch {
    return refuse(what, field, pattern, 'is not a regular expression armkit can read');
  }
}

/** Shell words of a MAKE/CLEAN line, quotes honoured; anything a shell would act on is refused. */
export function makeWords(line: string, ctx: DkmsContext, packageName: string, packageVersion: string, what: string, field: string): MakeWord[] {
  const words: string[] = [];
  let current: string | undefined;
  let quote: string | undefined;
  for (const c of line) {
    if (quote) {
      if (c === quote) quote = undefined;
      else current = (current ?? '') + c;
    } else if (c === "'" || c === '"') {
      quote = c;
      current = current ?? '';
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (current !== undefined) words.push(current);
      current = undefined;
    } else current = (current ?? '') + c;
  }
  if (quote) refuse(what, field, line, 'has an unclosed quote');
  if (current !== undefined) words.push(current);
  if (words.length === 0) refuse(what, field, line, 'is empty');
  // The build directory DKMS uses, and the source tree it copies from: the same directory in an rpmbuild.
  const places: Array<[string, MakePart]> = [
    [`${DKMS_TREE}/${packageName}/${packageVersion}/build`, { token: 'build_dir' }],
    [`${DKMS_TREE}/${ctx.module}/${ctx.module_version}/build`, { token: 'build_dir' }],
    [`${SOURCE_TREE}/${packageName}-${packageVersion}`, { token: 'build_dir' }],
    [ctx.kernel_source_dir, { token: 'kernel_dir' }],
  ];
  return words.map((word) => {
    const parts: MakePart[] = [];
    let rest = word;
    while (rest.length > 0) {
      const hit = places
        .map(([path, part]) => ({ at: rest.indexOf(path), path, part }))
        .filter((h) => h.at >= 0 && h.path.length > 0)
        .sort((a, b) => a.at - b.at || b.path.length - a.path.length)[0];
      if (!hit) {
        parts.push({ text: rest });
        break;
      }
      if (hit.at > 0) parts.push({ text: rest.slice(0, hit.at) });
      parts.push(hit.part);
      rest = rest.slice(hit.at + hit.path.length);
    }
    for (const p of parts) {
      if ('text' in p && !PLAIN_WORD.test(p.text)) {
        refuse(what, field, line, `has the word ${JSON.stringify(word)}, with characters a shell would interpret (armkit runs make with plain words only)`);
      }
    }
    return parts;
  });
}

function relPath(value: string, what: string, field: string): string {
  const p = value.replace(/^\.\//, '').replace(/\/+$/, '');
  if (p === '' || p === '.') return '';
  if (!PLAIN_REL.test(p) || p.startsWith('/') || p.split('/').includes('..'))
    refuse(what, field, value, 'must be a plain relative path inside the source tree');
  return p;
}

/** DKMS's `arch` for an RPM architecture: what `uname -m` prints on the target. */
export function dkmsArch(rpmArch: string): string {
  if (rpmArch === 'armv7hl') return 'armv7l';
  return rpmArch;
}

/** The upstream kernel version (6.1.0) of a release (6.1.0-57-arm64), for the _MIN/_MAX fields. */
function kernelSemver(release: string): string | undefined {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release);
  return m ? `${m[1]}.${m[2]}.${m[3] ?? '0'}` : undefined;
}

/**
 * Reads the variables for one kernel. A kernel or arch the package excludes (BUILD_EXCLUSIVE_*) is refused with the
 * package's own reason, as DKMS refuses it.
 */
export function interpretDkms(vars: DkmsVariables, ctx: DkmsContext, what: string): DkmsBuild {
  const get = (name: string) => scalar(vars.get(name));
  const packageName = get('PACKAGE_NAME') ?? refuse(what, 'PACKAGE_NAME', '', 'is required');
  let packageVersion = get('PACKAGE_VERSION') ?? refuse(what, 'PACKAGE_VERSION', '', 'is required');
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(packageName)) refuse(what, 'PACKAGE_NAME', packageName, 'must be letters, digits and ._+-');
  const notes: string[] = [];
  if (!/^[A-Za-z0-9._+~^-]+$/.test(packageVersion)) refuse(what, 'PACKAGE_VERSION', packageVersion, 'is not a version armkit can use');
  if (packageVersion.includes('-')) {
    notes.push(`PACKAGE_VERSION ${packageVersion} has "-", which an RPM version cannot: the packages say ${packageVersion.replaceAll('-', '_')}.`);
    packageVersion = packageVersion.replaceAll('-', '_');
  }
  const dkmsVersion = get('PACKAGE_VERSION')!;

  // BUILD_EXCLUSIVE_*: DKMS refuses to build for a kernel or arch they exclude; so does armkit, with their reason.
  const exclusiveKernel = get('BUILD_EXCLUSIVE_KERNEL');
  if (exclusiveKernel && !matches(exclusiveKernel, ctx.kernelver, what, 'BUILD_EXCLUSIVE_KERNEL')) {
    throw new ArmkitError(
      'usage',
      `${packageName} ${dkmsVersion} excludes Linux ${ctx.kernelver}: its dkms.conf sets BUILD_EXCLUSIVE_KERNEL="${exclusiveKernel}", which this release does not match.`,
    );
  }
  const kv = kernelSemver(ctx.kernelver);
  const min = get('BUILD_EXCLUSIVE_KERNEL_MIN');
  const max = get('BUILD_EXCLUSIVE_KERNEL_MAX');
  for (const [field, bound, ok] of [
    ['BUILD_EXCLUSIVE_KERNEL_MIN', min, (b: string) => kv !== undefined && semver.gte(kv, b)],
    ['BUILD_EXCLUSIVE_KERNEL_MAX', max, (b: string) => kv !== undefined && semver.lte(kv, b)],
  ] as const) {
    if (!bound) continue;
    const b = semver.coerce(bound)?.version;
    if (!b) refuse(what, field, bound, 'is not a kernel version');
    if (!ok(b)) {
      throw new ArmkitError('usage', `${packageName} ${dkmsVersion} excludes Linux ${ctx.kernelver}: its dkms.conf sets ${field}="${bound}".`);
    }
  }
  const exclusiveArch = get('BUILD_EXCLUSIVE_ARCH');
  if (exclusiveArch && !matches(exclusiveArch, ctx.arch, what, 'BUILD_EXCLUSIVE_ARCH')) {
    throw new ArmkitError(
      'usage',
      `${packageName} ${dkmsVersion} excludes ${ctx.arch}: its dkms.conf sets BUILD_EXCLUSIVE_ARCH="${exclusiveArch}", which this architecture does not match.`,
    );
  }
  const exclusiveConfig = (get('BUILD_EXCLUSIVE_CONFIG') ?? '').split(/\s+/).filter(Boolean);
  for (const c of exclusiveConfig) if (!/^!?CONFIG_[A-Za-z0-9_]+$/.test(c)) refuse(what, 'BUILD_EXCLUSIVE_CONFIG', c, 'must be CONFIG_NAME or !CONFIG_NAME');

  // MAKE[0], or MAKE[n] when MAKE_MATCH[n] matches the kernel (the highest such n); DKMS's default without one.
  const makes = indexed(vars.get('MAKE'));
  const makeMatch = indexed(vars.get('MAKE_MATCH'));
  let makeLine = makes.get(0);
  let makeField = 'MAKE[0]';
  for (const n of [...makes.keys()].filter((k) => k > 0).sort((a, b) => a - b)) {
    const m = makeMatch.get(n);
    if (m && matches(m, ctx.kernelver, what, `MAKE_MATCH[${n}]`)) {
      makeLine = makes.get(n);
      makeField = `MAKE[${n}]`;
    }
  }
  makeLine ??= `make -C ${ctx.kernel_source_dir} M=${DKMS_TREE}/${ctx.module}/${ctx.module_version}/build`;
  const make = makeWords(makeLine, ctx, packageName, dkmsVersion, what, makeField);
  const cleanLine = get('CLEAN');
  const clean = cleanLine ? makeWords(cleanLine, ctx, packageName, dkmsVersion, what, 'CLEAN') : undefined;

  const names = indexed(vars.get('BUILT_MODULE_NAME'));
  const locations = indexed(vars.get('BUILT_MODULE_LOCATION'));
  const destNames = indexed(vars.get('DEST_MODULE_NAME'));
  const destLocations = indexed(vars.get('DEST_MODULE_LOCATION'));
  // DKMS 3: one module named like the package needs no BUILT_MODULE_NAME.
  if (names.size === 0) names.set(0, packageName);
  const modules: DkmsModule[] = [];
  let defaulted = false;
  for (const i of [...names.keys()].sort((a, b) => a - b)) {
    const built = names.get(i)!;
    if (!NAME.test(built)) refuse(what, `BUILT_MODULE_NAME[${i}]`, built, 'must be a module name (letters, digits, _ and -)');
    const name = destNames.get(i) ?? built;
    if (!NAME.test(name)) refuse(what, `DEST_MODULE_NAME[${i}]`, name, 'must be a module name (letters, digits, _ and -)');
    const location = relPath(locations.get(i) ?? '', what, `BUILT_MODULE_LOCATION[${i}]`);
    let dest = destLocations.get(i);
    if (dest === undefined) {
      dest = '/updates/dkms';
      defaulted = true;
    }
    const destRel = relPath(dest.replace(/^\/+/, ''), what, `DEST_MODULE_LOCATION[${i}]`);
    if (!/^(kernel|updates|extra)(\/|$)/.test(destRel))
      refuse(what, `DEST_MODULE_LOCATION[${i}]`, dest, 'must start with /kernel, /updates or /extra, as DKMS requires');
    modules.push({ name, built: location ? `${location}/${built}.ko` : `${built}.ko`, dest: destRel });
  }
  const seen = new Set<string>();
  for (const m of modules) {
    if (seen.has(m.name)) refuse(what, 'BUILT_MODULE_NAME', m.name, 'names the same module twice');
    seen.add(m.name);
  }
  if (defaulted) notes.push('Modules without DEST_MODULE_LOCATION go to /lib/modules/<release>/updates/dkms, where DKMS puts them.');

  const patchFiles = indexed(vars.get('PATCH'));
  const patchMatch = indexed(vars.get('PATCH_MATCH'));
  const patches: string[] = [];
  for (const i of [...patchFiles.keys()].sort((a, b) => a - b)) {
    const file = patchFiles.get(i)!;
    if (!/^[A-Za-z0-9._+-]+$/.test(file)) refuse(what, `PATCH[${i}]`, file, 'must be a file name in the patches/ directory');
    const m = patchMatch.get(i);
    if (m === undefined || m === '' || matches(m, ctx.kernelver, what, `PATCH_MATCH[${i}]`)) patches.push(file);
  }

  const modprobeConf = [...indexed(vars.get('MODULES_CONF')).entries()].sort(([a], [b]) => a - b).map(([, line]) => line);
  for (const line of modprobeConf) {
    if (/[\u0000-\u001f\u007f]/.test(line) || /%/.test(line)) refuse(what, 'MODULES_CONF', line, 'must be one line of modprobe.d text without %');
  }

  // PRE_BUILD/POST_BUILD="script args": DKMS runs $build_dir/script with the words split, from the build directory.
  const hook = (field: 'PRE_BUILD' | 'POST_BUILD'): MakeWord[] | undefined => {
    const line = get(field);
    if (line === undefined || line.trim() === '') return undefined;
    const words = makeWords(line, ctx, packageName, dkmsVersion, what, field);
    const script = words[0]!;
    if (script.length !== 1 || !('text' in script[0]!)) refuse(what, field, line, 'must start with a script inside the source tree');
    if (relPath(script[0].text, what, field) === '') refuse(what, field, line, 'must start with a script inside the source tree');
    return [[{ text: script[0].text.replace(/^\.\//, '') }], ...words.slice(1)];
  };
  const preBuild = hook('PRE_BUILD');
  const postBuild = hook('POST_BUILD');

  const unsupported = Object.keys(UNSUPPORTED_FIELDS)
    .filter((f) => vars.has(f))
    .map((f) => `${f} (${UNSUPPORTED_FIELDS[f]})`);
  return {
    packageName,
    packageVersion,
    make,
    ...(clean ? { clean } : {}),
    modules,
    patches,
    exclusiveConfig,
    autoinstall: /^y(es)?$/i.test(get('AUTOINSTALL') ?? ''),
    modprobeConf,
    ...(preBuild ? { preBuild } : {}),
    ...(postBuild ? { postBuild } : {}),
    unsupported,
    notes,
  };
}

/** Why BUILD_EXCLUSIVE_CONFIG excludes a kernel of this configuration (its CONFIG_ symbols set to y or m), if it does. */
export function excludedByConfig(exclusiveConfig: string[], config: Set<string>): string | undefined {
  for (const c of exclusiveConfig) {
    if (c.startsWith('!') && config.has(c.slice(1))) return `it sets ${c.slice(1)}`;
    if (!c.startsWith('!') && !config.has(c)) return `it lacks ${c}`;
  }
  return undefined;
}
