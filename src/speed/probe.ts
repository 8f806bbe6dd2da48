/**
 * What an OpenSSL and the kernel under it offer `armkit bench crypto`, read from what they print: the version,
 * the options of `openssl speed` (-elapsed, -seconds, -bytes, -mr, -engine, -provider), an engine's own answer
 * (`openssl engine -t -c`, devcrypto's DUMP_INFO with the kernel driver of each cipher), /proc/crypto's drivers,
 * /proc/interrupts and /proc/modules. The parsers are pure; probeOpenssl runs the probes through the runner.
 */
import type { Runner } from '../proc/runner.js';

export interface SpeedFeatures {
  elapsed: boolean;
  seconds: boolean;
  bytes: boolean;
  mr: boolean;
  engine: boolean;
  provider: boolean;
}

/** `OpenSSL 3.0.19 27 Jan 2026 (Library: ...)`, `OpenSSL 1.0.2k-fips  26 Jan 2017` → the version and its series. */
export function parseOpensslVersion(text: string): { version: string; major: number; minor: number; patch: number } | undefined {
  const m = /OpenSSL (\d+)\.(\d+)\.(\d+)([a-z]*)/.exec(text);
  if (!m) return undefined;
  return { version: `${m[1]}.${m[2]}.${m[3]}${m[4]}`, major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

/** The options `openssl speed -help` lists (1.1.0+ "-elapsed  Use wall-clock...", 1.0.x "Available options:" on stderr). */
export function parseSpeedHelp(text: string): SpeedFeatures {
  const options = new Set([...text.matchAll(/^\s*-([a-z][\w-]*)\b/gm)].map((m) => m[1]!));
  return {
    elapsed: options.has('elapsed'),
    seconds: options.has('seconds'),
    bytes: options.has('bytes'),
    mr: options.has('mr'),
    engine: options.has('engine'),
    provider: options.has('provider'),
  };
}

export interface EngineAnswer {
  /** OpenSSL found and loaded it. */
  loaded: boolean;
  /** `[ available ]` (its init succeeded). */
  available: boolean;
  /** The algorithms it lists (`[AES-128-CBC, ...]`). */
  capabilities: string[];
  /** What went wrong, in OpenSSL's words. */
  errors: string[];
  /** The engine's own name line: `(devcrypto) /dev/crypto engine`. */
  name?: string;
}

/** `openssl engine -t -c ID`: `(id) name`, `[ciphers]`, `[ available ]` or `[ unavailable ]`, or errors. */
export function parseEngineAnswer(text: string, id: string): EngineAnswer {
  const lines = text.split('\n').map((l) => l.trim());
  const name = lines.find((l) => l.startsWith(`(${id})`));
  const capabilities = lines
    .filter((l) => /^\[[^\]]*\]$/.test(l) && !/^\[ *(un)?available *\]$/.test(l))
    .flatMap((l) =>
      l
        .slice(1, -1)
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean),
    );
  const errors = lines.filter((l) => /:error:|no such engine|invalid engine|could not|cannot|failed/i.test(l));
  return {
    loaded: Boolean(name),
    available: lines.some((l) => /^\[ *available *\]$/.test(l)),
    capabilities,
    errors,
    ...(name ? { name } : {}),
  };
}

export interface DriverInfo {
  kind: 'Cipher' | 'Digest';
  name: string;
  /** The kernel driver behind /dev/crypto, or undefined when no session could be opened. */
  driver?: string;
  accelerated?: 'hw accelerated' | 'software' | 'acceleration status unknown';
  sessionFailed: boolean;
}

/** devcrypto's `openssl engine -pre DUMP_INFO devcrypto` (1.1.1+): the kernel driver of each cipher and digest. */
export function parseDumpInfo(text: string): DriverInfo[] {
  const out: DriverInfo[] = [];
  for (const m of text.matchAll(/^(Cipher|Digest) ([^,]+), NID=\d+, \/dev\/crypto info: id=\d+, (.*)$/gm)) {
    const rest = m[3]!.trim();
    const d = /^driver=(\S+) \((hw accelerated|software|acceleration status unknown)\)/.exec(rest);
    out.push({
      kind: m[1] as DriverInfo['kind'],
      name: m[2]!.trim(),
      ...(d ? { driver: d[1], accelerated: d[2] as DriverInfo['accelerated'] } : {}),
      sessionFailed: /CIOCGSESSION .*failed/.test(rest),
    });
  }
  return out;
}

export interface KernelAlgorithm {
  name: string;
  driver: string;
  module: string;
  priority: number;
  type?: string;
  internal: boolean;
  async?: boolean;
}

