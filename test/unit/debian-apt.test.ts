import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findArch } from '../../src/arch.js';
import {
  type AptSource,
  debianSourcesFor,
  PrivateApt,
  parseAptSources,
  parseDependsTarget,
  parsePackageStanza,
  renderSourcesList,
} from '../../src/kernel/debian.js';
import { catchArmkit, fakeHost } from './helpers.js';

const ONE_LINE = `# See sources.list(5)
deb [arch=amd64 signed-by=/x.gpg] http://deb.debian.org/debian bookworm main contrib non-free-firmware
# deb http://deb.debian.org/debian bookworm-backports main
deb-src http://deb.debian.org/debian bookworm main
deb http://security.debian.org/debian-security bookworm-security main # security updates

deb http://deb.debian.org/debian bookworm-updates main non-free
`;

const DEB822 = `Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main non-free-firmware
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main

Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main

Types: deb
URIs: http://mirror.example/debian
Suites: bookworm
Components: main
Enabled: no
`;

describe('parseAptSources', () => {
  it('reads one-line entries with options and skips comments and deb-src', () => {
    expect(parseAptSources(ONE_LINE)).toEqual([
      { uri: 'http://deb.debian.org/debian', suites: ['bookworm'], components: ['main', 'contrib', 'non-free-firmware'], signedBy: '/x.gpg' },
      { uri: 'http://security.debian.org/debian-security', suites: ['bookworm-security'], components: ['main'] },
      { uri: 'http://deb.debian.org/debian', suites: ['bookworm-updates'], components: ['main', 'non-free'] },
    ]);
  });

  it('reads deb822 stanzas with Types deb, skipping deb-src-only and disabled ones', () => {
    expect(parseAptSources(DEB822)).toEqual([
      {
        uri: 'http://deb.debian.org/debian',
        suites: ['bookworm', 'bookworm-updates'],
        components: ['main', 'non-free-firmware'],
        signedBy: '/usr/share/keyrings/debian-archive-keyring.gpg',
      },
      { uri: 'http://deb.debian.org/debian-security', suites: ['bookworm-security'], components: ['main'] },
    ]);
  });

  it('makes one source per URI of a deb822 stanza', () => {
    const sources = parseAptSources('Types: deb\nURIs: http://a/debian http://b/debian\nSuites: trixie\nComponents: main\n');
    expect(sources.map((s) => s.uri)).toEqual(['http://a/debian', 'http://b/debian']);
    expect(sources.every((s) => s.suites.join() === 'trixie')).toBe(true);
  });

  it('is empty for a file with only comments', () => {
    expect(parseAptSources('# nothing here\n\n')).toEqual([]);
  });
});

describe('debianSourcesFor', () => {
  const host: AptSource[] = [
    {
      uri: 'http://deb.debian.org/debian',
      suites: ['bookworm', 'bookworm-updates', 'bookworm-backports'],
      components: ['main', 'contrib'],
      signedBy: '/k.gpg',
    },
    { uri: 'http://security.debian.org/debian-security', suites: ['bookworm-security'], components: ['main'] },
    { uri: 'http://deb.debian.org/debian', suites: ['sid'], components: ['main'] },
    { uri: 'http://ppa.example/x', suites: ['bookworm'], components: ['extras'] },
  ];

  it('keeps only the release, -updates and -security suites and the main component', () => {
    expect(debianSourcesFor(host, 'bookworm')).toEqual([
      { uri: 'http://deb.debian.org/debian', suites: ['bookworm', 'bookworm-updates'], components: ['main'], signedBy: '/k.gpg' },
      { uri: 'http://security.debian.org/debian-security', suites: ['bookworm-security'], components: ['main'] },
    ]);
  });

  it('falls back to deb.debian.org when the host has nothing for the release', () => {
    expect(debianSourcesFor(host, 'trixie')).toEqual([
      { uri: 'http://deb.debian.org/debian', suites: ['trixie', 'trixie-updates'], components: ['main'] },
      { uri: 'http://deb.debian.org/debian-security', suites: ['trixie-security'], components: ['main'] },
    ]);
    expect(debianSourcesFor([], 'bookworm').map((s) => s.uri)).toEqual(['http://deb.debian.org/debian', 'http://deb.debian.org/debian-security']);
  });
});

