/**
 * armkit completion bash|zsh|fish: a completion script made from the CLI's own definition (the commander program
 * passed in by src/program.ts), so it cannot name a command or option armkit lacks. It knows the commands and
 * their subcommands, each command's options, the values of options with a fixed set (--engine, --mode), the
 * architectures of src/arch.ts, the recipe names, and which options take a file or a directory. The lists are
 * written into the script (no armkit process runs at each <Tab>): run it again after adding recipes.
 */
import type { Command, Option } from 'commander';
import { ARCHES } from '../arch.js';
import { usageError } from '../errors.js';
import { recipeKind, recipeNames } from '../recipes/load.js';
import { renderTemplate } from '../templates.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** What a word after an option, or a command's argument, completes to. */
export type ValueKind = { kind: 'words'; words: string[] } | { kind: 'files' } | { kind: 'dirs' } | { kind: 'none' };

export interface CompletionOption {
  /** --arch, -h */
  flags: string[];
  /** undefined: the option takes no value. */
  value?: ValueKind;
}

export interface CompletionCommand {
  /** The words that name it after `armkit`: ['bench', 'crypto']; [] for armkit itself. */
  path: string[];
  subcommands: string[];
  options: CompletionOption[];
  /** What its positional arguments complete to. */
  args: ValueKind;
}

export interface CompletionModel {
  commands: CompletionCommand[];
}

const words = (list: string[]): ValueKind => ({ kind: 'words', words: list });

/** Options whose values armkit knows, by the option's long name; the rest by what their argument is called. */
function optionValue(option: Option, recipes: string[], arches: string[]): ValueKind | undefined {
  if (!option.required && !option.optional) return undefined;
  if (option.argChoices?.length) return words([...option.argChoices]);
  const name = option.long ?? '';
  const arg = /<([^>.]+)/.exec(option.flags)?.[1] ?? '';
  if (name === '--arch') return words(/arches/.test(arg) || /ARCH\[,/.test(option.description) ? [...arches, 'all'] : arches);
  if (name === '--recipes') return { kind: 'dirs' };
  if (name === '--recipe') return words(recipes);
  if (name === '--kernel') return words(['debian:latest']);
  if (/^(dir|out|root)$/.test(arg) || /-dir$/.test(name)) return { kind: 'dirs' };
  if (/^(file|files|path|bin)$/.test(arg) || /(key|cert|spec|srpm|script|chart|source|image)$/.test(name)) return { kind: 'files' };
  return { kind: 'none' };
}

/** Each command's arguments: recipes of the kinds it takes, or the words its argument is one of. */
function argumentValue(path: string[], command: Command, recipes: Array<{ name: string; kind: string }>, top: string[]): ValueKind {
  const arg = command.registeredArguments[0];
  if (!arg) return { kind: 'none' };
  if (arg.argChoices?.length) return words([...arg.argChoices]);
  const head = path.join(' ');
  if (head === 'help') return words(top);
  if (head === 'ci') return words(['github', 'gitlab']);
  if (head === 'completion') return words([...SHELLS]);
  if (arg.name() === 'recipe') {
    const kinds = head === 'install' || head === 'test' ? ['kmod'] : head === 'spec' ? ['spec'] : undefined;
    return words(recipes.filter((r) => !kinds || kinds.includes(r.kind)).map((r) => r.name));
  }
  return { kind: 'none' };
}

/** The program as data: every command reachable from armkit, its options and what their values are. Pure. */
export function completionModel(program: Command, recipeDirs: string[] = []): CompletionModel {
  const recipes = recipeNames(recipeDirs).map((name) => {
    try {
      return { name, kind: recipeKind(name, recipeDirs) };
    } catch {
      // A recipe that does not load is still a name the user may type; armkit will say what is wrong with it.
      return { name, kind: 'unknown' };
    }
  });
  const arches = ARCHES.map((a) => a.rpm);
  const top = program.commands.map((c) => c.name());
  const commands: CompletionCommand[] = [];
  const visit = (command: Command, path: string[]) => {
    const options: CompletionOption[] = [
      ...command.options
        .filter((o) => !o.hidden)
        .map((o) => {
          const value = optionValue(
            o,
            recipes.map((r) => r.name),
            arches,
          );
          return { flags: [o.short, o.long].filter((f): f is string => Boolean(f)), ...(value ? { value } : {}) };
        }),
      { flags: ['-h', '--help'] },
    ];
    commands.push({ path, subcommands: command.commands.map((c) => c.name()), options, args: argumentValue(path, command, recipes, top) });
    for (const sub of command.commands) visit(sub, [...path, sub.name()]);
  };
  visit(program, []);
  return { commands };
}

export function completionScript(shell: string, program: Command, recipeDirs: string[] = []): string {
  if (!(SHELLS as readonly string[]).includes(shell)) throw usageError(`armkit completion ${shell}: armkit writes completions for ${SHELLS.join(', ')}.`);
  const model = completionModel(program, recipeDirs);
  return renderTemplate(`completion/armkit.${shell}.sh.ejs`, { commands: model.commands });
}

export function completionCommand(shell: string, options: { recipes?: string[] }, program: Command): void {
  process.stdout.write(completionScript(shell, program, options.recipes ?? []));
}
