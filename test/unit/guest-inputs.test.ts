import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findArch } from '../../src/arch.js';
import { latestBuild } from '../../src/artifacts/builds.js';
import { katFromHeader, upstreamChecks } from '../../src/commands/test.js';
import { cryptoModulePaths, debFileName } from '../../src/guest/assets.js';
import { catchArmkit, tempDir, writeTree } from './helpers.js';

const DEVEL = 'cryptodev-linux-devel-1.14-1.aarch64.rpm';

/** A manifest as armkit writes it (schema 2), with the given fields. */
function validManifest(fields: Record<string, unknown>): string {
  return JSON.stringify({
    schema: 2,
    recipe: 'cryptodev',
    kind: 'kmod',
    package: 'cryptodev-linux',
    version: 'x',
    arch: 'aarch64',
    mode: 'cross',
    engine: 'local',
    source: { kind: 'recipe', verified: true },
    armkit: '0',
    createdAt: '2026-01-01T00:00:00Z',
    artifacts: [],
    ...fields,
  });
}

describe('katFromHeader', () => {
  it('skips when the devel package has no crypto/cryptodev.h', () => {
    expect(katFromHeader(undefined, DEVEL)).toEqual({
      skip: 'cryptodev-linux-devel-1.14-1.aarch64.rpm has no crypto/cryptodev.h',
    });
  });

  it("skips a stand-in header that is not cryptodev-linux's", () => {
    const dir = writeTree(tempDir(), {
      'usr/include/crypto/cryptodev.h': '/* test fixture */\n#ifndef ARMKIT_TEST_FIXTURE\n#define ARMKIT_TEST_FIXTURE 1\n#endif\n',
    });
    const result = katFromHeader(readFileSync(join(dir, 'usr/include/crypto/cryptodev.h'), 'utf8'), DEVEL);
    expect(result).toEqual({
      skip: `crypto/cryptodev.h in ${DEVEL} is not cryptodev-linux's (no CIOCGSESSION/CIOCCRYPT): the known-answer test needs the real header and module`,
    });
    expect('skip' in result && result.skip).toContain("is not cryptodev-linux's");
  });

  it('skips a header that only mentions the ioctls, or defines only one of them', () => {
    const dir = tempDir();
    writeTree(dir, {
      'a/usr/include/crypto/cryptodev.h': '/* CIOCGSESSION and CIOCCRYPT live elsewhere */\n',
      'b/usr/include/crypto/cryptodev.h': "#define CIOCGSESSION _IOWR('c', 102, struct session_op)\n",
      'c/usr/include/crypto/cryptodev.h': "#define CIOCCRYPT _IOWR('c', 104, struct crypt_op)\n",
      'd/usr/include/crypto/cryptodev.h': "#define CIOCGSESSION2 1\n#define CIOCCRYPT _IOWR('c', 104, struct crypt_op)\n",
    });
    for (const v of ['a', 'b', 'c', 'd']) {
      const result = katFromHeader(readFileSync(join(dir, v, 'usr/include/crypto/cryptodev.h'), 'utf8'), DEVEL);
      expect(result, v).toHaveProperty('skip');
      expect('skip' in result ? result.skip : '', v).toContain("is not cryptodev-linux's");
    }
  });

  it("runs with cryptodev-linux's header", () => {
    const dir = writeTree(tempDir(), {
      'usr/include/crypto/cryptodev.h': [
        '#ifndef L_CRYPTODEV_H',
        '#define L_CRYPTODEV_H',
        '#include <linux/types.h>',
        "#define CIOCGSESSION    _IOWR('c', 102, struct session_op)",
        "#define CIOCFSESSION    _IOW('c', 103, __u32)",
        "#define CIOCCRYPT       _IOWR('c', 104, struct crypt_op)",
        '#endif',
        '',
      ].join('\n'),
    });
    expect(katFromHeader(readFileSync(join(dir, 'usr/include/crypto/cryptodev.h'), 'utf8'), DEVEL)).toEqual({ run: true });
  });
});

// cryptodev-linux 1.14 tests/Makefile, from "all:" on (tabs as upstream has them).
const UPSTREAM_MAKEFILE = [
  'CFLAGS += -I.. $(CRYPTODEV_CFLAGS) -Wall',
  '',
  'comp_progs := cipher_comp hash_comp hmac_comp',
  '',
  'hostprogs := cipher cipher-aead hmac speed async_cipher async_hmac \\',
  '\tasync_speed sha_speed hashcrypt_speed fullspeed cipher-gcm \\',
  '\tcipher-aead-srtp $(comp_progs)',
  '',
  'all: $(hostprogs)',
  '',
  'check: $(hostprogs)',
  '\t./cipher',
  '\t./hmac',
  '\t./async_cipher',
  '\t./async_hmac',
  '\t./cipher-aead-srtp',
  '\t./cipher-gcm',
  '\t./cipher-aead',
  '',
  'install:',
  '\tinstall -d $(DESTDIR)/$(bindir)',
  '\tfor prog in $(hostprogs); do \\',
  '\t\tinstall -m 755 $$prog $(DESTDIR)/$(bindir); \\',
  '\tdone',
  '',
  'clean:',
  '\trm -f *.o *~ $(hostprogs)',
  '',
  '${comp_progs}: LDLIBS += -lssl -lcrypto',
  '${comp_progs}: %: %.o openssl_wrapper.o',
  '',
  '.PHONY: all clean check install',
  '',
].join('\n');