describe('renderSourcesList', () => {
  it('writes one line per suite with the architectures and signed-by', () => {
    const text = renderSourcesList(
      [
        { uri: 'http://deb.debian.org/debian', suites: ['bookworm', 'bookworm-updates'], components: ['main'], signedBy: '/k.gpg' },
        { uri: 'http://deb.debian.org/debian-security', suites: ['bookworm-security'], components: ['main', 'contrib'] },
      ],
      ['amd64', 'arm64'],
    );
    expect(text).toBe(
      [
        'deb [arch=amd64,arm64 signed-by=/k.gpg] http://deb.debian.org/debian bookworm main',
        'deb [arch=amd64,arm64 signed-by=/k.gpg] http://deb.debian.org/debian bookworm-updates main',
        'deb [arch=amd64,arm64] http://deb.debian.org/debian-security bookworm-security main contrib',
        '',
      ].join('\n'),
    );
  });

  it('round-trips through parseAptSources', () => {
    const sources: AptSource[] = [{ uri: 'http://deb.debian.org/debian', suites: ['bookworm'], components: ['main'], signedBy: '/k.gpg' }];
    expect(parseAptSources(renderSourcesList(sources, ['arm64']))).toEqual(sources);
  });
});

describe('parseDependsTarget', () => {
  it('finds the versioned header package behind the metapackage', () => {
    const text = 'linux-headers-arm64:arm64\n  Depends: linux-headers-6.1.0-56-arm64:arm64\n';
    expect(parseDependsTarget(text, 'linux-headers-')).toBe('linux-headers-6.1.0-56-arm64');
  });

  it('skips dependencies with another prefix and reads virtual <...> and alternative ones', () => {
    const text = [
      'linux-headers-rt-arm64:arm64',
      '  Depends: <linux-compiler-gcc-12-arm>',
      ' |Depends: <linux-headers-6.1.0-56-rt-arm64:arm64>',
      '  Depends: linux-headers-6.1.0-57-rt-arm64:arm64',
      '',
    ].join('\n');
    expect(parseDependsTarget(text, 'linux-headers-')).toBe('linux-headers-6.1.0-56-rt-arm64');
    expect(parseDependsTarget(text, 'linux-compiler-')).toBe('linux-compiler-gcc-12-arm');
  });

  it('is undefined when nothing matches', () => {
    expect(parseDependsTarget('linux-headers-arm64:arm64\n  Recommends: foo\n', 'linux-headers-')).toBeUndefined();
  });
});

describe('parsePackageStanza', () => {
  it('reads Version and the names in Depends', () => {
    const stanza = [
      'Package: linux-headers-6.1.0-56-arm64',
      'Source: linux-signed-arm64 (6.1.192+2)',
      'Version: 6.1.192-2',
      'Architecture: arm64',
      'Depends: linux-headers-6.1.0-56-common (= 6.1.192-2), linux-kbuild-6.1 (>= 6.1.192-2), gcc-12',
      'Description: Header files for Linux 6.1.0-56-arm64',
      '',
    ].join('\n');
    expect(parsePackageStanza(stanza)).toEqual({
      version: '6.1.192-2',
      depends: ['linux-headers-6.1.0-56-common', 'linux-kbuild-6.1', 'gcc-12'],
    });
  });

  it('takes the first of alternatives and drops architecture qualifiers', () => {
    expect(parsePackageStanza('Version: 1.0\nDepends: a:any | b, c:arm64\n')).toEqual({ version: '1.0', depends: ['a', 'c'] });
  });

  it('has no dependencies without a Depends field, and is undefined without a Version', () => {
    expect(parsePackageStanza('Package: x\nVersion: 2.0-1\n')).toEqual({ version: '2.0-1', depends: [] });
    expect(parsePackageStanza('Package: x\n')).toBeUndefined();
  });
});

