/**
 * armkit bench build, the pure parts: the plan of each mode (the make the kmod spec runs, in the right place),
 * the reasons a mode cannot run, the guest's timings, the report (best of N, percent of the fastest), the table
 * and the chart (valid SVG, one bar per measured mode).
 */
import { describe, expect, it } from 'vitest';
import { findArch } from '../../src/arch.js';
import { binfmtProblem, parseCount, parseModes, sourcesLines } from '../../src/commands/bench-build.js';
import { type BenchBuildInput, mmdebstrapArgv, planBenchBuild, qemuUserName, ROOT_SRC } from '../../src/plan/bench-build.js';
import { buildChartModel, renderBuildChart } from '../../src/speed/build-chart.js';
import { buildBenchReport, buildBenchTable, type ReportFacts } from '../../src/speed/build-report.js';
import { parseGuestTimings, runLabels } from '../../src/speed/build-steps.js';
import type { Plan, Step, StepOf } from '../../src/step.js';
import { STEP_KINDS } from '../../src/steps/index.js';
import { wellFormedXml } from './helpers.js';

const RELEASE = '6.1.0-57-arm64';
const HEADERS = `/c/kernels/debian/arm64/${RELEASE}/root/usr/src/linux-headers-${RELEASE}`;
const ROOT = `/c/bench/roots/arm64-${RELEASE}-abc`;
const aarch64 = findArch('aarch64');

function input(overrides: Partial<BenchBuildInput> = {}): BenchBuildInput {
  return {
    recipe: {
      name: 'cryptodev',
      make: { target: 'build', vars: { kernelDir: 'KERNEL_DIR', arch: 'ARCH', crossCompile: 'CROSS_COMPILE' } },
      module: { name: 'cryptodev', built: 'cryptodev.ko' },
    },
    arch: aarch64,
    version: '1.14',
    source: { kind: 'directory', path: '/src/cryptodev', version: '1.14' },
    cacheDir: '/c',
    kernel: { release: RELEASE, dir: HEADERS, prepare: [] },
    crossPrefix: 'aarch64-linux-gnu-',
    jobs: 2,
    warmup: 1,
    runs: 3,
    work: '/c/work/bench-build-cryptodev-aarch64',
    modes: [{ mode: 'cross' }, { mode: 'native', unable: 'this host is x86_64' }, { mode: 'emulated' }, { mode: 'guest' }],
    root: {
      dir: ROOT,
      cached: false,
      suite: 'bookworm',
      sources: ['deb http://deb.debian.org/debian bookworm main'],
      packages: ['make', 'gcc', 'mount', `linux-headers-${RELEASE}`],
      headersDir: `/usr/src/linux-headers-${RELEASE}`,
      initramfs: { path: `${ROOT}.cpio.gz`, cached: false },
    },
    guest: { kernelImage: `/c/guest/debian/arm64/linux-image-${RELEASE}/boot/vmlinuz-${RELEASE}`, prepare: [], timeoutSeconds: 3600, memoryMiB: 3072 },
    ...overrides,
  };
}

const planOf = (plans: ReturnType<typeof planBenchBuild>, mode: string): Plan => {
  const p = plans.find((x) => x.mode === mode)!;
  if ('unable' in p) throw new Error(`${mode} is unable: ${p.unable}`);
  return p.plan;
};
const stepOf = <K extends Step['kind']>(plan: Plan, kind: K): StepOf<K> => plan.steps.find((s) => s.kind === kind) as StepOf<K>;

