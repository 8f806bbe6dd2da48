/**
 * Prints a plan as a shell script a user can paste: exec steps exactly as the executor runs them, armkit's own
 * steps (download, verify, unpack, render, publish) as the equivalent commands.
 */
import { dirname, join } from 'node:path';
import type { Plan, Step } from '../plan/step.js';
import { shellQuote as q } from './quote.js';

/** Quotes each component of a path but leaves `*` components for the shell to expand. */
function globPath(pattern: string): string {
  return pattern.split('/').map((part) => (part === '' || part.includes('*') ? part : q(part))).join('/');
}

/**
 * A comment line whatever the text holds: a newline in a path or title must not end the comment and turn the
 * rest into a command when the script runs.
 */
export function comment(text: string): string {
  return `# ${text.replace(/[\u0000-\u001f\u007f]/g, (c) => (c === '\n' ? '\\n' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`))}`;
}

function heredoc(path: string, content: string): string {
  // A heredoc always ends in a newline; content without one is written byte for byte with printf.
  if (!content.endsWith('\n')) return `printf '%s' ${q(content)} > ${q(path)}`;
  let marker = 'ARMKIT_EOF';
  while (content.includes(marker)) marker += '_';
  return `cat > ${q(path)} <<'${marker}'\n${content}${marker}`;
}

export function stepToShell(step: Step, logsDir: string): string {
  switch (step.kind) {
    case 'exec': {
      const env = Object.entries(step.env ?? {}).map(([k, v]) => `${k}=${q(v)} `).join('');
      const cmd = `${env}${step.argv.map(q).join(' ')}`;
      const stdin = step.stdinFile ? ` < ${q(step.stdinFile)}` : '';
      const stdout = step.stdoutFile ? ` > ${q(step.stdoutFile)}` : '';
      const logged = step.stdoutFile ? `${cmd}${stdin}${stdout} 2>> ${q(join(logsDir, step.log))}` : `${cmd}${stdin} >> ${q(join(logsDir, step.log))} 2>&1`;
      return step.cwd ? `(cd ${q(step.cwd)} && ${logged})` : logged;
    }
    case 'boot-guest':
      return `timeout ${step.timeoutSeconds} ${step.argv.map(q).join(' ')} > ${q(step.serialLog)} 2>> ${q(join(logsDir, step.log))} || true  ${comment('its exit status is no verdict')}`;
    case 'mkdir':
      return `mkdir -p ${q(step.path)}`;
    case 'remove':
      return `rm -rf ${q(step.path)}`;
    case 'rename':
      return `mv ${q(step.from)} ${q(step.to)}`;
    case 'fetch':
      return [
        `if ! echo ${q(`${step.sha256}  ${step.dest}`)} | sha256sum -c --status - 2>/dev/null; then`,
        `  mkdir -p ${q(dirname(step.dest))} && curl -fL -o ${q(`${step.dest}.part`)} ${q(step.url)}`,
        `  echo ${q(`${step.sha256}  ${step.dest}.part`)} | sha256sum -c - && mv ${q(`${step.dest}.part`)} ${q(step.dest)}`,
        'fi',
      ].join('\n');
    case 'verify':
      return `echo ${q(`${step.sha256}  ${step.path}`)} | sha256sum -c -`;
    case 'copy':
    {
      const to = step.to.replace(/\/+$/, '');
      const copy = `mkdir -p ${q(dirname(to))} && cp -a${step.dereference ? 'L' : ''} ${q(step.from.replace(/\/+$/, ''))} ${q(to)}${step.mode !== undefined ? ` && chmod ${step.mode.toString(8)} ${q(to)}` : ''}`;
      return step.optional ? `[ ! -e ${q(step.from)} ] || { ${copy}; }` : copy;
    }
    case 'unpack':
      return `mkdir -p ${q(step.dest)} && tar -xf ${q(step.archive)} -C ${q(step.dest)} --strip-components=1`;
    case 'pack':
      return `tar -czf ${q(step.archive)} --exclude=.git --transform ${q(`s,^\\.,${step.prefix},`)} -C ${q(step.dir)} .`;
    case 'write':
      return `mkdir -p ${q(dirname(step.path))}\n${heredoc(step.path, step.content)}${step.mode !== undefined ? `\nchmod ${step.mode.toString(8)} ${q(step.path)}` : ''}`;
    case 'edit':
      return `sed -i ${q(`s|${step.search}|${step.replace}|g`)} ${q(step.path)}`;
    case 'extract-debs':
      return `for deb in ${q(step.dir)}/*.deb; do dpkg-deb -x "$deb" ${q(step.root)}; done`;
    case 'extract-tar':
      // Members the archive lacks are skipped, as armkit does (tar reports them and exits 2).
      return `mkdir -p ${q(step.dest)} && { tar -xf ${q(step.archive)} -C ${q(step.dest)} --wildcards ${step.include.map((p) => q(`./${p}${p.endsWith('/') ? '*' : ''}`)).join(' ')} 2>/dev/null || true; }`;
    case 'pack-initramfs':
      return `(cd ${q(step.root)} && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1) > ${q(step.archive)}`;
    case 'guest-report':
      return [
        `grep -a '^ARMKIT:CHECK' ${q(step.serialLog)}  ${comment(`every one of: ${step.expected.join(' ')} must say pass`)}`,
        ...step.skipped.map((s) => comment(`could not run: ${s.name}: ${s.reason}`)),
      ].join('\n');
    case 'copr-build':
      return [
        `id=$(copr-cli build --nowait -r ${q(step.chroot)} ${q(step.project)} ${globPath(step.srpm)} | sed -n 's/^Created builds*: *//p')`,
        `copr-cli watch-build "$id" >> ${q(join(logsDir, step.log))} 2>&1`,
        `copr-cli download-build -r ${q(step.chroot)} --dest ${q(step.dest)} "$id" >> ${q(join(logsDir, step.log))} 2>&1`,
      ].join('\n');
    case 'check-headers':
      return `grep -q ${q(`"${step.release}"`)} ${q(join(step.dir, 'include/generated/utsrelease.h'))}  ${comment(`armkit also checks ${step.arch.kconfig.join(', ')} in .config`)}`;
    case 'check-module': {
      const vermagic = `vermagic=${step.release} `;
      if (!step.moduleInRpm) return `file ${q(step.path)}; modinfo -F vermagic ${q(step.path)} | grep -q ${q(`^${step.release} `)}  ${comment(`must be ${step.arch.elf.name}`)}`;
      const scratch = step.scratch ?? '/tmp/armkit-payload';
      return [
        `rm -rf ${q(scratch)} && mkdir -p ${q(scratch)} && rpm2cpio ${globPath(step.path)} | (cd ${q(scratch)} && cpio -idm --quiet)`,
        `file ${q(join(scratch, step.moduleInRpm))}  ${comment(`must be ${step.arch.elf.name}`)}`,
        `grep -aq ${q(vermagic)} ${q(join(scratch, step.moduleInRpm))}`,
      ].join('\n');
    }
    case 'publish': {
      const files = step.artifacts.map(globPath);
      return [
        // armkit swaps the whole directory in one rename; the script replaces it too.
        `rm -rf ${q(step.dest)} && mkdir -p ${q(step.dest)} && cp ${files.join(' ')} ${q(step.dest)}/`,
        `cp -r ${q(step.logsDir)} ${q(join(step.dest, 'logs'))}`,
        comment(`armkit then writes ${join(step.dest, 'manifest.json')} (name, version, release, arch, size, sha256 of each file)`),
      ].join('\n');
    }
  }
}

export function planToShell(plan: Plan): string {
  const lines = [
    '#!/bin/sh',
    comment(`armkit plan: ${plan.summary}`),
    ...plan.warnings.map((w) => comment(`warning: ${w}`)),
    comment(`needs: ${plan.requires.join(' ')}`),
    'set -eu',
  ];
  for (const step of plan.steps) {
    lines.push('', comment(step.title), stepToShell(step, plan.logsDir));
  }
  return `${lines.join('\n')}\n`;
}
