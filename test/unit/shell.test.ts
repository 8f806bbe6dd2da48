import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findArch } from '../../src/arch.js';
import { TEMPLATES } from '../../src/paths.js';
import { shellQuote } from '../../src/proc/quote.js';
import * as shell from '../../src/run/shell.js';
import type { Plan, Plan as ShellPlan, Step as ShellStep, Step } from '../../src/step.js';
import { STEP_KINDS } from '../../src/steps/index.js';

const planToShell = (p: ShellPlan) => shell.planToShell(p, STEP_KINDS);
const stepToShell = (s: ShellStep, logsDir: string) => shell.stepToShell(s, logsDir, STEP_KINDS);

import { tempDir } from './helpers.js';

const sh = (script: string, cwd?: string) => execFileSync('sh', ['-c', script], { encoding: 'utf8', cwd });

describe('shellQuote', () => {
  it.each(['rpmbuild', '-ba', '/usr/src/linux-headers-6.1.0-56-arm64', '_topdir=/x', 'a,b:cd+e%f', '1.14^20251105git08644db'])('leaves %s bare', (word) => {
    expect(shellQuote(word)).toBe(word);
  });

  it.each([
    ['', "''"],
    ['a b', "'a b'"],
    ["it's", `'it'\\''s'`],
    ['$HOME', "'$HOME'"],
    // Quoted so that the dry-run script can splice $KERNEL_RELEASE into a word holding its placeholder.
    ['user@host', "'user@host'"],
    ['*.rpm', "'*.rpm'"],
    ['a;b', "'a;b'"],
    ['~', "'~'"],
  ])('quotes %j as %s', (word, quoted) => {
    expect(shellQuote(word)).toBe(quoted);
  });

  it('round-trips awkward words through sh', () => {
    const words = ['plain', 'two words', "it's", 'say "hi"', '$HOME `id` $(id)', 'back\\slash', 'new\nline', '', '*', '!bang'];
    expect(sh(`printf '%s\\n' ${words.map(shellQuote).join(' ')}`)).toBe(words.map((w) => `${w}\n`).join(''));
  });
});

function plan(steps: Step[], logsDir = '/logs'): Plan {
  return { summary: 'test plan', logsDir, warnings: ['mind the gap'], requires: ['printf', 'cat'], steps };
}