describe('the plans of bench build', () => {
  const plans = planBenchBuild(input());

  it('keeps the modes in the order asked, with the reason of one that cannot run', () => {
    expect(plans.map((p) => p.mode)).toEqual(['cross', 'native', 'emulated', 'guest']);
    expect(plans[1]).toEqual({ mode: 'native', unable: 'this host is x86_64' });
  });

  it("cross: times the kmod spec's make (ARCH, CROSS_COMPILE, the Debian headers) with make clean before each run", () => {
    const t = stepOf(planOf(plans, 'cross'), 'timed-build');
    expect(t.argv).toEqual(['make', '-j2', `KERNEL_DIR=${HEADERS}`, 'ARCH=arm64', 'CROSS_COMPILE=aarch64-linux-gnu-', 'build']);
    expect(t.clean).toEqual(['make', '-j2', `KERNEL_DIR=${HEADERS}`, 'ARCH=arm64', 'CROSS_COMPILE=aarch64-linux-gnu-', 'clean']);
    expect(t.cwd).toBe('/c/work/bench-build-cryptodev-aarch64/cross/src');
    expect([t.warmup, t.runs]).toEqual([1, 3]);
    const check = stepOf(planOf(plans, 'cross'), 'check-module');
    expect(check).toMatchObject({ path: '/c/work/bench-build-cryptodev-aarch64/cross/src/cryptodev.ko', release: RELEASE, arch: aarch64 });
  });

  it('native: the same make without ARCH and CROSS_COMPILE', () => {
    const x86 = findArch('x86_64');
    const p = planBenchBuild(input({ arch: x86, crossPrefix: 'x86_64-linux-gnu-', modes: [{ mode: 'native' }] }));
    expect(stepOf(planOf(p, 'native'), 'timed-build').argv).toEqual(['make', '-j2', `KERNEL_DIR=${HEADERS}`, 'build']);
  });

  it("emulated: makes the target root once (mmdebstrap), then runs the root's own make inside it with chroot", () => {
    const plan = planOf(plans, 'emulated');
    const mm = plan.steps.find((s) => s.kind === 'exec' && s.argv[0] === 'mmdebstrap') as StepOf<'exec'>;
    expect(mm.argv).toEqual(mmdebstrapArgv(aarch64, input().root!, `${ROOT}.partial`));
    expect(mm.argv.slice(0, 4)).toEqual(['mmdebstrap', '--variant=apt', '--architectures=arm64', `--include=make,gcc,mount,linux-headers-${RELEASE}`]);
    expect(plan.steps.some((s) => s.kind === 'rename' && s.to === ROOT)).toBe(true);
    const t = stepOf(plan, 'timed-build');
    expect(t.argv).toEqual(['chroot', ROOT, 'make', '-C', ROOT_SRC, '-j2', `KERNEL_DIR=/usr/src/linux-headers-${RELEASE}`, 'build']);
    expect(t.clean.at(-1)).toBe('clean');
    expect(plan.requires).toEqual(['chroot', 'mmdebstrap']);
    expect(stepOf(plan, 'check-module').path).toBe(`${ROOT}/armkit-bench/src/cryptodev.ko`);
  });

  it('guest: does not make the root again, packs it once, appends /init and the source, boots with more memory and every CPU', () => {
    const plan = planOf(plans, 'guest');
    expect(plan.steps.some((s) => s.kind === 'exec' && s.argv[0] === 'mmdebstrap')).toBe(false);
    const packs = plan.steps.filter((s): s is StepOf<'pack-initramfs'> => s.kind === 'pack-initramfs');
    expect(packs.map((s) => s.root)).toEqual([ROOT, '/c/work/bench-build-cryptodev-aarch64/guest/overlay']);
    const boot = stepOf(plan, 'boot-guest');
    expect(boot.argv.slice(0, 9)).toEqual(['qemu-system-aarch64', '-M', 'virt', '-cpu', 'cortex-a57', '-m', '3072', '-smp', '2']);
    expect(boot.argv).toContain('/c/work/bench-build-cryptodev-aarch64/guest/initramfs.cpio.gz');
    const init = plan.steps.find((s): s is StepOf<'write'> => s.kind === 'write' && s.path.endsWith('/overlay/init'))!;
    expect(init.content).toContain(`make -j2 KERNEL_DIR=/usr/src/linux-headers-${RELEASE} build `);
    expect(init.content).toContain('for run in warmup-1 1 2 3; do');
    expect(init.content).toContain('echo "ARMKIT:BUILD $run $start $end $status"');
    expect(stepOf(plan, 'guest-timings')).toMatchObject({ warmup: 1, runs: 3 });
  });

  it('guest alone makes the root itself; a cached root and initramfs are used as they are', () => {
    const alone = planOf(planBenchBuild(input({ modes: [{ mode: 'guest' }] })), 'guest');
    expect(alone.steps.some((s) => s.kind === 'exec' && s.argv[0] === 'mmdebstrap')).toBe(true);
    const cachedRoot = { ...input().root!, cached: true, initramfs: { path: `${ROOT}.cpio.gz`, cached: true } };
    const cached = planOf(planBenchBuild(input({ modes: [{ mode: 'guest' }], root: cachedRoot })), 'guest');
    expect(cached.steps.filter((s) => s.kind === 'pack-initramfs')).toHaveLength(1);
    expect(cached.requires).not.toContain('mmdebstrap');
  });

  it('prints every plan as shell through the registry (the dry run)', () => {
    for (const p of plans) {
      if ('unable' in p) continue;
      for (const s of p.plan.steps) expect(typeof (STEP_KINDS[s.kind].shell as (x: Step, l: string) => string)(s, p.plan.logsDir)).toBe('string');
    }
    const t = stepOf(planOf(plans, 'cross'), 'timed-build');
    const text = STEP_KINDS['timed-build'].shell(t, '/logs');
    expect(text).toMatch(/^for run in warmup-1 1 2 3; do/);
    expect(text).toContain('CROSS_COMPILE=aarch64-linux-gnu- clean) >> /logs/make.log 2>&1');
  });
});