describe('PrivateApt.options', () => {
  const cacheDir = '/cache';
  const aarch64 = findArch('aarch64');

  /** The -o KEY=VALUE pairs, in order. */
  function pairs(options: string[]): string[] {
    const out: string[] = [];
    for (let i = 0; i < options.length; i += 2) {
      expect(options[i]).toBe('-o');
      out.push(options[i + 1]!);
    }
    return out;
  }

  it('points apt at a state of its own under the cache', () => {
    const apt = new PrivateApt(cacheDir, aarch64, fakeHost());
    const o = pairs(apt.options());
    expect(apt.dir).toBe(join(cacheDir, 'apt', 'arm64'));
    expect(o).toContain(`Dir::State::Lists=${join(cacheDir, 'apt/arm64/lists')}`);
    expect(o).toContain(`Dir::Etc::SourceList=${join(cacheDir, 'apt/arm64/sources.list')}`);
    expect(o).toContain('Dir::Etc::SourceParts=/nonexistent');
    expect(o).toContain('Dir::State::status=/dev/null');
    expect(o).toContain(`Dir::Cache::Archives=${join(cacheDir, 'apt/arm64/archives')}`);
  });

  it('enables the host and the target architecture, host first', () => {
    const apt = new PrivateApt(cacheDir, aarch64, fakeHost());
    const o = pairs(apt.options());
    expect(o).toContain('APT::Architecture=amd64');
    expect(o.filter((x) => x.startsWith('APT::Architectures::'))).toEqual(['APT::Architectures::=amd64', 'APT::Architectures::=arm64']);
    expect(apt.hostDebianArch).toBe('amd64');
  });

  it('lists one architecture when host and target are the same', () => {
    const apt = new PrivateApt(cacheDir, findArch('x86_64'), fakeHost());
    expect(apt.architectures).toEqual(['amd64']);
  });

  it('sets APT::Sandbox::User=root only for root', () => {
    expect(pairs(new PrivateApt(cacheDir, aarch64, fakeHost({ isRoot: true })).options())).toContain('APT::Sandbox::User=root');
    expect(pairs(new PrivateApt(cacheDir, aarch64, fakeHost({ isRoot: false })).options()).some((x) => x.startsWith('APT::Sandbox'))).toBe(false);
  });

  it('refuses a host whose architecture armkit does not know', () => {
    const error = catchArmkit(() => new PrivateApt(cacheDir, aarch64, fakeHost({ machine: 'riscv64', arch: undefined })));
    expect(error.kind).toBe('usage');
    expect(error.message).toContain('riscv64');
  });
});

describe('deb822 edge cases (regressions)', () => {
  it('an inline Signed-By key block is not passed on as a key file', () => {
    const s = parseAptSources(`Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 mQINBGPL0BUBEADmW5NdOOHwPIJlgPu6JDcKw/NZJPR8lsD3K87ZM18gzyQZJD+w
 -----END PGP PUBLIC KEY BLOCK-----
`);
    expect(s).toHaveLength(1);
    expect(s[0]!.signedBy).toBeUndefined();
    expect(s[0]!.suites).toEqual(['bookworm', 'bookworm-updates']);
    expect(renderSourcesList(debianSourcesFor(s, 'bookworm'), ['amd64', 'arm64'])).toBe(
      'deb [arch=amd64,arm64] http://deb.debian.org/debian bookworm main\ndeb [arch=amd64,arm64] http://deb.debian.org/debian bookworm-updates main\n',
    );
  });

  it('an empty field does not take the next line as its value', () => {
    const s = parseAptSources('Types: deb\nURIs: http://x/debian\nSuites: bookworm\nComponents:\nSigned-By: /k.gpg\n');
    expect(s[0]!.components).toEqual([]);
    expect(s[0]!.signedBy).toBe('/k.gpg');
  });
});
