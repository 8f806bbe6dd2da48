import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findArch } from '../../src/arch.js';
import { archesOfConfig, assertTreeArch, inspectHeaderTree, parseKconfig, parseUtsRelease, parseVersionHeader, treeTools } from '../../src/kernel/tree.js';
import { catchArmkit, tempDir, writeTree } from './helpers.js';

const ARM64_CONFIG = [
  '#',
  '# Automatically generated file; DO NOT EDIT.',
  'CONFIG_ARM64=y',
  'CONFIG_64BIT=y',
  'CONFIG_CRYPTO=m',
  '# CONFIG_X86_64 is not set',
  '',
].join('\n');
const ARMV5_CONFIG = ['CONFIG_ARM=y', 'CONFIG_CPU_32v5=y', 'CONFIG_ARCH_KIRKWOOD=y', '# CONFIG_CPU_V7 is not set', ''].join('\n');

function versionHeader(major: number, minor: number, sub: number): string {
  const code = (major << 16) + (minor << 8) + sub;
  return [
    `#define LINUX_VERSION_CODE ${code}`,
    '#define KERNEL_VERSION(a,b,c) (((a) << 16) + ((b) << 8) + ((c) > 255 ? 255 : (c)))',
    `#define LINUX_VERSION_MAJOR ${major}`,
    `#define LINUX_VERSION_PATCHLEVEL ${minor}`,
    `#define LINUX_VERSION_SUBLEVEL ${sub}`,
    '',
  ].join('\n');
}

/** A configured header tree as distribution header packages ship it. */
function makeTree(files: Record<string, string | undefined>): string {
  const defaults: Record<string, string | undefined> = {
    Makefile: 'include /usr/src/linux-headers-6.1.0-56-common/Makefile\n',
    'include/generated/utsrelease.h': '#define UTS_RELEASE "6.1.0-56-arm64"\n',
    '.config': ARM64_CONFIG,
    'include/generated/uapi/linux/version.h': versionHeader(6, 1, 192),
  };
  const merged = { ...defaults, ...files };
  const present = Object.fromEntries(Object.entries(merged).filter((e): e is [string, string] => e[1] !== undefined));
  return writeTree(tempDir(), present);
}

describe('parseUtsRelease', () => {
  it('reads UTS_RELEASE', () => {
    expect(parseUtsRelease('#define UTS_RELEASE "6.1.0-56-arm64"\n')).toBe('6.1.0-56-arm64');
    expect(parseUtsRelease('/* generated */\n#define  UTS_RELEASE\t"6.8.9-300.fc40.aarch64"\n')).toBe('6.8.9-300.fc40.aarch64');
  });

  it('is undefined without UTS_RELEASE', () => {
    expect(parseUtsRelease('#define UTS_VERSION "#1 SMP"\n')).toBeUndefined();
    expect(parseUtsRelease('')).toBeUndefined();
  });
});

describe('parseVersionHeader', () => {
  it('prefers LINUX_VERSION_MAJOR/PATCHLEVEL/SUBLEVEL', () => {
    expect(parseVersionHeader(versionHeader(6, 1, 192))).toBe('6.1.192');
    expect(parseVersionHeader(versionHeader(6, 18, 3))).toBe('6.18.3');
  });

  it('uses the fields, not the code, whose sublevel saturates at 255', () => {
    // 4.9.300: KERNEL_VERSION clamps the sublevel, so the code alone would say 4.9.255.
    const text = versionHeader(4, 9, 300).replace(/LINUX_VERSION_CODE \d+/, `LINUX_VERSION_CODE ${(4 << 16) + (9 << 8) + 255}`);
    expect(parseVersionHeader(text)).toBe('4.9.300');
  });

  it('decodes LINUX_VERSION_CODE when it is the only field (older kernels)', () => {
    expect(parseVersionHeader('#define LINUX_VERSION_CODE 393472\n')).toBe('6.1.0'); // (6<<16)+(1<<8)+0
    expect(parseVersionHeader('#define LINUX_VERSION_CODE 393664\n')).toBe('6.1.192'); // (6<<16)+(1<<8)+192
    expect(parseVersionHeader('#define LINUX_VERSION_CODE 393408\n')).toBe('6.0.192'); // (6<<16)+(0<<8)+192
    expect(parseVersionHeader('#define LINUX_VERSION_CODE 265746\n#define KERNEL_VERSION(a,b,c) ...\n')).toBe('4.14.18');
  });

  it('is undefined without any version define', () => {
    expect(parseVersionHeader('#define SOMETHING_ELSE 1\n')).toBeUndefined();
  });
});