describe('why a mode cannot run here', () => {
  const files = (map: Record<string, string>) => (path: string) => map[path];
  const dir = '/proc/sys/fs/binfmt_misc';

  it('names qemu-user as binfmt_misc does', () => {
    expect(['aarch64', 'armv7hl', 'x86_64'].map((a) => qemuUserName(findArch(a)))).toEqual(['qemu-aarch64', 'qemu-arm', 'qemu-x86_64']);
  });

  it('binfmt_misc not mounted, no entry, disabled, without F: each said, with what to do', () => {
    expect(binfmtProblem(aarch64, files({}))).toMatch(/binfmt_misc is not mounted .*mount -t binfmt_misc binfmt_misc/);
    expect(binfmtProblem(aarch64, files({ [`${dir}/status`]: 'enabled\n' }))).toMatch(/no qemu-aarch64 entry; install qemu-user-static and binfmt-support/);
    expect(
      binfmtProblem(
        aarch64,
        files({ [`${dir}/status`]: 'enabled', [`${dir}/qemu-aarch64`]: 'disabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: F\n' }),
      ),
    ).toMatch(/disabled: enable it/);
    expect(
      binfmtProblem(aarch64, files({ [`${dir}/status`]: 'enabled', [`${dir}/qemu-aarch64`]: 'enabled\ninterpreter /usr/bin/qemu-aarch64\nflags: P\n' })),
    ).toMatch(/names \/usr\/bin\/qemu-aarch64, which is missing/);
    expect(
      binfmtProblem(
        aarch64,
        files({ [`${dir}/status`]: 'enabled', [`${dir}/qemu-aarch64`]: 'enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: POCF\n' }),
      ),
    ).toBeUndefined();
  });

  it('takes the target root from the private apt sources, without their options', () => {
    expect(
      sourcesLines(
        'deb [arch=amd64,arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main\n# x\ndeb http://d/debian-security bookworm-security main contrib\n',
      ),
    ).toEqual(['deb http://deb.debian.org/debian bookworm main', 'deb http://d/debian-security bookworm-security main contrib']);
  });

  it('refuses unknown or repeated modes and run counts out of range', () => {
    expect(parseModes(undefined)).toEqual(['cross', 'native', 'emulated', 'guest']);
    expect(parseModes('guest, cross')).toEqual(['guest', 'cross']);
    expect(() => parseModes('cross,hypervisor')).toThrow(/--modes hypervisor: expected cross, native, emulated, guest/);
    expect(() => parseModes('cross,cross')).toThrow(/named twice/);
    expect(parseCount(undefined, '--runs', 3, 50)).toBe(3);
    expect(() => parseCount('0', '--runs', 3, 50)).toThrow(/--runs 0: expected a whole number from 1 to 50/);
    expect(() => parseCount('2.5', '--runs', 3, 50)).toThrow(/whole number/);
  });
});

describe("the guest's timings", () => {
  it('reads each run from the serial log: end - start of the guest clock', () => {
    const serial = [
      'ARMKIT:GUEST up 2 CPUs, 6.1.0-57-arm64',
      'ARMKIT:BUILD warmup-1 100.000000000 160.500000000 0',
      '[   12.3] random kernel line',
      'ARMKIT:BUILD 1 161.0 221.25 0\r',
      'ARMKIT:BUILD 2 222.0 280.0 0',
    ].join('\n');
    expect(runLabels(1, 2)).toEqual(['warmup-1', '1', '2']);
    expect(parseGuestTimings(serial, 1, 2)).toEqual({ warmup: [60.5], runs: [60.25, 58] });
  });

  it('a run the guest never reported, or whose make failed, is an error naming it', () => {
    expect(() => parseGuestTimings('ARMKIT:BUILD warmup-1 1 2 0\n', 1, 1)).toThrow(/never reported build run 1 /);
    expect(() => parseGuestTimings('ARMKIT:BUILD warmup-1 1 2 0\nARMKIT:BUILD 1 3 4 2\n', 1, 1)).toThrow(/run 1: make exited with 2/);
  });
});

