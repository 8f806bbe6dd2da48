/**
 * What bench crypto learns before and while it measures, read from what OpenSSL and the kernel print (the texts
 * below are real ones: Debian 12's openssl 3.0.19, a 1.0.1e usage text, OpenWrt's DUMP_INFO example), the judgement
 * of whether an engine did the work, and the exact commands of the plan.
 */
import { describe, expect, it } from 'vitest';
import { chooseEngine } from '../../src/commands/bench-crypto-run.js';
import { planBenchCrypto, speedCommand } from '../../src/speed/plan.js';
import {
  cpuDriver,
  interruptDelta,
  kernelDriverFor,
  kernelName,
  parseDumpInfo,
  parseEngineAnswer,
  parseOpensslVersion,
  parseProcCrypto,
  parseSpeedHelp,
} from '../../src/speed/probe.js';
import { TIMES_WRAPPER } from '../../src/speed/steps.js';
import { offloadVerdict } from '../../src/speed/verdict.js';
import type { OpensslSpeedStep } from '../../src/step.js';
import { STEP_KINDS } from '../../src/steps/index.js';

const HELP_3_0 = `Usage: speed [options] [algorithm...]

General options:
 -help               Display this summary
 -mb                 Enable (tls1>=1) multi-block mode on EVP-named cipher
 -mr                 Produce machine readable output
 -multi +int         Run benchmarks in parallel
 -async_jobs +int    Enable async mode and start specified number of jobs
 -engine val         Use engine, possibly a hardware device
 -primes +int        Specify number of primes (for RSA only)

Timing options:
 -elapsed            Use wall-clock time instead of CPU user time as divisor
 -seconds +int       Run benchmarks for specified amount of seconds
 -bytes +int         Run [non-PKI] benchmarks on custom-sized buffer
 -misalign +int      Use specified offset to mis-align buffers

Provider options:
 -provider-path val  Provider load path (must be before 'provider' argument if required)
 -provider val       Provider to load (can be specified multiple times)
`;

const HELP_1_0 = `Error: bad option or value

Available values:
md2      md4      md5      hmac     sha1     sha256   sha512   whirlpoolrmd160
des-cbc  des-ede3 aes-128-cbc aes-192-cbc aes-256-cbc aes-128-ige aes-192-ige aes-256-ige

Available options:
-elapsed        measure time in real time instead of CPU user time.
-engine e       use engine e, possibly a hardware device.
-evp e          use EVP e.
-decrypt        time decryption instead of encryption (only EVP).
-mr             produce machine readable output.
-multi n        run n benchmarks in parallel.
`;

const DUMP_INFO = `(devcrypto) /dev/crypto engine
Information about ciphers supported by the /dev/crypto engine:
Cipher DES-CBC, NID=31, /dev/crypto info: id=1, driver=mv-cbc-des (hw accelerated)
Cipher BF-CBC, NID=91, /dev/crypto info: id=3, CIOCGSESSION (session open call) failed
Cipher AES-128-CBC, NID=419, /dev/crypto info: id=11, driver=mv-cbc-aes (hw accelerated)
Cipher AES-128-ECB, NID=418, /dev/crypto info: id=23, driver=ecb(aes-generic) (software)
`;

const PROC_CRYPTO = `name         : cbc(aes)
driver       : cbc(ecb(aes-fixed-time))
module       : kernel
priority     : 101
refcnt       : 1
selftest     : passed
internal     : no
type         : lskcipher

name         : cbc(aes)
driver       : mv-cbc-aes
module       : marvell_cesa
priority     : 300
internal     : no
type         : skcipher
async        : yes

name         : cbc(aes)
driver       : __cbc-aes-internal
module       : kernel
priority     : 400
internal     : yes
`;

