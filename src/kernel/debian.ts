/**
 * Debian kernel header packages for any architecture, without touching the host's package configuration: armkit
 * keeps an apt state of its own per target architecture (sources list, index lists, download cache) and only
 * downloads and extracts .deb files into its cache (never installs them).
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Arch } from '../arch.js';
import { ArmkitError, mismatch, missing, usageError } from '../errors.js';
import { ensureDir } from '../fsutil.js';
import type { Host } from '../host.js';
import type { Runner } from '../proc/runner.js';
import type { Step } from '../step.js';
import { assertTreeArch, inspectHeaderTree, treeIdentity, treeTools } from './tree.js';

export interface AptSource {
  uri: string;
  suites: string[];
  components: string[];
  signedBy?: string;
}

/** Parses one-line (`deb [opts] uri suite comp...`) and deb822 (`Types: deb` stanzas) source files. */
export function parseAptSources(text: string): AptSource[] {
  const sources: AptSource[] = [];
  if (/^Types:/im.test(text)) {
    for (const stanza of text.split(/\n[ \t]*\n/)) {
      const fields = parseDeb822Stanza(stanza);
      const list = (name: string) => (fields[name.toLowerCase()] ?? '').split(/\s+/).filter(Boolean);
      if (!list('Types').includes('deb') || fields.enabled === 'no') continue;
      // Signed-By may hold an inline key block (several lines): only a file path can be passed on.
      const signedBy = fields['signed-by'];
      const keyFile = signedBy && !signedBy.includes('\n') && signedBy.startsWith('/') ? signedBy : undefined;
      for (const uri of list('URIs')) sources.push({ uri, suites: list('Suites'), components: list('Components'), ...(keyFile ? { signedBy: keyFile } : {}) });
    }
    return sources;
  }
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const m = /^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (!m) continue;
    const signedBy = /signed-by=(\S+)/.exec(m[1] ?? '')?.[1];
    sources.push({ uri: m[2]!, suites: [m[3]!], components: m[4]!.split(/\s+/).filter(Boolean), ...(signedBy ? { signedBy } : {}) });
  }
  return sources;
}

