/** The step kinds of kernel header trees and modules: extracting Debian's packages, checking trees and modules. */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ARCHES } from '../arch.js';
import { rpmMember } from '../artifacts/rpm-file.js';
import { unpackRpm } from '../artifacts/rpm-payload.js';
import { ArmkitError, mismatch, missing } from '../errors.js';
import { expandGlob } from '../glob.js';
import { whichIn } from '../host.js';
import { installHint } from '../prereqs.js';
import { comment, globPath, shellQuote as q } from '../proc/quote.js';
import { KERNEL_RELEASE, type StepContext, type StepKinds } from '../step.js';
import { checkModule } from './module-check.js';
import { SIGNATURE_MAGIC, splitSignature } from './signing.js';
import { assertTreeArch, inspectHeaderTree, treeTools } from './tree.js';

/** The hash the kernel signs modules with (CONFIG_MODULE_SIG_HASH), as kbuild's modules_sign reads it; sha256 if unset. */
export function moduleSigHash(kernelDir: string): string {
  const config = join(kernelDir, '.config');
  const value = existsSync(config) ? /^CONFIG_MODULE_SIG_HASH="([^"\n]*)"$/m.exec(readFileSync(config, 'utf8'))?.[1] : undefined;
  return value && /^[a-z0-9-]+$/.test(value) ? value : 'sha256';
}

function single(pattern: string): string {
  const matches = expandGlob(pattern);
  if (matches.length !== 1) {
    throw new ArmkitError('step-failed', `Expected exactly one file matching ${pattern}, found ${matches.length ? matches.join(', ') : 'none'}.`);
  }
  return matches[0]!;
}

/**
 * The module carries a signature, and this certificate's key made it over exactly this module: openssl verifies
 * the PKCS#7 signature against the certificate (-noverify: a module certificate is its own root, not a CA's).
 */
async function checkSignature(ctx: StepContext, modulePath: string, signature: { certPem: string; signer: string }, dir: string): Promise<void> {
  const parts = splitSignature(readFileSync(modulePath));
  if (!parts)
    throw mismatch(`${modulePath} is not signed: it does not end in "${SIGNATURE_MAGIC.trim()}".`, [
      "The spec signs after rpm's install-time processing: check logs/rpmbuild.log for sign-file.",
    ]);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const files = { sig: join(dir, 'module.p7s'), content: join(dir, 'module.unsigned'), cert: join(dir, 'cert.pem') };
  writeFileSync(files.sig, parts.pkcs7);
  writeFileSync(files.content, parts.content);
  writeFileSync(files.cert, signature.certPem);
  const argv = [
    'openssl',
    'cms',
    '-verify',
    '-binary',
    '-inform',
    'DER',
    '-in',
    files.sig,
    '-content',
    files.content,
    '-certfile',
    files.cert,
    '-nointern',
    '-noverify',
    '-out',
    '/dev/null',
  ];
  const r = await ctx.runner.attempt(argv, { logFile: join(ctx.logsDir, 'signature.log') });
  if (r.exitCode !== 0) throw mismatch(`The signature on ${modulePath} was not made by the key of the certificate of ${signature.signer}.`, r.tail);
}