describe('what the OpenSSL supports', () => {
  it('reads the version of every series, letters included', () => {
    expect(parseOpensslVersion('OpenSSL 3.0.19 27 Jan 2026 (Library: OpenSSL 3.0.19 27 Jan 2026)')).toEqual({
      version: '3.0.19',
      major: 3,
      minor: 0,
      patch: 19,
    });
    expect(parseOpensslVersion('OpenSSL 1.0.2k-fips  26 Jan 2017')?.version).toBe('1.0.2k');
    expect(parseOpensslVersion('LibreSSL 3.8.2')).toBeUndefined();
  });
  it('reads -elapsed, -seconds, -bytes, -mr, -engine, -provider from 3.x and 1.0.x help', () => {
    expect(parseSpeedHelp(HELP_3_0)).toEqual({ elapsed: true, seconds: true, bytes: true, mr: true, engine: true, provider: true });
    expect(parseSpeedHelp(HELP_1_0)).toEqual({ elapsed: true, seconds: false, bytes: false, mr: true, engine: true, provider: false });
    expect(parseSpeedHelp(HELP_3_0.replace(/^ -engine.*\n/m, '')).engine).toBe(false);
  });
  it('picks the engine of the series: cryptodev for 1.0.x, devcrypto after; none is software only', () => {
    expect(chooseEngine(undefined, 1, 0)).toBe('cryptodev');
    expect(chooseEngine(undefined, 3, 2)).toBe('devcrypto');
    expect(chooseEngine('none', 3, 0)).toBeUndefined();
    expect(() => chooseEngine('x; rm -rf /', 3, 0)).toThrow(/expected an engine id/);
  });
});

describe("an engine's own answer", () => {
  it('available, with the algorithms it offers', () => {
    const a = parseEngineAnswer('(devcrypto) /dev/crypto engine\n [DES-CBC, AES-128-CBC, AES-192-CBC]\n     [ available ]\n', 'devcrypto');
    expect(a).toMatchObject({ loaded: true, available: true, capabilities: ['DES-CBC', 'AES-128-CBC', 'AES-192-CBC'], errors: [] });
  });
  it('loaded but unavailable (padlock on a CPU without PadLock, as Debian 12 answers here)', () => {
    expect(parseEngineAnswer('(padlock) VIA PadLock (no-RNG, no-ACE)\n     [ unavailable ]\n', 'padlock')).toMatchObject({ loaded: true, available: false });
  });
  it('not there at all (Debian 12 has no devcrypto engine)', () => {
    const a = parseEngineAnswer(
      '40475EA4757F0000:error:12800067:DSO support routines:dlfcn_load:could not load the shared library:../crypto/dso/dso_dlfcn.c:115:filename(/usr/lib/x86_64-linux-gnu/engines-3/devcrypto.so): cannot open shared object file\n40475EA4757F0000:error:13000074:engine routines:ENGINE_by_id:no such engine:../crypto/engine/eng_list.c:428:id=devcrypto\n',
      'devcrypto',
    );
    expect(a.loaded).toBe(false);
    expect(a.errors).toHaveLength(2);
  });
  it("devcrypto's DUMP_INFO: the driver of each cipher, hardware or not, or no session", () => {
    const info = parseDumpInfo(DUMP_INFO);
    expect(info.find((d) => d.name === 'AES-128-CBC')).toEqual({
      kind: 'Cipher',
      name: 'AES-128-CBC',
      driver: 'mv-cbc-aes',
      accelerated: 'hw accelerated',
      sessionFailed: false,
    });
    expect(info.find((d) => d.name === 'BF-CBC')).toEqual({ kind: 'Cipher', name: 'BF-CBC', sessionFailed: true });
    expect(info.find((d) => d.name === 'AES-128-ECB')!.accelerated).toBe('software');
  });
});