describe('upstreamChecks', () => {
  const makefile = (text: string) => join(writeTree(tempDir(), { 'tests/Makefile': text }), 'tests/Makefile');

  it("reads the programs of upstream's check target, in order", () => {
    expect(upstreamChecks(makefile(UPSTREAM_MAKEFILE))).toEqual([
      'cipher',
      'hmac',
      'async_cipher',
      'async_hmac',
      'cipher-aead-srtp',
      'cipher-gcm',
      'cipher-aead',
    ]);
  });

  it('reads CRLF Makefiles the same', () => {
    expect(upstreamChecks(makefile(UPSTREAM_MAKEFILE.replaceAll('\n', '\r\n')))).toEqual([
      'cipher',
      'hmac',
      'async_cipher',
      'async_hmac',
      'cipher-aead-srtp',
      'cipher-gcm',
      'cipher-aead',
    ]);
  });

  it('leaves out recipe lines that are not a bare ./program', () => {
    const text = 'check: all\n\t./cipher\n\t@echo done\n\t./hmac --verbose\n\t./sha_speed\n\tcd .. && ./x\n\ninstall:\n\t./not-a-check\n';
    expect(upstreamChecks(makefile(text))).toEqual(['cipher', 'sha_speed']);
  });

  it('returns [] without a check target', () => {
    const text = UPSTREAM_MAKEFILE.replace(/check: \$\(hostprogs\)\n(\t[^\n]*\n)+/, '');
    expect(text).not.toContain('check:');
    expect(upstreamChecks(makefile(text))).toEqual([]);
    expect(upstreamChecks(makefile('all:\n\t./cipher\n'))).toEqual([]);
    expect(upstreamChecks(makefile(''))).toEqual([]);
  });

  it('does not take a target that merely ends in "check"', () => {
    expect(upstreamChecks(makefile('precheck:\n\t./cipher\n\nfullcheck: x\n\t./hmac\n'))).toEqual([]);
  });
});

describe('latestBuild', () => {
  const aarch64 = findArch('aarch64');
  const manifest = (createdAt: string, arch = 'aarch64') => validManifest({ arch, createdAt });

  it('picks the aarch64 build with the newest createdAt, ignoring other arches and unfinished builds', () => {
    const out = writeTree(tempDir(), {
      'cryptodev/1.14/aarch64/manifest.json': manifest('2026-11-20T10:00:00.000Z'),
      // Newer, but for another architecture.
      'cryptodev/1.14/armv7hl/manifest.json': manifest('2026-11-27T09:00:00.000Z', 'armv7hl'),
      'cryptodev/1.13/x86_64/manifest.json': manifest('2026-11-27T09:30:00.000Z', 'x86_64'),
      // Newest aarch64 one; its version sorts before 1.14, so order comes from createdAt, not the name.
      'cryptodev/1.14^20251105git08644db/aarch64/manifest.json': manifest('2026-11-26T10:00:00.000Z'),
      'cryptodev/1.12/aarch64/manifest.json': manifest('2026-11-25T10:00:00.000Z'),
      // No manifest: an interrupted build.
      'cryptodev/1.15/aarch64/kmod-cryptodev.rpm': 'partial',
      // Another recipe.
      'openssl/3.0/aarch64/manifest.json': manifest('2026-11-27T11:00:00.000Z'),
    });
    expect(latestBuild(out, 'cryptodev', aarch64)).toBe(join(out, 'cryptodev', '1.14^20251105git08644db', 'aarch64'));
  });

  it('leaves out manifests it cannot read (another schema, broken JSON), and finds kmod builds one level down', () => {
    const out = writeTree(tempDir(), {
      'cryptodev/a/aarch64/manifest.json': JSON.stringify({ arch: 'aarch64', schema: 1 }),
      'cryptodev/b/aarch64/6.1.0-57-arm64/manifest.json': manifest('2026-01-01T00:00:00.000Z'),
      'cryptodev/c/aarch64/manifest.json': '{ "arch": "aarch64", ',
    });
    expect(latestBuild(out, 'cryptodev', aarch64)).toBe(join(out, 'cryptodev', 'b', 'aarch64', '6.1.0-57-arm64'));
  });

  it('throws a usage error naming the build command when there is no aarch64 build', () => {
    const out = writeTree(tempDir(), {
      'cryptodev/1.14/armv7hl/manifest.json': manifest('2026-11-27T09:00:00.000Z', 'armv7hl'),
      'cryptodev/1.14/aarch64/kmod-cryptodev.rpm': 'no manifest',
    });
    const error = catchArmkit(() => latestBuild(out, 'cryptodev', aarch64));
    expect(error.kind).toBe('usage');
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('armkit build cryptodev --arch aarch64');
    expect(error.message).toContain(`under ${join(out, 'cryptodev')}`);
    expect(error.message).toContain('--from DIR');
  });

  it('throws the same usage error when the output root does not exist', () => {
    const error = catchArmkit(() => latestBuild(join(tempDir(), 'nowhere'), 'cryptodev', aarch64));
    expect(error.kind).toBe('usage');
    expect(error.message).toMatch(/^No cryptodev build for aarch64 under .*: run "armkit build cryptodev --arch aarch64 \.\.\." first, or pass --from DIR\.$/);
  });
});

