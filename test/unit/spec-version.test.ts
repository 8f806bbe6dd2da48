import { describe, expect, it } from 'vitest';
import { loadOpensslRecipe } from '../../src/recipes/openssl.js';
import { chooseEngine, engineCheckCommand } from '../../src/rpmspec/engine.js';
import { compareLetters, compareOpensslVersions, inRange, type OpensslVersion, parseOpensslVersion, seriesOf } from '../../src/rpmspec/version.js';
import { catchArmkit } from './helpers.js';

const v = (text: string): OpensslVersion => {
  const parsed = parseOpensslVersion(text);
  if (!parsed) throw new Error(`not a version: ${text}`);
  return parsed;
};

describe('parseOpensslVersion', () => {
  it.each([
    ['1.0.1e', '1.0.1', 'e'],
    ['0.9.8zh', '0.9.8', 'zh'],
    ['1.1.1w', '1.1.1', 'w'],
    ['3.0.7', '3.0.7', ''],
    ['3.0', '3.0.0', ''],
    ['3.0.0~alpha17', '3.0.0-alpha17', ''],
    ['1.0.2o+git5', '1.0.2', 'o'],
  ])('%s → numeric %s, letters "%s"', (text, numeric, letters) => {
    expect(parseOpensslVersion(text)).toEqual({ text, numeric, letters });
  });

  it.each(['', 'openssl', '1', '1.0.2-1', '1.0.2E', '%{version}', '1.0.2 u'])('rejects %j', (text) => {
    expect(parseOpensslVersion(text)).toBeUndefined();
  });
});

describe('ordering of letter releases', () => {
  it('a < b < ... < z < za < zb ... < zh', () => {
    expect(compareLetters('', 'a')).toBe(-1);
    expect(compareLetters('y', 'z')).toBe(-1);
    expect(compareLetters('z', 'za')).toBe(-1);
    expect(compareLetters('b', 'za')).toBe(-1);
    expect(compareLetters('za', 'zb')).toBe(-1);
    expect(compareLetters('zh', 'zh')).toBe(0);
    expect(compareLetters('zz', 'zza')).toBe(-1);
  });

  it('sorts real releases in release order', () => {
    const ordered = [
      '0.9.8',
      '0.9.8a',
      '0.9.8y',
      '0.9.8z',
      '0.9.8za',
      '0.9.8zh',
      '1.0.0',
      '1.0.0d',
      '1.0.1',
      '1.0.1e',
      '1.0.2k',
      '1.0.2m',
      '1.0.2u',
      '1.1.0i',
      '1.1.1',
      '1.1.1q',
      '1.1.1w',
      '3.0.0~alpha17',
      '3.0.0',
      '3.0.7',
      '3.2.4',
      '3.5.1',
      '4.0.1',
    ];
    // 7 and 23 (the list's length) are coprime: a fixed permutation.
    const shuffled = ordered.map((_, i) => ordered[(i * 7) % ordered.length]!);
    expect(shuffled).not.toEqual(ordered);
    expect(
      shuffled
        .map(v)
        .sort(compareOpensslVersions)
        .map((x) => x.text),
    ).toEqual(ordered);
  });

  it('compares numerically, not as strings', () => {
    expect(compareOpensslVersions(v('1.0.10'), v('1.0.9z'))).toBe(1);
    expect(compareOpensslVersions(v('3.10.0'), v('3.9.0'))).toBe(1);
  });
});

describe('ranges on the numeric part', () => {
  it.each([
    ['1.1.1w', '>=1.1.1 <3.0.0', true],
    ['1.1.0i', '>=1.1.1 <3.0.0', false],
    ['1.0.2u', '>=1.0.0 <1.1.1', true],
    ['0.9.8zh', '<1.0.0', true],
    ['3.5.1', '>=3.0.0 <4.0.0', true],
    ['4.0.0~alpha1', '>=4.0.0', true],
    ['4.0.0~alpha1', '>=3.0.0 <4.0.0', false],
  ])('%s in %s: %s', (text, range, expected) => {
    expect(inRange(v(text), range)).toBe(expected);
  });

  it('names the series', () => {
    expect(['1.0.2u', '1.1.1w', '3.5.1'].map((t) => seriesOf(v(t)))).toEqual(['1.0.x', '1.1.x', '3.x']);
  });
});

describe('chooseEngine with the shipped recipe', () => {
  const { recipe } = loadOpensslRecipe();
  const cryptodev = ['-DHAVE_CRYPTODEV', '-DUSE_CRYPTODEV_DIGESTS', '-DHASH_MAX_LEN=64'];

  it.each([
    ['1.0.0', 'cryptodev', cryptodev, 'builtin'],
    ['1.0.1e', 'cryptodev', cryptodev, 'builtin'],
    ['1.0.2zz', 'cryptodev', cryptodev, 'builtin'],
    // devcrypto came with 1.1.1; 1.1.0 still has eng_cryptodev.c and rejects enable-devcryptoeng.
    ['1.1.0i', 'cryptodev', cryptodev, 'builtin'],
    ['1.1.1', 'devcrypto', ['enable-devcryptoeng'], 'builtin'],
    ['1.1.1w', 'devcrypto', ['enable-devcryptoeng'], 'builtin'],
    ['3.0.0', 'devcrypto', ['enable-devcryptoeng'], 'dynamic'],
    ['3.5.1', 'devcrypto', ['enable-devcryptoeng'], 'dynamic'],
  ])('OpenSSL %s: %s engine, %j, %s', (text, engine, flags, module) => {
    const choice = chooseEngine(recipe, v(text));
    expect(choice).toMatchObject({ engine, flags, module, check: `openssl engine -t -c ${engine}` });
  });

  it('refuses 0.9.8 with why and what instead', () => {
    for (const text of ['0.9.8', '0.9.8n', '0.9.8zh']) {
      const error = catchArmkit(() => chooseEngine(recipe, v(text)));
      expect(error.kind).toBe('verification');
      expect(error.exitCode).toBe(5);
      expect(error.message).toContain(`OpenSSL ${text}`);
      expect(error.message).toContain('OCF-Linux');
      expect(error.details.join(' ')).toMatch(/1\.0\.x or later/);
    }
  });

  it('refuses 4.x: ENGINE removed, no provider, 3.x is the last usable series', () => {
    for (const text of ['4.0.0', '4.0.1', '4.0.0~alpha1', '5.1.0']) {
      const error = catchArmkit(() => chooseEngine(recipe, v(text)));
      expect(error.kind).toBe('verification');
      expect(error.message).toMatch(/removed ENGINE support/);
      expect(error.message).toMatch(/no \/dev\/crypto provider/);
      expect(error.details.join(' ')).toMatch(/last usable series is 3\.x/);
    }
  });

  it('check command', () => {
    expect(engineCheckCommand('devcrypto')).toBe('openssl engine -t -c devcrypto');
  });
});