describe('the kernel under it', () => {
  it('takes the highest-priority driver that is not internal, as a new session gets', () => {
    const algs = parseProcCrypto(PROC_CRYPTO);
    expect(algs).toHaveLength(3);
    expect(kernelDriverFor(algs, 'cbc(aes)')).toMatchObject({ driver: 'mv-cbc-aes', module: 'marvell_cesa', priority: 300, async: true });
    expect(kernelName('aes-128-cbc')).toBe('cbc(aes)');
    expect(kernelName('AES-256-GCM')).toBe('gcm(aes)');
    expect(kernelName('sha256')).toBe('sha256');
  });
  it('knows the drivers that run on the CPU, and does not take a hardware crypto engine for one', () => {
    for (const d of ['cbc(aes-generic)', 'cbc(ecb(aes-fixed-time))', 'cbc-aes-aesni', 'cbc-aes-ce', 'cbc-aes-neonbs', 'sha256-avx2', 'sha256-arm64'])
      expect(cpuDriver(d), d).toBe(true);
    for (const d of ['mv-cbc-aes', 'cbc-aes-caam', 'cbc-aes-omap', 'cbc-aes-sun8i-ce', 'cbc-aes-dthev2', 'atmel-cbc-aes']) expect(cpuDriver(d), d).toBe(false);
  });
  it('counts the interrupts that fired during a run, over all CPUs', () => {
    const before =
      '           CPU0       CPU1\n 28:       100         50   GICv2  54 Level     mv_crypto\n 30:      7000       7000   GICv2  27 Level     arch_timer\n';
    const after =
      '           CPU0       CPU1\n 28:      9100         50   GICv2  54 Level     mv_crypto\n 30:      7300       7400   GICv2  27 Level     arch_timer\n';
    expect(interruptDelta(before, after)).toEqual([
      { irq: '28', name: 'GICv2 54 Level mv_crypto', count: 9000 },
      { irq: '30', name: 'GICv2 27 Level arch_timer', count: 700 },
    ]);
  });
});

describe('did the engine do the work?', () => {
  const base = { engine: 'devcrypto', algo: 'aes-128-cbc', interrupts: [] };
  it('an engine failure in the output is a software fallback', () => {
    expect(offloadVerdict({ ...base, outputFailure: 'Could not open /dev/crypto: No such file or directory' })).toMatchObject({
      status: 'not-offload',
      reason: 'the engine failed and openssl went on in software: Could not open /dev/crypto: No such file or directory',
    });
  });
  it('openssl never opening /dev/crypto is no offload, whatever the driver', () => {
    const v = offloadVerdict({ ...base, devCryptoOpened: false, dumpInfo: parseDumpInfo(DUMP_INFO)[2]! });
    expect(v.status).toBe('not-offload');
    expect(v.reason).toBe('openssl never opened /dev/crypto during the engine run: it did the work itself');
  });
  it('a kernel driver that runs on the CPU is no offload: the CPU did it in the kernel', () => {
    const v = offloadVerdict({ ...base, devCryptoOpened: true, kernelDriver: parseProcCrypto(PROC_CRYPTO)[0]! });
    expect(v).toMatchObject({ status: 'not-offload', driver: 'cbc(ecb(aes-fixed-time))' });
    expect(offloadVerdict({ ...base, devCryptoOpened: true, dumpInfo: parseDumpInfo(DUMP_INFO)[3]! }).status).toBe('not-offload');
  });
  it('a session that could not open means openssl did the cipher itself', () => {
    expect(offloadVerdict({ ...base, devCryptoOpened: true, dumpInfo: parseDumpInfo(DUMP_INFO)[1]! }).reason).toMatch(/CIOCGSESSION failed/);
  });
  it('hardware: DUMP_INFO says so, or a driver not on the CPU while crypto interrupts fire', () => {
    expect(offloadVerdict({ ...base, devCryptoOpened: true, dumpInfo: parseDumpInfo(DUMP_INFO)[2]! })).toMatchObject({
      status: 'offload',
      driver: 'mv-cbc-aes',
    });
    const kernelDriver = kernelDriverFor(parseProcCrypto(PROC_CRYPTO), 'cbc(aes)')!;
    const irq = [{ irq: '28', name: 'GICv2 54 Level mv_crypto', count: 9000 }];
    expect(offloadVerdict({ ...base, engine: 'afalg', kernelDriver, interrupts: irq })).toMatchObject({ status: 'offload' });
    const quiet = offloadVerdict({ ...base, engine: 'afalg', kernelDriver, interrupts: [{ irq: '30', name: 'arch_timer', count: 700 }] });
    expect(quiet.status).toBe('unproven');
    expect(quiet.reason).toMatch(/nothing shows hardware at work/);
  });
});