describe('debFileName', () => {
  it("escapes the epoch's colon as apt-get download names the file", () => {
    expect(debFileName('busybox-static', '1:1.35.0-4+deb12u1+b1', 'arm64')).toBe('busybox-static_1%3a1.35.0-4+deb12u1+b1_arm64.deb');
  });

  it('leaves a version without an epoch as it is', () => {
    expect(debFileName('linux-image-6.1.0-56-arm64', '6.1.241-1', 'arm64')).toBe('linux-image-6.1.0-56-arm64_6.1.241-1_arm64.deb');
  });
});

describe('cryptoModulePaths', () => {
  it('lists the module index files and crypto directories under lib/modules/<release> for aarch64', () => {
    expect(cryptoModulePaths('6.1.0-56-arm64', findArch('aarch64'))).toEqual([
      'lib/modules/6.1.0-56-arm64/modules.order',
      'lib/modules/6.1.0-56-arm64/modules.builtin',
      'lib/modules/6.1.0-56-arm64/modules.builtin.modinfo',
      'lib/modules/6.1.0-56-arm64/kernel/crypto/',
      'lib/modules/6.1.0-56-arm64/kernel/lib/crypto/',
      'lib/modules/6.1.0-56-arm64/kernel/arch/arm64/crypto/',
    ]);
  });

  it("uses the kernel's arch directory: arm for armv7hl, x86 for x86_64", () => {
    const armmp = cryptoModulePaths('6.1.0-56-armmp', findArch('armv7hl'));
    expect(armmp.at(-1)).toBe('lib/modules/6.1.0-56-armmp/kernel/arch/arm/crypto/');
    expect(armmp.filter((p) => p.includes('/arch/'))).toEqual(['lib/modules/6.1.0-56-armmp/kernel/arch/arm/crypto/']);
    expect(cryptoModulePaths('6.1.0-56-amd64', findArch('x86_64')).at(-1)).toBe('lib/modules/6.1.0-56-amd64/kernel/arch/x86/crypto/');
  });
});

describe('latestBuild with a kernel', () => {
  it('picks the build made for that kernel release or --kernel form, and names the others when none matches', () => {
    const out = tempDir();
    const write = (version: string, createdAt: string, release: string, spec: string) =>
      writeTree(out, {
        [`cryptodev/${version}/aarch64/${release}/manifest.json`]: validManifest({ createdAt, kernel: { release, version: '6.1', spec, dir: '/k' } }),
      });
    write('1.14', '2026-01-02T00:00:00Z', '6.1.0-56-arm64', 'debian:latest');
    write('1.14^20251105git08644db', '2026-01-03T00:00:00Z', '6.12.9-arm64', '/k/6.12');
    const aarch64 = findArch('aarch64');
    expect(latestBuild(out, 'cryptodev', aarch64)).toBe(join(out, 'cryptodev/1.14^20251105git08644db/aarch64/6.12.9-arm64'));
    expect(latestBuild(out, 'cryptodev', aarch64, '6.1.0-56-arm64')).toBe(join(out, 'cryptodev/1.14/aarch64/6.1.0-56-arm64'));
    expect(latestBuild(out, 'cryptodev', aarch64, 'debian:latest')).toBe(join(out, 'cryptodev/1.14/aarch64/6.1.0-56-arm64'));
    const err = catchArmkit(() => latestBuild(out, 'cryptodev', aarch64, '6.9.0-1-arm64'));
    expect(err.kind).toBe('usage');
    expect(err.message).toContain('for kernel 6.9.0-1-arm64');
    expect(err.message).toContain('there are builds for 6.1.0-56-arm64, 6.12.9-arm64');
  });
});
