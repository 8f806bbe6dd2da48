/**
 * The step kinds every plan uses: run a program, and the file operations around it (directories, copies, archives,
 * rendered files, edits). Each runs in-process or through the runner, and prints as the equivalent shell command.
 */
import { chmodSync, cpSync, existsSync, lstatSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ArchiveProblem, extractTar } from '../archive.js';
import { ArmkitError } from '../errors.js';
import { ensureDir, writeError } from '../fsutil.js';
import { heredoc, shellQuote as q } from '../proc/quote.js';
import type { StepKinds } from '../step.js';

type FileKinds = Pick<StepKinds, 'exec' | 'mkdir' | 'remove' | 'rename' | 'symlink' | 'copy' | 'write' | 'edit' | 'unpack' | 'pack' | 'extract-tar'>;

const none = () => [];

/** Unpacks through archive.ts (bounded, no device nodes or FIFOs); what is wrong with the archive is a verification error. */
async function unpackBounded(archive: string, dest: string, options: Parameters<typeof extractTar>[2]): Promise<void> {
  ensureDir(dest);
  try {
    await extractTar(archive, dest, options);
  } catch (error) {
    if (error instanceof ArchiveProblem) {
      throw new ArmkitError('verification', `${archive} ${error.message}.`, {
        details: ['out/ is left as it was; check where the archive came from.'],
      });
    }
    throw writeError(error, `a file unpacked from ${archive} into ${dest}`);
  }
}

/** A failed command whose output matches one of the step's known causes, named by it (see ExecStep.explain). */
function explained(explain: Array<{ pattern: string; message: string }> | undefined, error: unknown, logFile: string): unknown {
  if (!explain?.length || !(error instanceof ArmkitError) || error.kind !== 'step-failed') return error;
  // The failing run's own last lines (its log gathers every run's output).
  const output = error.details.join('\n');
  const known = explain.find((e) => new RegExp(e.pattern, 'm').test(output));
  if (!known) return error;
  return new ArmkitError('step-failed', known.message, { details: error.details, logFile: error.logFile ?? logFile });
}

/** Every path under dir, directories before their contents, in sorted order; .git left out. */
function treeEntries(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(dir, rel)).sort()) {
    if (name === '.git') continue;
    const path = rel ? `${rel}/${name}` : name;
    out.push(path);
    if (lstatSync(join(dir, path)).isDirectory()) out.push(...treeEntries(dir, path));
  }
  return out;
}