describe('planToShell', () => {
  it('starts with a shebang, the summary, warnings, needs and set -eu, and titles each step', () => {
    const script = planToShell(plan([{ kind: 'mkdir', title: 'Make it', path: '/tmp/x y' }]));
    expect(script).toBe(
      ['#!/bin/sh', '# armkit plan: test plan', '# warning: mind the gap', '# needs: printf cat', 'set -eu', '', '# Make it', "mkdir -p '/tmp/x y'", ''].join(
        '\n',
      ),
    );
  });

  it('prints an exec step whose arguments reach the program intact, output to its log', () => {
    const logs = tempDir();
    const args = ['a b', "it's", '$HOME', 'x;y', 'tab\there'];
    const step: Step = { kind: 'exec', title: 'printf', argv: ['printf', '%s\\n', ...args], log: 'printf.log' };
    const line = stepToShell(step, logs);
    expect(line).toBe(`printf '%s\\n' 'a b' 'it'\\''s' '$HOME' 'x;y' 'tab\there' >> ${join(logs, 'printf.log')} 2>&1`);
    sh(planToShell(plan([step], logs)));
    // printf turns the two characters \n of its format into a newline.
    expect(readFileSync(join(logs, 'printf.log'), 'utf8')).toBe(args.map((a) => `${a}\n`).join(''));
  });

  it('runs an exec step with printf %s\\n as sh would', () => {
    const logs = tempDir();
    const args = ['one two', "don't", '"quoted"'];
    sh(stepToShell({ kind: 'exec', title: 'p', argv: ['printf', '%s\n', ...args], log: 'p.log' }, logs));
    expect(readFileSync(join(logs, 'p.log'), 'utf8')).toBe(args.map((a) => `${a}\n`).join(''));
  });

  it('wraps an exec step with a cwd in (cd ... && ...)', () => {
    const logs = tempDir();
    const work = join(tempDir(), 'work dir');
    sh(`mkdir -p '${work}'`);
    const line = stepToShell({ kind: 'exec', title: 'pwd', argv: ['pwd'], cwd: work, log: 'pwd.log' }, logs);
    expect(line).toBe(`(cd ${shellQuote(work)} && pwd >> ${join(logs, 'pwd.log')} 2>&1)`);
    sh(line);
    expect(readFileSync(join(logs, 'pwd.log'), 'utf8').trim()).toBe(work);
  });

  it('prints env, stdin and stdout redirections of an exec step', () => {
    const dir = tempDir();
    sh(`printf 'from stdin' > ${dir}/in`);
    const line = stepToShell(
      {
        kind: 'exec',
        title: 'env',
        argv: ['sh', '-c', 'cat; printf " %s" "$GREETING"'],
        env: { GREETING: 'hello world' },
        log: 'e.log',
        stdinFile: `${dir}/in`,
        stdoutFile: `${dir}/out`,
      },
      dir,
    );
    expect(line).toContain("GREETING='hello world' sh -c");
    sh(line);
    expect(readFileSync(join(dir, 'out'), 'utf8')).toBe('from stdin hello world');
    expect(readFileSync(join(dir, 'e.log'), 'utf8')).toBe('');
  });

  describe('write steps', () => {
    const writeAndRead = (content: string): string => {
      const dir = tempDir();
      const path = join(dir, 'sub dir', 'file.spec');
      sh(planToShell(plan([{ kind: 'write', title: 'Write it', path, content }], dir)), dir);
      return readFileSync(path, 'utf8');
    };

    it('reproduces the content exactly, with nothing expanded', () => {
      const content = 'Name: x\n%global v $HOME `id` $(id) \\n \'single\' "double"\n\ttab\n\n%changelog\n';
      expect(writeAndRead(content)).toBe(content);
    });

    it('still works when the content contains the heredoc marker', () => {
      const content = 'before\nARMKIT_EOF\nARMKIT_EOF_\nafter ARMKIT_EOF\n';
      const script = stepToShell({ kind: 'write', title: 'w', path: '/x/y', content }, '/logs');
      expect(script).toContain("<<'ARMKIT_EOF__'");
      expect(writeAndRead(content)).toBe(content);
    });

    it('reproduces the spec template (RPM macros, EJS tags, blank lines)', () => {
      const spec = readFileSync(join(TEMPLATES, 'kmod/kmod.spec.ejs'), 'utf8');
      expect(writeAndRead(spec)).toBe(spec);
    });

    it('prints chmod for a mode', () => {
      const dir = tempDir();
      const path = join(dir, 'run.sh');
      sh(stepToShell({ kind: 'write', title: 'w', path, content: 'echo hi\n', mode: 0o755 }, dir));
      expect(sh(`ls -l ${path}`)).toMatch(/^-rwxr-xr-x/);
    });
  });

  it("prints armkit's own steps as their equivalent commands", () => {
    const arch = findArch('aarch64');
    expect(stepToShell({ kind: 'remove', title: 'r', path: '/w/a b' }, '/l')).toBe("rm -rf '/w/a b'");
    expect(stepToShell({ kind: 'rename', title: 'r', from: '/a', to: '/b' }, '/l')).toBe('mv /a /b');
    expect(stepToShell({ kind: 'verify', title: 'v', path: '/f.tgz', sha256: 'ab' }, '/l')).toBe("echo 'ab  /f.tgz' | sha256sum -c -");
    expect(stepToShell({ kind: 'copy', title: 'c', from: '/a/f', to: '/b/c/f' }, '/l')).toBe('mkdir -p /b/c && cp -a /a/f /b/c/f');
    expect(stepToShell({ kind: 'edit', title: 'e', path: '/M', search: 'include /usr/src/', replace: 'include /c/' }, '/l')).toBe(
      "sed -i 's|include /usr/src/|include /c/|g' /M",
    );
    const check = stepToShell({ kind: 'check-module', title: 'c', path: '/w/x.ko', arch, release: '6.1.0-56-arm64' }, '/l');
    expect(check).toContain("grep -q '^6.1.0-56-arm64 '");
    expect(check).toContain('must be AArch64');
  });

  it('a publish step copies the globbed artifacts and the logs', () => {
    const dir = tempDir();
    sh(
      `mkdir -p '${dir}/w/RPMS/aarch64' '${dir}/w/logs' && touch '${dir}/w/RPMS/aarch64/a-1.aarch64.rpm' '${dir}/w/RPMS/aarch64/b-1.aarch64.rpm' '${dir}/w/logs/rpmbuild.log'`,
    );
    const dest = join(dir, 'out dir', 'cryptodev', '1.14', 'aarch64');
    const script = stepToShell({ kind: 'publish', title: 'p', artifacts: [`${dir}/w/RPMS/aarch64/*.rpm`], logsDir: `${dir}/w/logs`, dest, manifest: {} }, '/l');
    expect(script).toContain('/w/RPMS/aarch64/*.rpm'); // the glob stays unquoted
    sh(script);
    expect(sh(`ls '${dest}'`).split('\n').filter(Boolean)).toEqual(['a-1.aarch64.rpm', 'b-1.aarch64.rpm', 'logs']);
    expect(sh(`ls '${dest}/logs'`).trim()).toBe('rpmbuild.log');
  });

  it('a fetch step skips the download when the file has the checksum', () => {
    const dir = tempDir();
    sh(`printf 'cached' > ${dir}/f`);
    const sha = sh(`sha256sum ${dir}/f`).split(' ')[0]!;
    // curl is never reached: the cached file verifies.
    const script = stepToShell({ kind: 'fetch', title: 'f', url: 'http://invalid.example/f', dest: `${dir}/f`, sha256: sha }, dir);
    expect(() => sh(`set -eu\n${script}\necho done`)).not.toThrow();
    expect(sh(`set -eu\n${script}\necho done`).trim()).toBe('done');
  });
});

describe('write steps without a trailing newline (regression)', () => {
  it('the printed command writes the content byte for byte', () => {
    const dir = mkdtempSync(join(tmpdir(), 'armkit-shell-'));
    const path = join(dir, 'f');
    const script = stepToShell({ kind: 'write', title: 't', path, content: "no newline, 'quoted'" }, dir);
    execFileSync('sh', ['-c', script]);
    expect(readFileSync(path, 'utf8')).toBe("no newline, 'quoted'");
  });

  it('glob paths keep their leading slash unquoted', () => {
    const text = stepToShell(
      { kind: 'publish', title: 'p', artifacts: ['/w/RPMS/aarch64/*.rpm'], logsDir: '/w/logs', dest: '/out/x', manifest: {} },
      '/w/logs',
    );
    expect(text).toContain('cp /w/RPMS/aarch64/*.rpm /out/x/');
  });
});