export const KERNEL_STEPS: Pick<StepKinds, 'extract-debs' | 'check-headers' | 'check-module' | 'sign-module'> = {
  'extract-debs': {
    async run(step, ctx) {
      const debs = readdirSync(step.dir)
        .filter((f) => f.endsWith('.deb'))
        .sort();
      if (debs.length === 0) throw missing(`No .deb files were downloaded into ${step.dir}.`);
      mkdirSync(step.root, { recursive: true });
      for (const deb of debs) await ctx.runner.run(['dpkg-deb', '-x', join(step.dir, deb), step.root], { logFile: join(ctx.logsDir, 'dpkg-deb.log') });
    },
    shell: (step) => `for deb in ${q(step.dir)}/*.deb; do dpkg-deb -x "$deb" ${q(step.root)}; done`,
    programs: () => ['dpkg-deb'],
  },
  'check-headers': {
    async run(step) {
      const tree = inspectHeaderTree(step.dir);
      assertTreeArch(tree, step.arch);
      // Known only now that the tree is here: what its build system needs besides the compiler.
      const absent = treeTools(tree).filter((tool) => !whichIn(process.env.PATH, tool));
      if (absent.length > 0)
        throw missing(
          installHint(absent[0]!, ARCHES),
          absent.slice(1).map((t) => installHint(t, ARCHES)),
        );
      if (tree.release !== step.release) {
        throw new ArmkitError('verification', `Headers in ${step.dir} are for release ${tree.release}, not ${step.release}.`);
      }
    },
    shell: (step) =>
      `grep -q ${q(`"${step.release}"`)} ${q(join(step.dir, 'include/generated/utsrelease.h'))}  ${comment(`armkit also checks ${step.arch.kconfig.join(', ')} in .config`)}`,
    programs: () => [],
  },
  'check-module': {
    async run(step, ctx) {
      let modulePath = single(step.path);
      let release = step.release;
      if (release === KERNEL_RELEASE) {
        // Built against a chroot's newest kernel-devel: the package's name says which.
        const name = (await ctx.runner.capture(['rpm', '-qp', '--nosignature', '--qf', '%{NAME}', modulePath])).stdout.trim();
        if (!step.packagePrefix || !name.startsWith(step.packagePrefix))
          throw new ArmkitError('verification', `${modulePath} is not a ${step.packagePrefix}<release> package (its name is ${name || 'unreadable'}).`);
        release = name.slice(step.packagePrefix.length);
      }
      if (step.moduleInRpm) {
        const scratch = step.scratch ?? join(dirname(modulePath), 'payload');
        const member = step.moduleInRpm.replaceAll(KERNEL_RELEASE, release);
        rmSync(scratch, { recursive: true, force: true });
        // armkit's own builds have gzip payloads, read here; others (a chroot's zstd) go through rpm2cpio and cpio.
        const module = rpmMember(modulePath, member);
        const unpacked = join(scratch, member);
        if (module) {
          mkdirSync(dirname(unpacked), { recursive: true });
          writeFileSync(unpacked, module);
        } else if (module === undefined) await unpackRpm(ctx.runner, modulePath, scratch, { logFile: join(ctx.logsDir, 'payload.log') });
        if (module === null || !existsSync(unpacked)) throw new ArmkitError('verification', `${modulePath} holds no ${member}.`);
        modulePath = unpacked;
      }
      const facts = checkModule(modulePath, step.arch, release);
      ctx.note(`${step.arch.elf.name}, vermagic ${facts.vermagic}`);
      if (step.signature) {
        await checkSignature(ctx, modulePath, step.signature, `${step.scratch ?? join(dirname(modulePath), 'payload')}.signature`);
        ctx.note(`signed by ${step.signature.signer}`);
      }
      return { ...facts, ...(step.signature ? { signer: step.signature.signer } : {}) };
    },
    shell(step) {
      const vermagic = `vermagic=${step.release} `;
      if (!step.moduleInRpm)
        return `file ${q(step.path)}; modinfo -F vermagic ${q(step.path)} | grep -q ${q(`^${step.release} `)}  ${comment(`must be ${step.arch.elf.name}`)}`;
      const scratch = step.scratch ?? '/tmp/armkit-payload';
      const learn =
        step.release === KERNEL_RELEASE
          ? [`KERNEL_RELEASE=$(rpm -qp --nosignature --qf '%{NAME}' ${globPath(step.path)} | sed ${q(`s/^${step.packagePrefix}//`)})`]
          : [];
      return [
        ...learn,
        `rm -rf ${q(scratch)} && mkdir -p ${q(scratch)} && rpm2cpio ${globPath(step.path)} | (cd ${q(scratch)} && cpio -idm --quiet)`,
        `file ${q(join(scratch, step.moduleInRpm))}  ${comment(`must be ${step.arch.elf.name}`)}`,
        `grep -aq ${q(vermagic)} ${q(join(scratch, step.moduleInRpm))}`,
        ...(step.signature
          ? [
              `modinfo -F signer ${q(join(scratch, step.moduleInRpm))} | grep -qxF ${q(step.signature.signer)}  ${comment('armkit also verifies the signature against the certificate with openssl cms')}`,
            ]
          : []),
      ].join('\n');
    },
    programs: (step) => [
      ...(step.moduleInRpm ? ['rpm2cpio', 'cpio'] : []),
      ...(step.release === KERNEL_RELEASE ? ['rpm'] : []),
      ...(step.signature ? ['openssl'] : []),
    ],
  },
  'sign-module': {
    async run(step, ctx) {
      await ctx.runner.run([step.signFile, moduleSigHash(step.kernelDir), step.key, step.cert, step.module], { logFile: join(ctx.logsDir, 'sign-file.log') });
    },
    shell: (step) =>
      `${q(step.signFile)} "$(sed -n 's/^CONFIG_MODULE_SIG_HASH="\\(.*\\)"$/\\1/p' ${q(join(step.kernelDir, '.config'))} | grep . || echo sha256)" ${q(step.key)} ${q(step.cert)} ${q(step.module)}`,
    // sign-file is a path (the tree's, or one an earlier step builds), not a program looked up on PATH.
    programs: () => [],
  },
};