describe('parseKconfig', () => {
  it('collects =y and =m symbols of a .config and ignores unset ones', () => {
    const config = parseKconfig(ARM64_CONFIG + 'CONFIG_LOCALVERSION=""\nCONFIG_NR_CPUS=256\n');
    expect([...config].sort()).toEqual(['CONFIG_64BIT', 'CONFIG_ARM64', 'CONFIG_CRYPTO']);
    expect(config.has('CONFIG_X86_64')).toBe(false);
  });

  it('collects symbols of an autoconf.h, folding _MODULE into the symbol', () => {
    const text = [
      '#define CONFIG_ARM64 1',
      '#define CONFIG_CRYPTO_USER_API_MODULE 1',
      '#define CONFIG_NR_CPUS 256',
      '#define CONFIG_CC_VERSION_TEXT "gcc (Debian 12.2.0-14) 12.2.0"',
      '',
    ].join('\n');
    expect([...parseKconfig(text)].sort()).toEqual(['CONFIG_ARM64', 'CONFIG_CRYPTO_USER_API']);
  });

  it('is empty for text without configuration', () => {
    expect(parseKconfig('# CONFIG_ARM64 is not set\n').size).toBe(0);
  });
});

describe('inspectHeaderTree', () => {
  it('reads release, version and configuration of a tree', () => {
    const dir = makeTree({});
    const tree = inspectHeaderTree(dir);
    expect(tree.dir).toBe(dir);
    expect(tree.release).toBe('6.1.0-56-arm64');
    expect(tree.version).toBe('6.1.192');
    expect(tree.config.has('CONFIG_ARM64')).toBe(true);
  });

  it('reads include/linux/version.h when the uapi one is absent', () => {
    const dir = makeTree({ 'include/generated/uapi/linux/version.h': undefined, 'include/linux/version.h': '#define LINUX_VERSION_CODE 396800\n' });
    expect(inspectHeaderTree(dir).version).toBe('6.14.0');
  });

  it('falls back to the release for the version without a version header', () => {
    const dir = makeTree({
      'include/generated/uapi/linux/version.h': undefined,
      'include/generated/utsrelease.h': '#define UTS_RELEASE "6.8.9-300.fc40.aarch64"\n',
    });
    expect(inspectHeaderTree(dir).version).toBe('6.8.9');
  });

  it('reads autoconf.h when there is no .config', () => {
    const dir = makeTree({ '.config': undefined, 'include/generated/autoconf.h': '#define CONFIG_X86_64 1\n' });
    expect([...inspectHeaderTree(dir).config]).toEqual(['CONFIG_X86_64']);
  });

  it('refuses a directory without a Makefile', () => {
    const dir = makeTree({ Makefile: undefined });
    const error = catchArmkit(() => inspectHeaderTree(dir));
    expect(error.kind).toBe('prerequisite');
    expect(error.message).toContain('no Makefile');
  });

  it('refuses an unconfigured tree (no utsrelease.h) as a missing prerequisite', () => {
    const dir = makeTree({ 'include/generated/utsrelease.h': undefined });
    const error = catchArmkit(() => inspectHeaderTree(dir));
    expect(error.kind).toBe('prerequisite');
    expect(error.exitCode).toBe(4);
    expect(error.message).toContain(dir);
    expect(error.message).toContain('include/generated/utsrelease.h');
  });

  it('refuses a tree without any configuration', () => {
    const dir = makeTree({ '.config': undefined });
    const error = catchArmkit(() => inspectHeaderTree(dir));
    expect(error.kind).toBe('prerequisite');
    expect(error.message).toContain('.config');
  });
});