/** Fields of one deb822 stanza (names lower-cased); indented lines continue the previous field's value. */
export function parseDeb822Stanza(stanza: string): Record<string, string> {
  const fields: Record<string, string> = {};
  let current: string | undefined;
  for (const line of stanza.split('\n')) {
    if (/^\s*#/.test(line)) continue;
    const field = /^([A-Za-z][A-Za-z0-9-]*):[ \t]*(.*)$/.exec(line);
    if (field) {
      current = field[1]!.toLowerCase();
      fields[current] = field[2]!.trim();
    } else if (current && /^[ \t]/.test(line)) {
      fields[current] = fields[current] ? `${fields[current]}\n${line.trim()}` : line.trim();
    }
  }
  return fields;
}

/** The host's Debian archive entries for a release (codename, -updates, -security), as armkit's own list. */
export function debianSourcesFor(hostSources: AptSource[], codename: string): AptSource[] {
  const wanted = new Set([codename, `${codename}-updates`, `${codename}-security`]);
  const picked = hostSources
    .map((s) => ({ ...s, suites: s.suites.filter((suite) => wanted.has(suite)), components: s.components.includes('main') ? ['main'] : [] }))
    .filter((s) => s.suites.length > 0 && s.components.length > 0);
  if (picked.length > 0) return picked;
  return [
    { uri: 'http://deb.debian.org/debian', suites: [codename, `${codename}-updates`], components: ['main'] },
    { uri: 'http://deb.debian.org/debian-security', suites: [`${codename}-security`], components: ['main'] },
  ];
}

export function renderSourcesList(sources: AptSource[], debianArches: string[]): string {
  const lines: string[] = [];
  for (const s of sources) {
    const opts = [`arch=${debianArches.join(',')}`, ...(s.signedBy ? [`signed-by=${s.signedBy}`] : [])];
    for (const suite of s.suites) lines.push(`deb [${opts.join(' ')}] ${s.uri} ${suite} ${s.components.join(' ')}`);
  }
  return `${lines.join('\n')}\n`;
}

function readHostSources(): AptSource[] {
  const files = ['/etc/apt/sources.list'];
  const partsDir = '/etc/apt/sources.list.d';
  if (existsSync(partsDir)) {
    for (const f of readdirSync(partsDir).sort()) if (/\.(list|sources)$/.test(f)) files.push(join(partsDir, f));
  }
  return files.filter((f) => existsSync(f)).flatMap((f) => parseAptSources(readFileSync(f, 'utf8')));
}

/** `apt-cache depends` output: the first dependency named like the pattern. */
export function parseDependsTarget(text: string, prefix: string): string | undefined {
  for (const m of text.matchAll(/^\s*\|?Depends:\s*<?([^\s:>]+)/gm)) if (m[1]!.startsWith(prefix)) return m[1];
  return undefined;
}

/** `apt-cache show` stanza: Version and the names in Depends. */
export function parsePackageStanza(text: string): { version: string; depends: string[] } | undefined {
  const version = /^Version:\s*(\S+)/m.exec(text)?.[1];
  if (!version) return undefined;
  const depends = (/^Depends:\s*(.+)$/m.exec(text)?.[1] ?? '')
    .split(',')
    .map((d) => d.trim().split(/[\s:(|]/)[0]!)
    .filter(Boolean);
  return { version, depends };
}

/** What apt prints when it cannot reach an archive at all (no name resolution, no route, nothing listening, a proxy down). */
export const APT_UNREACHABLE =
  'Could not (resolve|connect)|Unable to connect|Temporary failure resolving|Connection (refused|timed out)|No route to host|Network is unreachable';

/** The apt state armkit keeps for one target architecture under its cache. */
export class PrivateApt {
  readonly dir: string;
  readonly architectures: string[];

  constructor(
    cacheDir: string,
    readonly target: Arch,
    readonly host: Host,
    /** A dry run: read the index as it is, never download or write. */
    readonly readOnly = false,
  ) {
    const hostDeb = host.arch?.debian.arch;
    if (!hostDeb) throw usageError(`armkit does not know this host's architecture (${host.machine}) for Debian packages.`);
    this.dir = join(cacheDir, 'apt', target.debian.arch);
    // The header packages are the target's; linux-kbuild holds host programs (Multi-Arch: foreign), so both.
    this.architectures = [...new Set([hostDeb, target.debian.arch])];
  }

  get hostDebianArch(): string {
    return this.architectures[0]!;
  }

  /** `-o` options that point apt at this state and nothing of the host's. */
  options(): string[] {
    const o = (k: string, v: string) => ['-o', `${k}=${v}`];
    return [
      ...o('Dir::State::Lists', join(this.dir, 'lists')),
      ...o('Dir::State::status', '/dev/null'),
      ...o('Dir::Etc::SourceList', join(this.dir, 'sources.list')),
      ...o('Dir::Etc::SourceParts', '/nonexistent'),
      ...o('Dir::Cache', join(this.dir, 'cache')),
      // Hosts (containers especially) often disable apt's binary cache; without it every query re-parses the
      // whole index (about 2 s instead of 0.4 s). A dry run keeps it in memory: apt rewrites a cache it finds
      // stale, and a dry run writes nothing.
      ...o('Dir::Cache::pkgcache', this.readOnly ? '' : join(this.dir, 'cache', 'pkgcache.bin')),
      ...o('Dir::Cache::srcpkgcache', this.readOnly ? '' : join(this.dir, 'cache', 'srcpkgcache.bin')),
      ...o('Dir::Cache::Archives', join(this.dir, 'archives')),
      ...o('APT::Architecture', this.hostDebianArch),
      ...this.architectures.flatMap((a) => o('APT::Architectures::', a)),
      // Root downloads into a user-owned directory; the _apt sandbox user could not write there.
      ...(this.host.isRoot ? o('APT::Sandbox::User', 'root') : []),
    ];
  }

  /** Age of the index, from armkit's own stamp (apt gives list files the server's modification time). */
  private indexAgeMs(): number | undefined {
    const stamp = join(this.dir, 'updated');
    if (!existsSync(stamp) || !this.hasIndex()) return undefined;
    return Date.now() - statSync(stamp).mtimeMs;
  }

  /** Whether the index has the target architecture's package list (a failed first update leaves it without). */
  private hasIndex(): boolean {
    const lists = join(this.dir, 'lists');
    const wanted = new RegExp(`_binary-${this.target.debian.arch}_Packages(\\.\\w+)?$`);
    return existsSync(lists) && readdirSync(lists).some((f) => wanted.test(f));
  }

  /**
   * Refreshes the index when it is missing or older than maxAgeMs. A suite that fails to download (mirrors have
   * served broken indexes) is reported and the rest is used.
   */
  async refresh(runner: Runner, maxAgeMs: number, warn: (message: string) => void): Promise<void> {
    const age = this.indexAgeMs();
    if (age !== undefined && age < maxAgeMs) return;
    if (this.readOnly) {
      if (age === undefined) {
        throw missing(
          `--dry-run reads armkit's Debian package index for ${this.target.debian.arch}, and it is not in the cache (${join(this.dir, 'lists')}): a dry run downloads nothing.`,
          ['Run the same command once without --dry-run (it downloads the index), then the dry run can say what it would do.'],
        );
      }
      warn(
        `armkit's Debian package index for ${this.target.debian.arch} is ${Math.round(age / 3600_000)} h old; the dry run reads it as it is (a real run refreshes it first).`,
      );
      return;
    }
    if (!this.host.codename) throw missing('Cannot tell which Debian release this host runs (no VERSION_CODENAME in /etc/os-release).');
    for (const sub of ['lists/partial', 'cache', 'archives/partial'])
      ensureDir(join(this.dir, sub), {
        what: "armkit's Debian package state",
        advice: 'set --cache-dir or ARMKIT_CACHE_DIR to a directory armkit can write to',
      });
    writeFileSync(join(this.dir, 'sources.list'), renderSourcesList(debianSourcesFor(readHostSources(), this.host.codename), this.architectures));
    const result = await runner.capture(['apt-get', ...this.options(), 'update']);
    const output = `${result.stdout}\n${result.stderr}`;
    writeFileSync(join(this.dir, 'update.log'), output);
    // apt-get update exits 0 when it fetched nothing at all ("W: Failed to fetch"): what arrived decides, not its exit code.
    const failed = [...output.matchAll(/Failed to fetch (\S+)/g)].map((m) => m[1]);
    const unreachable = new RegExp(APT_UNREACHABLE, 'm').test(output);
    if (!this.hasIndex()) {
      throw new ArmkitError(
        'step-failed',
        unreachable
          ? `Debian's archive could not be reached: apt-get update for ${this.target.debian.arch} fetched no package index, so armkit cannot look up the kernel headers.`
          : `apt-get update for ${this.target.debian.arch} fetched no package index, so armkit cannot look up the kernel headers.`,
        {
          details: [
            ...(result.stderr || result.stdout).split('\n').slice(-10),
            'Check the network and the mirror in /etc/apt/sources.list*, then run the command again (armkit retries the download).',
          ],
          logFile: join(this.dir, 'update.log'),
        },
      );
    }
    if (result.exitCode !== 0 || failed.length > 0) {
      const what = failed.join(', ') || 'every index';
      warn(
        unreachable
          ? `Debian's archive could not be reached (apt-get update could not fetch ${what}): using armkit's index from ${age === undefined ? 'an earlier run' : `${Math.round(age / 3600_000)} h ago`}; the next run tries again.`
          : `apt-get update for ${this.target.debian.arch} could not fetch ${what}; using the indexes that arrived.`,
      );
      // Offline, the old index stays old: the next run tries the archive again.
      if (unreachable) return;
    }
    writeFileSync(join(this.dir, 'updated'), `${new Date().toISOString()}\n`);
  }

  /**
   * The step that downloads packages with this apt state; when the archive cannot be reached it says so, and how
   * to retry, instead of "Command failed".
   */
  downloadStep(title: string, packages: string[], cwd: string, log: string): Step {
    return {
      kind: 'exec',
      title,
      argv: ['apt-get', ...this.options(), 'download', ...packages],
      cwd,
      log,
      explain: [
        {
          pattern: APT_UNREACHABLE,
          message: `Debian's archive could not be reached to download ${packages.join(' ')}: check the network and the mirror in /etc/apt/sources.list*, then run the command again (armkit retries the download).`,
        },
      ],
    };
  }

  /**
   * Remembers an answer computed from the index until the index is next refreshed, so a warm build runs no apt
   * query at all (each costs about half a second).
   */
  async memo<T>(key: string, compute: () => Promise<T>): Promise<T> {
    const file = join(this.dir, 'answers.json');
    const stamp = existsSync(join(this.dir, 'updated')) ? readFileSync(join(this.dir, 'updated'), 'utf8').trim() : '';
    let answers: { stamp: string; values: Record<string, T> } = { stamp, values: {} };
    if (existsSync(file)) {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as typeof answers;
      if (saved.stamp === stamp) answers = saved;
    }
    if (key in answers.values) return answers.values[key]!;
    const value = await compute();
    if (value !== undefined && !this.readOnly) {
      answers.values[key] = value;
      writeFileSync(file, `${JSON.stringify(answers, null, 2)}\n`);
    }
    return value;
  }

  async dependsTarget(runner: Runner, pkg: string, prefix: string): Promise<string | undefined> {
    const result = await runner.capture(['apt-cache', ...this.options(), 'depends', pkg]);
    return result.exitCode === 0 ? parseDependsTarget(result.stdout, prefix) : undefined;
  }

  async show(runner: Runner, pkg: string): Promise<{ version: string; depends: string[] } | undefined> {
    const result = await runner.capture(['apt-cache', ...this.options(), 'show', '--no-all-versions', pkg]);
    return result.exitCode === 0 ? parsePackageStanza(result.stdout) : undefined;
  }
}

export interface DebianKernel {
  /** e.g. "6.1.0-56-arm64": the kernel release and the suffix of linux-headers-*. */
  release: string;
  /** Upstream version from the package version, e.g. "6.1.192". */
  version: string;
  /** Header tree to pass as KERNEL_DIR. */
  dir: string;
  /** Steps that download and extract the headers into the cache; empty when they are already there. */
  prepare: Step[];
  packages: string[];
  /** Programs the tree's build system needs besides the compiler (known once the tree is cached). */
  tools?: string[];
  /** The header package and its exact Debian version (or the tree's own identity for older cache entries). */
  identity: string;
}

/** How old armkit's Debian index may get before a build refreshes it. */
export const INDEX_MAX_AGE_MS = 6 * 3600 * 1000;

/**
 * Resolves `debian:latest[-FLAVOUR]` or `debian:ABI-FLAVOUR` to a header tree in the cache, and the steps that
 * put it there if it is not there yet. Resolving "latest" reads armkit's apt index (refreshed when stale).
 */
export async function resolveDebianKernel(
  request: { abi?: string; flavour: string },
  arch: Arch,
  ctx: { cacheDir: string; host: Host; runner: Runner; warn: (m: string) => void; dryRun?: boolean },
): Promise<DebianKernel> {
  const treesDir = join(ctx.cacheDir, 'kernels', 'debian', arch.debian.arch);
  const cachedTree = (release: string) => join(treesDir, release, 'root', 'usr', 'src', `linux-headers-${release}`);
  const complete = (release: string) => existsSync(join(treesDir, release, 'armkit-headers.json'));
  // A cached tree is checked again on every use (two small files): a damaged or mislabelled cache is refused.
  const verified = (release: string) => {
    const tree = inspectHeaderTree(cachedTree(release));
    assertTreeArch(tree, arch);
    if (tree.release !== release) {
      throw mismatch(`Cached headers for ${release} in ${cachedTree(release)} say they are for release ${tree.release}.`, [
        `Remove ${join(treesDir, release)} and run again to download them afresh.`,
      ]);
    }
    return tree;
  };

  const fromCache = (release: string): DebianKernel => {
    const info = JSON.parse(readFileSync(join(treesDir, release, 'armkit-headers.json'), 'utf8')) as {
      version: string;
      packages: string[];
      debianVersion?: string;
    };
    const tree = verified(release);
    const identity = info.debianVersion ? debianIdentity(release, info.debianVersion) : treeIdentity(tree);
    return { release, version: info.version, dir: cachedTree(release), prepare: [], packages: info.packages, tools: treeTools(tree), identity };
  };

  // An exact ABI that is already cached needs no apt at all.
  if (request.abi && complete(`${request.abi}-${request.flavour}`)) return fromCache(`${request.abi}-${request.flavour}`);

  for (const tool of ['apt-get', 'apt-cache', 'dpkg-deb']) {
    if (!ctx.host.which(tool)) {
      throw missing(`--kernel debian:... needs ${tool} (a Debian or Ubuntu host). Elsewhere, pass --kernel with a header directory.`);
    }
  }
  const apt = new PrivateApt(ctx.cacheDir, arch, ctx.host, ctx.dryRun);
  await apt.refresh(ctx.runner, INDEX_MAX_AGE_MS, ctx.warn);
  const qualified = (name: string) => `${name}:${arch.debian.arch}`;

  let release: string;
  if (request.abi) {
    release = `${request.abi}-${request.flavour}`;
  } else {
    const meta = `linux-headers-${request.flavour}`;
    const target = await apt.memo(`depends ${qualified(meta)}`, () => apt.dependsTarget(ctx.runner, qualified(meta), 'linux-headers-'));
    if (!target) {
      throw usageError(
        `Debian has no ${meta} for ${arch.debian.arch} in ${ctx.host.codename}: check the flavour (default for ${arch.rpm}: ${arch.debian.flavour}).`,
      );
    }
    release = target.replace(/^linux-headers-/, '');
  }
  const headerPkg = `linux-headers-${release}`;
  const stanza = await apt.memo(`show ${qualified(headerPkg)}`, () => apt.show(ctx.runner, qualified(headerPkg)));
  if (!stanza) {
    throw usageError(
      `Debian's archive has no ${headerPkg} for ${arch.debian.arch} (old ABIs disappear from the archive): try --kernel debian:latest-${request.flavour}.`,
    );
  }
  const version = /^(\d+\.\d+(?:\.\d+)?)/.exec(stanza.version)?.[1] ?? stanza.version;
  if (complete(release)) return fromCache(release);

  const common = stanza.depends.find((d) => /^linux-headers-.*-common(-rt)?$/.test(d));
  const kbuild = stanza.depends.find((d) => d.startsWith('linux-kbuild-'));
  const packages = [qualified(headerPkg), ...(common ? [common] : []), ...(kbuild ? [`${kbuild}:${apt.hostDebianArch}`] : [])];
  const final = join(treesDir, release);
  const partial = `${final}.partial`;
  const debs = join(partial, 'debs');
  const makefile = join(partial, 'root', 'usr', 'src', `linux-headers-${release}`, 'Makefile');
  const prepare: Step[] = [
    { kind: 'remove', title: `Clear partial download of ${headerPkg}`, path: partial },
    { kind: 'mkdir', title: `Create ${debs}`, path: debs },
    apt.downloadStep(`Download ${packages.join(' ')}`, packages, debs, `apt-download-${release}.log`),
    { kind: 'extract-debs', title: `Extract Debian header packages for ${release}`, dir: debs, root: join(partial, 'root') },
    // The flavour Makefile includes the common tree by absolute path; point it into armkit's cache.
    {
      kind: 'edit',
      title: `Point ${headerPkg}/Makefile at the extracted common headers`,
      path: makefile,
      search: 'include /usr/src/',
      replace: `include ${join(final, 'root', 'usr', 'src')}/`,
    },
    {
      kind: 'check-headers',
      title: `Check ${headerPkg} is for ${arch.rpm}`,
      dir: join(partial, 'root', 'usr', 'src', `linux-headers-${release}`),
      arch,
      release,
    },
    { kind: 'remove', title: 'Drop the downloaded .deb files', path: debs },
    {
      kind: 'write',
      title: `Record ${headerPkg} in the cache`,
      path: join(partial, 'armkit-headers.json'),
      content: `${JSON.stringify({ release, version, debianVersion: stanza.version, packages }, null, 2)}\n`,
    },
    { kind: 'remove', title: `Clear stale ${release} headers`, path: final },
    { kind: 'rename', title: `Keep ${headerPkg} in the cache`, from: partial, to: final },
  ];
  return { release, version, dir: cachedTree(release), prepare, packages, identity: debianIdentity(release, stanza.version) };
}

/** Debian's header package at its exact version: the same tree wherever it is unpacked. */
function debianIdentity(release: string, debianVersion: string): string {
  return `debian linux-headers-${release}=${debianVersion}`;
}