const FACTS: ReportFacts = {
  recipe: 'cryptodev',
  version: '1.14',
  arch: 'aarch64',
  kernel: RELEASE,
  build: 'make -j2 KERNEL_DIR=<headers> build',
  runs: 3,
  warmup: 1,
  host: { cpu: 'AMD EPYC', cores: 2, memoryGiB: 23.5, machine: 'x86_64', kernel: '6.18.44' },
};

const report = () =>
  buildBenchReport(FACTS, [
    { mode: 'cross', how: 'aarch64-linux-gnu-gcc on this host', times: { warmup: [2.5], runs: [2.1, 2.0, 2.2] } },
    { mode: 'native', unable: 'this host is x86_64' },
    { mode: 'emulated', how: 'qemu-aarch64', times: { warmup: [61], runs: [60, 58, 59] } },
    { mode: 'guest', how: 'qemu-system-aarch64', failed: 'the guest never reported build run 1' },
  ]);

describe('the report', () => {
  it('takes the best of the runs and the percent of the fastest mode', () => {
    const r = report();
    expect(r.fastest).toBe('cross');
    expect(r.modes.map((m) => [m.mode, m.status, m.seconds, m.percentOfFastest && Math.round(m.percentOfFastest)])).toEqual([
      ['cross', 'measured', 2.0, 100],
      ['native', 'unable', undefined, undefined],
      ['emulated', 'measured', 58, 2900],
      ['guest', 'failed', undefined, undefined],
    ]);
    expect(r.modes[1]!.reason).toBe('this host is x86_64');
    expect(r.schema).toBe('armkit.bench.build/1');
  });

  it('the fastest mode is exactly 100 percent of itself, to a tenth of a percent for the others', () => {
    // (100 * 0.013) / 0.013 is 99.99999999999999 in floating point.
    const r = buildBenchReport(FACTS, [
      { mode: 'cross', how: 'gcc', times: { warmup: [], runs: [0.013] } },
      { mode: 'emulated', how: 'qemu-aarch64', times: { warmup: [], runs: [0.029] } },
    ]);
    expect(r.modes.map((m) => m.percentOfFastest)).toEqual([100, 223.1]);
  });

  it('prints a table with the host beside the figures and the reason of each mode that did not run', () => {
    const lines = buildBenchTable(report());
    expect(lines[2]).toBe('  host:  AMD EPYC, 2 cores, 23.5 GiB, x86_64, Linux 6.18.44');
    expect(lines.find((l) => l.startsWith('  cross'))).toMatch(/^ {2}cross +2\.00 +100% +2\.10 2\.00 2\.20 +aarch64-linux-gnu-gcc on this host$/);
    expect(lines.find((l) => l.startsWith('  emulated'))).toMatch(/58\.0 +2900%/);
    expect(lines.find((l) => l.startsWith('  native'))).toMatch(/cannot run here: this host is x86_64$/);
    expect(lines.find((l) => l.startsWith('  guest'))).toMatch(/FAILED: the guest never reported build run 1$/);
  });

  it('draws one bar per measured mode, as long as its seconds, as valid SVG; the others keep their row and a note', () => {
    const r = report();
    const model = buildChartModel(r);
    expect(model.rows.map((x) => [x.mode, Boolean(x.bar)])).toEqual([
      ['cross', true],
      ['native', false],
      ['emulated', true],
      ['guest', false],
    ]);
    const [cross, , emulated] = model.rows;
    expect(emulated!.bar!.width / cross!.bar!.width).toBeCloseTo(29, 5);
    expect(model.ticks.at(-1)!.label).toBe('60');
    const svg = renderBuildChart(r);
    wellFormedXml(svg);
    expect(svg.match(/<rect class="bar"/g)).toHaveLength(2);
    expect(svg).toContain('data-mode="emulated"');
    expect(svg).toContain('58.0 s (2900%)');
    expect(svg).toContain('native: cannot run here: this host is x86_64');
    expect(svg).toContain('host: AMD EPYC, 2 cores, 23.5 GiB');
  });

  it('escapes what it prints into the SVG', () => {
    const r = buildBenchReport(FACTS, [{ mode: 'cross', how: 'gcc <"odd"> & co', times: { warmup: [1], runs: [1] } }]);
    const svg = renderBuildChart(r);
    wellFormedXml(svg);
    expect(svg).toContain('gcc &lt;&quot;odd&quot;&gt; &amp; co');
  });
});