describe('assertTreeArch', () => {
  it('accepts an arm64 tree for aarch64', () => {
    const tree = inspectHeaderTree(makeTree({}));
    expect(() => assertTreeArch(tree, findArch('aarch64'))).not.toThrow();
  });

  it('refuses an arm64 tree for x86_64, naming what it is for', () => {
    const dir = makeTree({});
    const error = catchArmkit(() => assertTreeArch(inspectHeaderTree(dir), findArch('x86_64')));
    expect(error.kind).toBe('verification');
    expect(error.exitCode).toBe(5);
    expect(error.message).toContain('are for aarch64');
    expect(error.message).toContain('not x86_64');
    expect(error.message).toContain('CONFIG_X86_64');
    expect(error.message).toContain(join(dir));
  });

  it('refuses an ARMv5 tree for armv7hl because it lacks CONFIG_CPU_V7', () => {
    const tree = inspectHeaderTree(makeTree({ '.config': ARMV5_CONFIG, 'include/generated/utsrelease.h': '#define UTS_RELEASE "6.1.0-56-marvell"\n' }));
    expect(() => assertTreeArch(tree, findArch('armv5tel'))).not.toThrow();
    const error = catchArmkit(() => assertTreeArch(tree, findArch('armv7hl')));
    expect(error.kind).toBe('verification');
    expect(error.message).toContain('lacks CONFIG_CPU_V7');
    expect(error.message).toContain('are for armv5tel');
    expect(error.message).not.toContain('CONFIG_ARM,');
  });

  it('says "another architecture" for a configuration matching none', () => {
    const tree = inspectHeaderTree(makeTree({ '.config': 'CONFIG_RISCV=y\n' }));
    const error = catchArmkit(() => assertTreeArch(tree, findArch('aarch64')));
    expect(error.message).toContain('another architecture');
  });
});

describe('archesOfConfig', () => {
  it('lists the table entries whose symbols are all set', () => {
    expect(archesOfConfig(new Set(['CONFIG_ARM', 'CONFIG_CPU_V7'])).map((a) => a.rpm)).toEqual(['armv7hl']);
    expect(archesOfConfig(new Set(['CONFIG_ARM'])).map((a) => a.rpm)).toEqual([]);
  });
});

describe('inspectHeaderTree with an empty version.h (regression)', () => {
  it('falls back to the version at the start of the release', () => {
    const dir = writeTree(tempDir(), {
      Makefile: '',
      'include/generated/utsrelease.h': '#define UTS_RELEASE "6.1.0-56-arm64"\n',
      '.config': 'CONFIG_ARM64=y\n',
      'include/generated/uapi/linux/version.h': '',
    });
    expect(inspectHeaderTree(dir).version).toBe('6.1.0');
  });
});

describe('treeTools', () => {
  it('asks for pahole only when the tree has BTF for modules and a vmlinux', () => {
    const files = {
      Makefile: '',
      'include/generated/utsrelease.h': '#define UTS_RELEASE "6.12.9-amd64"\n',
      '.config': 'CONFIG_X86_64=y\nCONFIG_DEBUG_INFO_BTF_MODULES=y\n',
    };
    const withoutVmlinux = writeTree(tempDir(), files);
    expect(treeTools(inspectHeaderTree(withoutVmlinux))).toEqual([]);
    const withVmlinux = writeTree(tempDir(), { ...files, vmlinux: 'ELF' });
    expect(treeTools(inspectHeaderTree(withVmlinux))).toEqual(['pahole']);
    const noBtf = writeTree(tempDir(), { ...files, '.config': 'CONFIG_X86_64=y\n', vmlinux: 'ELF' });
    expect(treeTools(inspectHeaderTree(noBtf))).toEqual([]);
  });
});