export const FILE_STEPS: FileKinds = {
  exec: {
    async run(step, ctx) {
      const logFile = join(ctx.logsDir, step.log);
      try {
        await ctx.runner.run(step.argv, { cwd: step.cwd, env: step.env, logFile, stdinFile: step.stdinFile, stdoutFile: step.stdoutFile, echo: ctx.verbose });
      } catch (error) {
        throw explained(step.explain, error, logFile);
      }
    },
    shell(step, logsDir) {
      const env = Object.entries(step.env ?? {})
        .map(([k, v]) => `${k}=${q(v)} `)
        .join('');
      const cmd = `${env}${step.argv.map(q).join(' ')}`;
      const stdin = step.stdinFile ? ` < ${q(step.stdinFile)}` : '';
      const stdout = step.stdoutFile ? ` > ${q(step.stdoutFile)}` : '';
      const logged = step.stdoutFile ? `${cmd}${stdin}${stdout} 2>> ${q(join(logsDir, step.log))}` : `${cmd}${stdin} >> ${q(join(logsDir, step.log))} 2>&1`;
      return step.cwd ? `(cd ${q(step.cwd)} && ${logged})` : logged;
    },
    programs: (step) => [step.argv[0]!],
  },
  mkdir: {
    async run(step) {
      ensureDir(step.path);
    },
    shell: (step) => `mkdir -p ${q(step.path)}`,
    programs: none,
  },
  remove: {
    async run(step) {
      rmSync(step.path, { recursive: true, force: true });
    },
    shell: (step) => `rm -rf ${q(step.path)}`,
    programs: none,
  },
  rename: {
    async run(step) {
      renameSync(step.from, step.to);
    },
    shell: (step) => `mv ${q(step.from)} ${q(step.to)}`,
    programs: none,
  },
  symlink: {
    async run(step) {
      ensureDir(dirname(step.path));
      rmSync(step.path, { force: true });
      symlinkSync(step.target, step.path);
    },
    shell: (step) => `mkdir -p ${q(dirname(step.path))} && ln -sfn ${q(step.target)} ${q(step.path)}`,
    programs: none,
  },
  copy: {
    async run(step) {
      if (step.optional && !existsSync(step.from)) return;
      ensureDir(dirname(step.to));
      cpSync(step.from, step.to, { recursive: true, dereference: Boolean(step.dereference) });
      if (step.mode !== undefined) chmodSync(step.to, step.mode);
    },
    shell(step) {
      const to = step.to.replace(/\/+$/, '');
      const copy = `mkdir -p ${q(dirname(to))} && cp -a${step.dereference ? 'L' : ''} ${q(step.from.replace(/\/+$/, ''))} ${q(to)}${step.mode !== undefined ? ` && chmod ${step.mode.toString(8)} ${q(to)}` : ''}`;
      return step.optional ? `[ ! -e ${q(step.from)} ] || { ${copy}; }` : copy;
    },
    programs: none,
  },
  write: {
    async run(step) {
      ensureDir(dirname(step.path));
      try {
        writeFileSync(step.path, step.content, step.mode !== undefined ? { mode: step.mode } : undefined);
      } catch (error) {
        throw writeError(error, step.path);
      }
    },
    shell: (step) =>
      `mkdir -p ${q(dirname(step.path))}\n${heredoc(step.path, step.content)}${step.mode !== undefined ? `\nchmod ${step.mode.toString(8)} ${q(step.path)}` : ''}`,
    programs: none,
  },
  edit: {
    async run(step) {
      const text = readFileSync(step.path, 'utf8');
      if (!text.includes(step.search)) {
        throw new ArmkitError('step-failed', `${step.path} no longer contains "${step.search}"; the package layout changed.`);
      }
      writeFileSync(step.path, text.split(step.search).join(step.replace));
    },
    shell: (step) => `sed -i ${q(`s|${step.search}|${step.replace}|g`)} ${q(step.path)}`,
    programs: none,
  },
  unpack: {
    async run(step) {
      await unpackBounded(step.archive, step.dest, { strip: 1 });
    },
    shell: (step) => `mkdir -p ${q(step.dest)} && tar -xf ${q(step.archive)} -C ${q(step.dest)} --strip-components=1`,
    programs: none,
  },
  pack: {
    async run(step) {
      const tar = await import('tar');
      ensureDir(dirname(step.archive));
      // Entries go in under prefix/ as rpm's %setup expects, in sorted order with one time, so the same tree gives
      // the same archive; version control data stays out of the source RPM.
      await tar.c(
        {
          gzip: true,
          file: step.archive,
          cwd: step.dir,
          portable: true,
          prefix: step.prefix,
          noDirRecurse: true,
          ...(step.mtime ? { mtime: new Date(step.mtime * 1000) } : {}),
        },
        treeEntries(step.dir),
      );
    },
    shell: (step) =>
      `tar -czf ${q(step.archive)} --exclude=.git --sort=name --owner=0 --group=0 --numeric-owner${step.mtime ? ` --mtime=@${step.mtime}` : ''} --transform ${q(`s,^\\.,${step.prefix},`)} -C ${q(step.dir)} .`,
    programs: none,
  },
  'extract-tar': {
    async run(step) {
      const wanted = (path: string) => {
        const p = path.replace(/^\.\//, '');
        return step.include.some((prefix) => p === prefix || p.startsWith(prefix) || `${p}/` === prefix);
      };
      await unpackBounded(step.archive, step.dest, { filter: wanted });
    },
    // Members the archive lacks are skipped, as armkit does (tar reports them and exits 2).
    shell: (step) =>
      `mkdir -p ${q(step.dest)} && { tar -xf ${q(step.archive)} -C ${q(step.dest)} --wildcards ${step.include.map((p) => q(`./${p}${p.endsWith('/') ? '*' : ''}`)).join(' ')} 2>/dev/null || true; }`,
    programs: none,
  },
};
