/** How the executor carries out each kind of step. The dry-run printer (shell.ts) mirrors each case. */
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tar from 'tar';
import { ArmkitError, missing } from '../errors.js';
import { expandGlob } from '../artifacts/glob.js';
import { fetchVerified, verifyFile } from '../artifacts/fetch.js';
import { publish, type Manifest } from '../artifacts/publish.js';
import { unpackRpm } from '../artifacts/rpm-payload.js';
import { checkModule } from '../kernel/module-check.js';
import { judgeBoot } from '../guest/boot.js';
import { packInitramfs } from '../guest/cpio.js';
import { formatResults, parseSerialLog, summarize, type CheckResult } from '../guest/report.js';
import { assertTreeArch, inspectHeaderTree, treeTools } from '../kernel/tree.js';
import { whichIn } from '../host.js';
import { installHint } from '../prereqs.js';
import { ARCHES } from '../arch.js';
import type { Plan, Step } from '../plan/step.js';
import { tail, type Runner } from './runner.js';

export interface StepContext {
  plan: Plan;
  runner: Runner;
  verbose: boolean;
  signal?: AbortSignal;
  /** Set by a publish step. */
  manifest?: Manifest;
  /** Set by a guest-report step. */
  guestResults?: CheckResult[];
  /** Tells the user something while a step runs (goes to the progress output). */
  note(message: string): void;
}

function single(pattern: string): string {
  const matches = expandGlob(pattern);
  if (matches.length !== 1) {
    throw new ArmkitError('step-failed', `Expected exactly one file matching ${pattern}, found ${matches.length ? matches.join(', ') : 'none'}.`);
  }
  return matches[0]!;
}

