/**
 * The README and docs/ show armkit commands; each must exist as printed: the command path and every option,
 * checked against the CLI's own definition (src/program.ts), so a renamed option cannot leave the docs behind.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/program.js';
import { ROOT } from '../helpers/cli.js';

interface Shown {
  file: string;
  line: number;
  text: string;
}

/** Command lines in code blocks: `armkit ...`, `$ armkit ...`, `npx armkit ...` (at a line's start or after &&, ;, |), with their continuation lines. */
function shownCommands(file: string, text: string): Shown[] {
  const out: Shown[] = [];
  const lines = text.split('\n');
  let inCode = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^\s*```/.test(line)) {
      inCode = !inCode;
      continue;
    }
    // Prose inside a block (a comment of a generated file) is not a command.
    if (!inCode || /^\s*#/.test(line)) continue;
    for (const m of line.matchAll(/(?:^\s*(?:\$\s+)?|&&\s*|;\s*|\|\s*|\$\(\s*)(?:sudo\s+)?(?:npx\s+)?armkit\s+([a-z][^&|;#)]*)/g)) {
      let cmd = m[1]!;
      // A synopsis goes on in lines indented under its options.
      let j = i + 1;
      while (!/^\s*```/.test(lines[j] ?? '```') && /^\s+\[/.test(lines[j]!)) cmd += ` ${lines[j++]!.trim()}`;
      out.push({ file, line: i + 1, text: cmd.trim() });
    }
  }
  return out;
}

function resolveCommand(program: Command, words: string[]): { command: Command; rest: string[] } {
  let command = program;
  let k = 0;
  while (k < words.length) {
    const sub = command.commands.find((c) => c.name() === words[k]);
    if (!sub) break;
    command = sub;
    k++;
  }
  return { command, rest: words.slice(k) };
}

const docs = [
  join(ROOT, 'README.md'),
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(ROOT, 'docs', f)),
];
const shown = docs.flatMap((file) => shownCommands(file.slice(ROOT.length + 1), readFileSync(file, 'utf8')));

describe('commands shown in the README and docs/', () => {
  it('finds the README quick start and the synopses', () => {
    const readme = shown.filter((s) => s.file === 'README.md').map((s) => s.text);
    expect(readme).toEqual(expect.arrayContaining(['build cryptodev --arch aarch64 --kernel debian:latest --test']));
    expect(readme.some((t) => t.startsWith('doctor --arch aarch64 --fix'))).toBe(true);
    expect(shown.length).toBeGreaterThan(20);
  });

  const program = buildProgram();
  it.each(shown.map((s) => [`${s.file}:${s.line}`, s.text] as const))('%s: armkit %s', (_where, text) => {
    const words = text.split(/\s+/).filter(Boolean);
    const { command } = resolveCommand(program, words);
    expect(command, `"armkit ${words[0]}" is not a command`).not.toBe(program);
    const known = new Set(command.options.flatMap((o) => [o.long, o.short, o.negate ? o.long : undefined].filter(Boolean) as string[]));
    known.add('--help');
    known.add('-h');
    for (const flag of text.match(/(?<![\w-])--[a-z][a-z0-9-]*/g) ?? []) {
      expect(known.has(flag), `armkit ${command.name()} has no ${flag}`).toBe(true);
    }
  });
});