export function parseProcCrypto(text: string): KernelAlgorithm[] {
  return text
    .split(/\n\s*\n/)
    .map((block) => {
      const f: Record<string, string> = {};
      for (const line of block.split('\n')) {
        const m = /^(\w+)\s*:\s*(.*)$/.exec(line.trim());
        if (m) f[m[1]!] = m[2]!.trim();
      }
      return f;
    })
    .filter((f) => f.name && f.driver)
    .map((f) => ({
      name: f.name!,
      driver: f.driver!,
      module: f.module ?? 'kernel',
      priority: Number(f.priority ?? 0),
      ...(f.type ? { type: f.type } : {}),
      internal: f.internal === 'yes',
      ...(f.async ? { async: f.async === 'yes' } : {}),
    }));
}

/** The kernel's name for an EVP algorithm: aes-128-cbc → cbc(aes), des-ede3-cbc → cbc(des3_ede), sha256 → sha256. */
export function kernelName(evp: string): string | undefined {
  const a = evp.toLowerCase();
  const aes = /^aes-(?:128|192|256)-(cbc|ecb|ctr|gcm|xts|ofb|cfb)$/.exec(a);
  if (aes) return `${aes[1]}(aes)`;
  if (a === 'des-ede3-cbc') return 'cbc(des3_ede)';
  if (a === 'des-cbc') return 'cbc(des)';
  if (/^(sha1|sha224|sha256|sha384|sha512|md5)$/.test(a)) return a;
  return undefined;
}

/** The driver the kernel hands a new session of `name` to: the highest priority one that is not internal. */
export function kernelDriverFor(algorithms: KernelAlgorithm[], name: string): KernelAlgorithm | undefined {
  return algorithms.filter((a) => a.name === name && !a.internal).sort((x, y) => y.priority - x.priority)[0];
}

/**
 * Drivers that run on the CPU: the generic C code and the CPU's own instructions (AES-NI, ARMv8 Crypto
 * Extensions, NEON, bit-sliced). Work they do is done by the CPU, in the kernel: not offload.
 */
export function cpuDriver(driver: string): boolean {
  // `-ce` is ARM's Crypto Extensions (cbc-aes-ce), but Allwinner's crypto engine is hardware (cbc-aes-sun8i-ce).
  return /generic|fixed-time|aesni|-ni\b|(?<!sun\d+i)-ce\b|neon|-arm64\b|-arm\b|avx|ssse3|sse2|-asm\b|x86_64|-x86\b|padlock|-riscv|zvk/i.test(driver);
}

/** /proc/interrupts: the total count of each line (all CPUs) and its description. */
export function parseInterrupts(text: string): Map<string, { count: number; name: string }> {
  const out = new Map<string, { count: number; name: string }>();
  const lines = text.split('\n');
  const cpus = (lines[0] ?? '').trim().split(/\s+/).filter(Boolean).length;
  for (const line of lines.slice(1)) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const fields = m[2]!.trim().split(/\s+/);
    const counts = fields.slice(0, cpus).map(Number);
    if (counts.some((c) => !Number.isFinite(c))) continue;
    out.set(m[1]!, { count: counts.reduce((a, b) => a + b, 0), name: fields.slice(cpus).join(' ') });
  }
  return out;
}

/** Interrupt lines that fired during a run, and how often. */
export function interruptDelta(before: string, after: string): Array<{ irq: string; name: string; count: number }> {
  const a = parseInterrupts(before);
  const b = parseInterrupts(after);
  return [...b.entries()]
    .map(([irq, v]) => ({ irq, name: v.name, count: v.count - (a.get(irq)?.count ?? 0) }))
    .filter((d) => d.count > 0)
    .sort((x, y) => y.count - x.count);
}

/** Interrupts from crypto hardware: names like mv_crypto, caam, omap-aes, sun8i-ce, crypto, cesa, sec, dthe. */
export const CRYPTO_IRQ =
  /crypt|cesa|caam|aes|sha|omap-(?:aes|sham|des)|sahara|dcp|sec\b|talitos|qce|ccp|qat|ccree|dthe|rk-crypto|sun\di-ce|artpec|atmel-(?:aes|sha)|stm32-(?:cryp|hash)/i;

/** Everything armkit learnt about one OpenSSL before measuring. */
export interface OpensslProbe {
  binary: string;
  version: ReturnType<typeof parseOpensslVersion>;
  versionText: string;
  features: SpeedFeatures;
  helpText: string;
}

export async function probeOpenssl(runner: Runner, binary: string): Promise<OpensslProbe> {
  const version = await runner.capture([binary, 'version']);
  const help = await runner.capture([binary, 'speed', '-help']);
  const helpText = `${help.stdout}\n${help.stderr}`;
  return { binary, version: parseOpensslVersion(version.stdout), versionText: version.stdout.trim(), features: parseSpeedHelp(helpText), helpText };
}
