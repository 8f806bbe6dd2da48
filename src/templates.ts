/**
 * Renders EJS templates from templates/ (and the templates/ folder beside a user's recipes). EJS is JavaScript, so
 * a template name is resolved only inside those folders. Every value a template prints goes through the escape of
 * the file it makes: an RPM spec gets `%` doubled (rpm would expand `%(...)` and `%{...}`) and no newline outside
 * a multi-line text, a shell script only plain words, a YAML file double-quoted scalars, a dnf .repo file no `$`,
 * anything else no newline. An undefined value is a bug in the caller, so it throws instead of printing "undefined"
 * into a file.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import ejs from 'ejs';
import { ArmkitError } from './errors.js';
import { TEMPLATES } from './paths.js';

/** Text that may span lines (an RPM %description): each line is escaped, none may open a spec section. */
export class MultilineText {
  constructor(readonly text: string) {}
}

/** A value armkit will not write into a file. Keeps its sentence apart from EJS's file:line context. */
export class TemplateValueError extends ArmkitError {
  constructor(readonly sentence: string) {
    super('usage', sentence);
  }
}

function defined(value: unknown): string {
  if (value === undefined || value === null) throw new Error('template value is undefined');
  return String(value);
}

const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

function oneLine(value: unknown): string {
  const text = defined(value);
  if (CONTROL.test(text))
    throw new TemplateValueError(`The value ${JSON.stringify(text)} contains a newline or control character, which the generated file cannot hold.`);
  return text;
}

/** `%` → `%%`: rpm reads the text as written instead of expanding macros or running `%(...)`. */
export function rpmEscape(value: unknown): string {
  if (value instanceof MultilineText) {
    return value.text
      .replace(/\r\n?/g, '\n')
      .split('\n')
      .map((line) => {
        if (CONTROL.test(line.replace(/\t/g, ' '))) throw new TemplateValueError(`The text ${JSON.stringify(line)} contains a control character.`);
        const escaped = line.replace(/%/g, '%%');
        // A line starting with % would open a section (%files, %post) once rpm has expanded %% to %.
        return escaped.startsWith('%') ? ` ${escaped}` : escaped;
      })
      .join('\n');
  }
  return oneLine(value).replace(/%/g, '%%');
}

/** A shell script may only print plain words: a value with quotes, `$` or spaces is refused, never interpreted. */
export function shellWord(value: unknown): string {
  const text = oneLine(value);
  if (!/^[A-Za-z0-9_@%+=:,./^~\\-]*$/.test(text))
    throw new TemplateValueError(`The value ${JSON.stringify(text)} has characters a shell would interpret; armkit will not write it into a script.`);
  return text;
}

/**
 * A YAML value (a CI workflow): one double-quoted scalar, which YAML reads as written. `$` is refused: GitHub
 * evaluates `${{ ... }}` and GitLab expands `$VAR` inside any string, quoted or not.
 */
export function yamlScalar(value: unknown): string {
  const text = oneLine(value);
  if (text.includes('$'))
    throw new TemplateValueError(`The value ${JSON.stringify(text)} contains "$", which the CI system would expand; armkit will not write it.`);
  return JSON.stringify(text);
}

/** A dnf .repo file's value: one line, and no `$` (dnf expands `$basearch` and other variables in values). */
export function repoValue(value: unknown): string {
  const text = oneLine(value);
  if (text.includes('$'))
    throw new TemplateValueError(`The value ${JSON.stringify(text)} contains "$", which dnf would read as a variable; armkit will not write it.`);
  return text;
}

function escapeFor(file: string): (value: unknown) => string {
  if (file.endsWith('.spec.ejs')) return rpmEscape;
  if (file.endsWith('.sh.ejs')) return shellWord;
  if (file.endsWith('.yml.ejs') || file.endsWith('.yaml.ejs')) return yamlScalar;
  if (file.endsWith('.repo.ejs')) return repoValue;
  return oneLine;
}

/** The template file for a name, refused unless it lies inside one of the roots (after following links). */
export function resolveTemplate(name: string, roots: string[]): string {
  for (const root of roots) {
    const file = resolve(root, name);
    if (!existsSync(file)) continue;
    const real = realpathSync(file);
    const inside = relative(realpathSync(root), real);
    if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) break;
    return real;
  }
  throw new ArmkitError(
    'recipe',
    `Template ${name} is not a file inside ${roots.join(' or ')}: templates are only read from armkit's templates/ and the templates/ folder beside your recipes.`,
  );
}

export function renderTemplate(name: string, data: Record<string, unknown>, roots: string[] = [TEMPLATES]): string {
  const file = resolveTemplate(name, roots);
  try {
    return ejs.render(readFileSync(file, 'utf8'), data, {
      escape: escapeFor(file),
      strict: true,
      localsName: 'it',
      filename: file,
      // Includes would read files outside the checked path.
      includer: () => {
        throw new Error('templates may not include other files');
      },
    });
  } catch (error) {
    // EJS prefixes the message with the template's file and line: the user needs the sentence.
    if (error instanceof TemplateValueError) throw new TemplateValueError(error.sentence);
    if (error instanceof ArmkitError) throw error;
    throw new Error(`Rendering template ${file} failed: ${(error as Error).message}`, { cause: error });
  }
}

/** The templates/ folder beside each user recipe folder, then armkit's own. */
export function templateRoots(recipeDirs: string[] = []): string[] {
  return [...recipeDirs.map((d) => join(d, 'templates')), TEMPLATES];
}