describe('the plan', () => {
  const features3 = parseSpeedHelp(HELP_3_0);
  const input = { openssl: '/usr/bin/openssl', features: features3, algos: ['aes-128-cbc'], sizes: [16, 1024], outputDir: '/o', logsDir: '/o/logs' };
  it('3.x: -elapsed, -seconds, one process per block size, pinned; software, engine, then both at once', () => {
    const plan = planBenchCrypto({ ...input, engine: 'devcrypto', seconds: 2, cpu: 0 });
    const speed = plan.steps.filter((s): s is OpensslSpeedStep => s.kind === 'openssl-speed');
    expect(speed.map((s) => s.runs.map((r) => r.label))).toEqual([
      ['aes-128-cbc-software'],
      ['aes-128-cbc-engine'],
      ['aes-128-cbc-software-together', 'aes-128-cbc-engine-together'],
    ]);
    expect(speed[1]!.runs[0]!.argv).toEqual([
      'taskset',
      '-c',
      '0',
      '/usr/bin/openssl',
      'speed',
      '-elapsed',
      '-seconds',
      '2',
      '-engine',
      'devcrypto',
      '-evp',
      'aes-128-cbc',
    ]);
    expect(speed[0]!.sizes).toEqual([16, 1024]);
    expect(plan.requires).toEqual(['/usr/bin/openssl', 'sh', 'taskset']);
    const shell = STEP_KINDS['openssl-speed'].shell(speed[2]!, '/o/logs');
    expect(shell).toContain(
      `sh -c '${TIMES_WRAPPER}' sh taskset -c 0 /usr/bin/openssl speed -elapsed -seconds 2 -evp aes-128-cbc -bytes 1024 > /o/aes-128-cbc-software-together-1024.txt &`,
    );
    expect(shell).toMatch(/-engine devcrypto -evp aes-128-cbc -bytes 1024 > \/o\/aes-128-cbc-engine-together-1024\.txt &\nwait/);
  });
  it('1.0.x: no -seconds or -bytes, so one process runs its own sizes; the cryptodev engine', () => {
    const plan = planBenchCrypto({ ...input, features: parseSpeedHelp(HELP_1_0), engine: 'cryptodev', seconds: 2, sizes: [] });
    const speed = plan.steps.filter((s): s is OpensslSpeedStep => s.kind === 'openssl-speed');
    expect(speed[1]!.runs[0]!.argv).toEqual(['/usr/bin/openssl', 'speed', '-elapsed', '-engine', 'cryptodev', '-evp', 'aes-128-cbc']);
    expect(speed[0]!.sizes).toEqual([]);
    expect(STEP_KINDS['openssl-speed'].shell(speed[0]!, '/o/logs')).toContain('-evp aes-128-cbc > /o/aes-128-cbc-software.txt');
  });
  it('software only: one step per algorithm', () => {
    const plan = planBenchCrypto({ ...input, algos: ['aes-128-cbc', 'sha256'] });
    expect(plan.steps.filter((s) => s.kind === 'openssl-speed').map((s) => s.title)).toEqual([
      'openssl speed -evp aes-128-cbc: software',
      'openssl speed -evp sha256: software',
    ]);
    expect(speedCommand(input, 'sha256', false)).toEqual(['/usr/bin/openssl', 'speed', '-elapsed', '-evp', 'sha256']);
  });
});
