/**
 * armkit repo without tools: where each package goes, the plan's steps (signing, reuse with --update, the
 * swap), the armkit.repo file, what it refuses, the metadata reader's chain of checksums and the XML and
 * version-order helpers it rests on.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type BuiltPackage, placePackages, repositoriesOf } from '../../src/repo/collect.js';
import { compareEvr, rpmvercmp } from '../../src/repo/evr.js';
import { checkBaseUrl, checkDestination } from '../../src/repo/input.js';
import { basearch } from '../../src/repo/layout.js';
import { readPrimary, verifyPackage } from '../../src/repo/metadata.js';
import { planRepo, type RepoInput } from '../../src/repo/plan.js';
import { parseXml } from '../../src/repo/xml.js';
import { catchArmkit, tempDir, writeTree } from './helpers.js';

function pkg(file: string, build: Partial<BuiltPackage['build']> = {}, sha = 'a'.repeat(64)): BuiltPackage {
  const m = /^(.+)-([^-]+)-([^-]+)\.([^.]+)\.rpm$/.exec(file)!;
  const dir = `/out/cryptodev/0.1/${build.arch ?? 'aarch64'}/${build.kernel ?? '6.1.0-57-arm64'}`;
  return {
    path: `${dir}/${file}`,
    file,
    name: m[1]!,
    version: m[2]!,
    release: m[3]!,
    arch: m[4]!,
    sha256: sha,
    size: 100,
    build: { dir, recipe: 'cryptodev', arch: 'aarch64', kernel: '6.1.0-57-arm64', createdAt: '2026-01-01T00:00:00.000Z', ...build },
  };
}

describe('where packages go', () => {
  it("binary packages by dnf's basearch, noarch with their build's, source RPMs by kernel in src/", () => {
    const { placements, warnings } = placePackages([
      pkg('kmod-cryptodev-6.1.0-57-arm64-0.1-1.aarch64.rpm'),
      pkg('cryptodev-linux-devel-0.1-1.noarch.rpm'),
      pkg('cryptodev-linux-0.1-1.src.rpm'),
      pkg('kmod-cryptodev-6.1.0-50-armmp-0.1-1.armv7hl.rpm', { arch: 'armv7hl', kernel: '6.1.0-50-armmp' }),
      pkg('cryptodev-linux-devel-0.1-1.noarch.rpm', { arch: 'armv7hl', kernel: '6.1.0-50-armmp' }),
      pkg('cryptodev-linux-0.1-1.src.rpm', { arch: 'armv7hl', kernel: '6.1.0-50-armmp' }, 'b'.repeat(64)),
      pkg('openssl-3.0.9-1.cryptodev1.aarch64.rpm', { recipe: 'openssl', kernel: undefined }),
      pkg('openssl-3.0.9-1.cryptodev1.src.rpm', { recipe: 'openssl', kernel: undefined }),
    ]);
    expect(warnings).toEqual([]);
    expect(placements.map((p) => `${p.repo}/${p.rel}`)).toEqual([
      'aarch64/Packages/cryptodev-linux-devel-0.1-1.noarch.rpm',
      'aarch64/Packages/kmod-cryptodev-6.1.0-57-arm64-0.1-1.aarch64.rpm',
      'aarch64/Packages/openssl-3.0.9-1.cryptodev1.aarch64.rpm',
      'armhfp/Packages/cryptodev-linux-devel-0.1-1.noarch.rpm',
      'armhfp/Packages/kmod-cryptodev-6.1.0-50-armmp-0.1-1.armv7hl.rpm',
      'src/Packages/6.1.0-50-armmp/cryptodev-linux-0.1-1.src.rpm',
      'src/Packages/6.1.0-57-arm64/cryptodev-linux-0.1-1.src.rpm',
      'src/Packages/openssl-3.0.9-1.cryptodev1.src.rpm',
    ]);
    expect(repositoriesOf(placements)).toEqual(['aarch64', 'armhfp', 'src']);
    expect(['aarch64', 'armv7hl', 'armv5tel', 'x86_64'].map(basearch)).toEqual(['aarch64', 'armhfp', 'arm', 'x86_64']);
  });

  it('one file per place: the same bytes once, different bytes the newest build with a warning', () => {
    const same = placePackages([
      pkg('cryptodev-linux-devel-0.1-1.noarch.rpm'),
      pkg('cryptodev-linux-devel-0.1-1.noarch.rpm', { kernel: '6.1.0-58-arm64', dir: '/out/b' }),
    ]);
    expect(same.placements).toHaveLength(1);
    expect(same.warnings).toEqual([]);
    const differ = placePackages([
      pkg('cryptodev-linux-devel-0.1-1.noarch.rpm', { dir: '/out/old', createdAt: '2026-01-01T00:00:00.000Z' }),
      pkg('cryptodev-linux-devel-0.1-1.noarch.rpm', { dir: '/out/new', createdAt: '2026-02-01T00:00:00.000Z' }, 'c'.repeat(64)),
    ]);
    expect(differ.placements.map((p) => p.pkg.build.dir)).toEqual(['/out/new']);
    expect(differ.warnings).toEqual([
      'aarch64/Packages/cryptodev-linux-devel-0.1-1.noarch.rpm: the builds in /out/new, /out/old made different files of that name; the repository takes the newest (/out/new).',
    ]);
  });
});

describe('the plan', () => {
  const placements = placePackages([
    pkg('kmod-cryptodev-6.1.0-57-arm64-0.1-1.aarch64.rpm'),
    pkg('cryptodev-linux-devel-0.1-1.noarch.rpm'),
    pkg('cryptodev-linux-0.1-1.src.rpm'),
  ]).placements;
  const input = (over: Partial<RepoInput> = {}): RepoInput => ({
    dest: '/srv/repo',
    from: '/out',
    destExists: true,
    placements,
    buildTimes: Object.fromEntries(placements.map((p, i) => [p.pkg.path, 1_700_000_000 + (i % 2)])),
    revision: 1_700_000_001,
    baseUrl: 'https://boards.example.org/armkit',
    reuse: {},
    updateRepos: {},
    logsDir: '/cache/work/repo/logs',
    armkitVersion: '0.1.0',
    pid: 42,
    warnings: [],
    ...over,
  });
  const argvs = (steps: Array<{ kind: string; argv?: string[] }>) => steps.filter((s) => s.kind === 'exec').map((s) => s.argv!.join(' '));

  it('unsigned: copies checked against the manifests, dated by build time, createrepo_c reproducibly, armkit.repo', () => {
    const { build, swap, staging, repos } = planRepo(input());
    expect(staging).toBe('/srv/.repo.staging-42');
    expect(repos).toEqual(['aarch64', 'src']);
    expect(build.steps.filter((s) => s.kind === 'verify').map((s) => (s as { sha256: string }).sha256)).toEqual(Array(3).fill('a'.repeat(64)));
    expect(argvs(build.steps)).toEqual([
      'touch -d @1700000000 /srv/.repo.staging-42/aarch64/Packages/cryptodev-linux-devel-0.1-1.noarch.rpm /srv/.repo.staging-42/src/Packages/6.1.0-57-arm64/cryptodev-linux-0.1-1.src.rpm',
      'touch -d @1700000001 /srv/.repo.staging-42/aarch64/Packages/kmod-cryptodev-6.1.0-57-arm64-0.1-1.aarch64.rpm',
      'createrepo_c --revision 1700000001 --set-timestamp-to-revision --no-database --general-compress-type gz --error-exit-val /srv/.repo.staging-42/aarch64',
      'createrepo_c --revision 1700000001 --set-timestamp-to-revision --no-database --general-compress-type gz --error-exit-val /srv/.repo.staging-42/src',
    ]);
    expect(build.requires).toEqual(['createrepo_c', 'touch']);
    const repoFile = build.steps.find((s) => s.kind === 'write' && s.path.endsWith('armkit.repo')) as { content: string };
    expect(repoFile.content).toContain('[armkit]\nname=armkit packages ($basearch)\nbaseurl=https://boards.example.org/armkit/$basearch/\nenabled=1\n');
    expect(repoFile.content).toContain('gpgcheck=0\nrepo_gpgcheck=0\n');
    expect(repoFile.content).toContain('[armkit-source]\nname=armkit source packages\nbaseurl=https://boards.example.org/armkit/src/\nenabled=0\n');
    expect(repoFile.content).not.toContain('gpgkey');
    expect(swap.steps.map((s) => s.kind)).toEqual(['rename', 'rename', 'remove']);
    expect(planRepo(input({ destExists: false })).swap.steps.map((s) => s.kind)).toEqual(['rename']);
  });

  it('signed: rpmsign with the fingerprint and a gpg that exists, each repomd.xml signed, the key exported, gpgcheck on', () => {
    const sign = { fingerprint: 'DF95B3BA1A8B32A9ED02D4556F0E0C27CCE73147', userId: 'armkit test <t@example.org>', gpg: '/usr/bin/gpg' };
    const { build } = planRepo(input({ sign }));
    const commands = argvs(build.steps);
    expect(commands[0]).toMatch(
      /^rpmsign --addsign --define _gpg_name DF95B3BA1A8B32A9ED02D4556F0E0C27CCE73147 --define __gpg \/usr\/bin\/gpg \/srv\/\S+ \/srv\/\S+ \/srv\/\S+$/,
    );
    // Signing happens before the copies are dated and before createrepo_c reads them.
    expect(commands.findIndex((c) => c.startsWith('rpmsign'))).toBeLessThan(commands.findIndex((c) => c.startsWith('touch')));
    expect(commands.filter((c) => c.startsWith('gpg --batch --yes --local-user'))).toEqual([
      'gpg --batch --yes --local-user DF95B3BA1A8B32A9ED02D4556F0E0C27CCE73147 --armor --detach-sign --output /srv/.repo.staging-42/aarch64/repodata/repomd.xml.asc /srv/.repo.staging-42/aarch64/repodata/repomd.xml',
      'gpg --batch --yes --local-user DF95B3BA1A8B32A9ED02D4556F0E0C27CCE73147 --armor --detach-sign --output /srv/.repo.staging-42/src/repodata/repomd.xml.asc /srv/.repo.staging-42/src/repodata/repomd.xml',
    ]);
    const exported = build.steps.find((s) => s.kind === 'exec' && s.argv.includes('--export')) as { stdoutFile: string };
    expect(exported.stdoutFile).toBe('/srv/.repo.staging-42/RPM-GPG-KEY-armkit');
    const repoFile = (build.steps.find((s) => s.kind === 'write' && s.path.endsWith('armkit.repo')) as { content: string }).content;
    expect(repoFile).toContain('gpgcheck=1\nrepo_gpgcheck=1\ngpgkey=https://boards.example.org/armkit/RPM-GPG-KEY-armkit\n');
    expect(build.requires).toEqual(['createrepo_c', 'touch', 'rpmsign', 'gpg']);
    const state = JSON.parse((build.steps.find((s) => s.kind === 'write' && s.path.endsWith('.armkit-repo.json')) as { content: string }).content);
    expect(state).toMatchObject({ schema: 1, signedBy: sign.fingerprint, revision: 1_700_000_001 });
    expect(state.packages).toHaveLength(3);
  });

  it('--update: taken-over packages are checked against the published metadata and not signed again', () => {
    const sign = { fingerprint: 'F'.repeat(40), userId: 'k', gpg: '/usr/bin/gpg' };
    const kmod = 'aarch64/Packages/kmod-cryptodev-6.1.0-57-arm64-0.1-1.aarch64.rpm';
    const { build } = planRepo(
      input({ sign, reuse: { [kmod]: 'd'.repeat(64) }, updateRepos: { aarch64: ['repodata/repomd.xml', 'repodata/x-primary.xml.gz'] } }),
    );
    const copy = build.steps.find((s) => s.kind === 'copy' && s.to.endsWith('kmod-cryptodev-6.1.0-57-arm64-0.1-1.aarch64.rpm')) as { from: string };
    expect(copy.from).toBe(`/srv/repo/${kmod}`);
    expect(build.steps.some((s) => s.kind === 'verify' && s.sha256 === 'd'.repeat(64))).toBe(true);
    const rpmsign = argvs(build.steps).find((c) => c.startsWith('rpmsign'))!;
    expect(rpmsign).not.toContain('kmod-cryptodev');
    expect(rpmsign).toContain('cryptodev-linux-devel');
    expect(
      argvs(build.steps)
        .filter((c) => c.startsWith('createrepo_c'))
        .map((c) => c.includes('--update')),
    ).toEqual([true, false]);
    expect(build.steps.filter((s) => s.kind === 'copy' && s.from.includes('/repodata/')).map((s) => (s as { to: string }).to)).toEqual([
      '/srv/.repo.staging-42/aarch64/repodata/repomd.xml',
      '/srv/.repo.staging-42/aarch64/repodata/x-primary.xml.gz',
    ]);
  });

  it('refuses base URLs and destinations that would go wrong', () => {
    expect(checkBaseUrl('https://example.org/armkit/')).toBe('https://example.org/armkit');
    expect(catchArmkit(() => checkBaseUrl('example.org/armkit')).message).toMatch(/not a URL/);
    expect(catchArmkit(() => checkBaseUrl('ssh://example.org/armkit')).message).toMatch(/http, https, ftp or file/);
    expect(catchArmkit(() => checkBaseUrl('https://example.org/$releasever')).message).toMatch(/"\$"/);
    const dir = tempDir();
    expect(catchArmkit(() => checkDestination(dir, join(dir, 'out'))).message).toMatch(/would hold the builds/);
    writeTree(dir, { 'mine/notes.txt': 'x' });
    expect(catchArmkit(() => checkDestination(join(dir, 'mine'), join(dir, 'out'))).message).toMatch(/is not a repository armkit made/);
    expect(() => checkDestination(join(dir, 'new'), join(dir, 'out'))).not.toThrow();
    writeTree(dir, { 'ours/.armkit-repo.json': '{}' });
    expect(() => checkDestination(join(dir, 'ours'), join(dir, 'out'))).not.toThrow();
  });
});

describe('reading repository metadata', () => {
  const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

  function repository(packages: Array<{ href: string; content: string }>, tamper: { primary?: boolean } = {}) {
    const dir = tempDir();
    mkdirSync(join(dir, 'repodata'), { recursive: true });
    const entries = packages.map(
      (p, i) => `<package type="rpm"><name>kmod-cryptodev-6.1.0-57-arm64</name><arch>aarch64</arch><version epoch="0" ver="0.${i}" rel="1&amp;x"/>
  <checksum type="sha256" pkgid="YES">${sha(p.content)}</checksum><size package="${p.content.length}"/><location href="${p.href}"/>
  <format><rpm:sourcerpm>cryptodev-linux-0.1-1.src.rpm</rpm:sourcerpm><rpm:provides><rpm:entry name="kmod(cryptodev.ko)" flags="EQ"/></rpm:provides></format></package>`,
    );
    const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="${packages.length}">\n${entries.join('\n')}\n</metadata>\n`;
    const packed = gzipSync(Buffer.from(xml));
    const name = `repodata/${sha(packed)}-primary.xml.gz`;
    writeFileSync(join(dir, name), tamper.primary ? gzipSync(Buffer.from(xml.replace('0.0', '9.9'))) : packed);
    writeFileSync(
      join(dir, 'repodata', 'repomd.xml'),
      `<?xml version="1.0" encoding="UTF-8"?>\n<repomd xmlns="http://linux.duke.edu/metadata/repo"><revision>1</revision><data type="primary"><checksum type="sha256">${sha(packed)}</checksum><open-checksum type="sha256">${sha(xml)}</open-checksum><location href="${name}"/></data></repomd>\n`,
    );
    for (const p of packages) writeTree(dir, { [p.href]: p.content });
    return dir;
  }

  it('lists every package with its checksum, and a package file that is not the listed one is refused', async () => {
    const dir = repository([
      { href: 'Packages/a.rpm', content: 'one' },
      { href: 'Packages/b.rpm', content: 'two' },
    ]);
    const packages = readPrimary(dir);
    expect(packages.map((p) => [p.href, p.version, p.release, p.checksum.value, p.sourcerpm, p.provides])).toEqual([
      ['Packages/a.rpm', '0.0', '1&x', sha('one'), 'cryptodev-linux-0.1-1.src.rpm', ['kmod(cryptodev.ko)']],
      ['Packages/b.rpm', '0.1', '1&x', sha('two'), 'cryptodev-linux-0.1-1.src.rpm', ['kmod(cryptodev.ko)']],
    ]);
    expect(await verifyPackage(dir, packages[0]!)).toBe(join(dir, 'Packages/a.rpm'));
    writeTree(dir, { 'Packages/b.rpm': 'changed' });
    await expect(verifyPackage(dir, packages[1]!)).rejects.toMatchObject({ kind: 'verification' });
  });

  it('refuses a primary.xml that repomd.xml does not vouch for, and locations outside the repository', async () => {
    expect(catchArmkit(() => readPrimary(repository([{ href: 'Packages/a.rpm', content: 'x' }], { primary: true }))).message).toMatch(
      /does not have the sha256 checksum .*repomd\.xml gives it/,
    );
    const outside = repository([{ href: '../../etc/passwd', content: 'x' }]);
    const [p] = readPrimary(outside);
    await expect(verifyPackage(outside, p!)).rejects.toThrow(/outside the repository/);
    expect(catchArmkit(() => readPrimary(tempDir())).message).toMatch(/has no repodata\/repomd\.xml/);
  });

  it('the XML reader: entities, attributes in either quotes, self-closing tags, and what it refuses', () => {
    const root = parseXml(`<?xml version="1.0"?><!-- c --><a x='1' y="&lt;&#65;&#x42;"><b/><c>t&amp;u<![CDATA[<raw>]]></c></a>`);
    expect(root.attrs).toEqual({ x: '1', y: '<AB' });
    expect(root.children.map((c) => [c.name, c.text])).toEqual([
      ['b', ''],
      ['c', 't&u<raw>'],
    ]);
    expect(() => parseXml('<a><b></a>')).toThrow(/closing tag/);
    expect(() => parseXml('<a>&nbsp;</a>')).toThrow(/unknown entity/);
    expect(() => parseXml('<a/><b/>')).toThrow(/second root/);
    expect(() => parseXml('<!DOCTYPE a><a/>')).toThrow(/document type/);
    expect(() => parseXml('<a>')).toThrow(/never closed/);
  });
});

describe("rpm's version order", () => {
  // Each row as rpm 4.18 answers it: rpm --eval "%{lua: print(rpm.vercmp(A, B))}".
  const ROWS: Array<[string, string, number]> = [
    ['1.0', '1.0', 0],
    ['1.0', '2.0', -1],
    ['2.0.1a', '2.0.1', 1],
    ['5.5p10', '5.5p1', 1],
    ['10xyz', '10.1xyz', -1],
    ['xyz.4', '8', -1],
    ['8', 'xyz.4', 1],
    ['1.0~rc1', '1.0', -1],
    ['1.0~rc1~git123', '1.0~rc1', -1],
    ['1.0^', '1.0', 1],
    ['1.0^git1', '1.01', -1],
    ['1.0^git1', '1.0~rc1', 1],
    ['1.14^20251105git08644db', '1.14', 1],
    ['1.14^20251105git08644db', '1.15', -1],
    ['1', 'a', 1],
    ['1.local', '1', 1],
    ['00001', '1', 0],
    ['1.0a', '1.0.a', 0],
  ];
  for (const [a, b, expected] of ROWS) it(`${a} vs ${b}: ${expected}`, () => expect(rpmvercmp(a, b)).toBe(expected));

  it('compares epoch first, then version, then release', () => {
    expect(compareEvr({ epoch: '1', version: '1.0', release: '1' }, { epoch: '0', version: '9.0', release: '1' })).toBe(1);
    expect(compareEvr({ version: '1.0', release: '2' }, { version: '1.0', release: '10' })).toBe(-1);
  });
});