export async function runStep(step: Step, ctx: StepContext): Promise<void> {
  const log = (name: string) => join(ctx.plan.logsDir, name);
  switch (step.kind) {
    case 'exec':
      await ctx.runner.run(step.argv, {
        cwd: step.cwd,
        env: step.env,
        logFile: log(step.log),
        stdinFile: step.stdinFile,
        stdoutFile: step.stdoutFile,
        echo: ctx.verbose,
      });
      return;
    case 'boot-guest': {
      const outcome = await ctx.runner.attempt(step.argv, { logFile: log(step.log), stdoutFile: step.serialLog, echo: ctx.verbose, timeoutSeconds: step.timeoutSeconds });
      const serial = existsSync(step.serialLog) ? readFileSync(step.serialLog, 'utf8') : '';
      const failure = judgeBoot(step.argv[0]!, outcome, serial, log(step.log));
      if (failure) throw failure;
      if (outcome.timedOut) ctx.note(`the guest did not power off within ${step.timeoutSeconds} s and was stopped`);
      return;
    }
    case 'mkdir':
      mkdirSync(step.path, { recursive: true });
      return;
    case 'remove':
      rmSync(step.path, { recursive: true, force: true });
      return;
    case 'rename':
      renameSync(step.from, step.to);
      return;
    case 'fetch':
      if (await fetchVerified(step.url, step.dest, step.sha256, ctx.signal)) ctx.note(`cached, sha256 verified`);
      return;
    case 'verify':
      await verifyFile(step.path, step.sha256);
      return;
    case 'copy':
      if (step.optional && !existsSync(step.from)) return;
      mkdirSync(dirname(step.to), { recursive: true });
      cpSync(step.from, step.to, { recursive: true, dereference: Boolean(step.dereference) });
      if (step.mode !== undefined) chmodSync(step.to, step.mode);
      return;
    case 'unpack':
      mkdirSync(step.dest, { recursive: true });
      await tar.x({ file: step.archive, cwd: step.dest, strip: 1 });
      return;
    case 'pack':
      mkdirSync(dirname(step.archive), { recursive: true });
      // Entries go in under prefix/ as rpm's %setup expects; version control data stays out of the source RPM.
      await tar.c(
        { gzip: true, file: step.archive, cwd: step.dir, portable: true, prefix: step.prefix, filter: (path) => !/(^|\/)\.git(\/|$)/.test(path) },
        readdirSync(step.dir).sort(),
      );
      return;
    case 'write':
      mkdirSync(dirname(step.path), { recursive: true });
      writeFileSync(step.path, step.content, step.mode !== undefined ? { mode: step.mode } : undefined);
      return;
    case 'edit': {
      const text = readFileSync(step.path, 'utf8');
      if (!text.includes(step.search)) {
        throw new ArmkitError('step-failed', `${step.path} no longer contains "${step.search}"; the package layout changed.`);
      }
      writeFileSync(step.path, text.split(step.search).join(step.replace));
      return;
    }
    case 'extract-debs': {
      const debs = readdirSync(step.dir).filter((f) => f.endsWith('.deb')).sort();
      if (debs.length === 0) throw missing(`No .deb files were downloaded into ${step.dir}.`);
      mkdirSync(step.root, { recursive: true });
      for (const deb of debs) {
        await ctx.runner.run(['dpkg-deb', '-x', join(step.dir, deb), step.root], { logFile: log('dpkg-deb.log') });
      }
      return;
    }
    case 'extract-tar': {
      const wanted = (path: string) => {
        const p = path.replace(/^\.\//, '');
        return step.include.some((prefix) => p === prefix || p.startsWith(prefix) || `${p}/` === prefix);
      };
      mkdirSync(step.dest, { recursive: true });
      await tar.x({ file: step.archive, cwd: step.dest, filter: wanted });
      return;
    }
    case 'pack-initramfs':
      packInitramfs(step.root, step.archive);
      return;
    case 'guest-report': {
      const text = existsSync(step.serialLog) ? readFileSync(step.serialLog, 'utf8') : '';
      const results = parseSerialLog(text, step.expected, step.skipped);
      ctx.guestResults = results;
      if (step.publishTo) {
        mkdirSync(step.publishTo, { recursive: true });
        if (existsSync(step.serialLog)) cpSync(step.serialLog, join(step.publishTo, 'test-serial.log'));
        writeFileSync(join(step.publishTo, 'test-report.json'), `${JSON.stringify({ summary: summarize(results), results }, null, 2)}\n`);
      }
      ctx.note(summarize(results));
      const failed = results.filter((r) => r.status === 'fail');
      if (failed.length > 0) {
        throw new ArmkitError('verification', `${failed.length} check(s) failed in the guest: ${failed.map((r) => r.name).join(', ')}.`, {
          details: formatResults(results),
          logFile: step.serialLog,
          payload: { summary: summarize(results), results },
        });
      }
      return;
    }
    case 'copr-build': {
      const submit = await ctx.runner.capture(['copr-cli', 'build', '--nowait', '-r', step.chroot, step.project, step.srpm]);
      const id = /Created builds?:\s*(\d+)/.exec(submit.stdout)?.[1];
      if (submit.exitCode !== 0 || !id) {
        throw new ArmkitError('step-failed', `copr-cli build did not start a build in ${step.project} (${step.chroot}).`, {
          details: tail(`${submit.stdout}\n${submit.stderr}`),
        });
      }
      ctx.note(`Copr build ${id}`);
      await ctx.runner.run(['copr-cli', 'watch-build', id], { logFile: log(step.log), echo: ctx.verbose });
      await ctx.runner.run(['copr-cli', 'download-build', '-r', step.chroot, '--dest', step.dest, id], { logFile: log(step.log), echo: ctx.verbose });
      return;
    }
    case 'check-headers': {
      const tree = inspectHeaderTree(step.dir);
      assertTreeArch(tree, step.arch);
      // Known only now that the tree is here: what its build system needs besides the compiler.
      const absent = treeTools(tree).filter((tool) => !whichIn(process.env.PATH, tool));
      if (absent.length > 0) throw missing(installHint(absent[0]!, ARCHES), absent.slice(1).map((t) => installHint(t, ARCHES)));
      if (tree.release !== step.release) {
        throw new ArmkitError('verification', `Headers in ${step.dir} are for release ${tree.release}, not ${step.release}.`);
      }
      return;
    }
    case 'check-module': {
      let modulePath = single(step.path);
      if (step.moduleInRpm) {
        const scratch = step.scratch ?? join(dirname(modulePath), 'payload');
        rmSync(scratch, { recursive: true, force: true });
        await unpackRpm(ctx.runner, modulePath, scratch, { logFile: log('payload.log') });
        modulePath = join(scratch, step.moduleInRpm);
      }
      const facts = checkModule(modulePath, step.arch, step.release);
      ctx.note(`${step.arch.elf.name}, vermagic ${facts.vermagic}`);
      return;
    }
    case 'publish':
      ctx.manifest = await publish(step, ctx.runner);
      return;
  }
}
