/**
 * Renders EJS templates from templates/. Output is not HTML, so nothing is escaped; an undefined value is a bug in
 * the caller, so it throws instead of printing "undefined" into a spec file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ejs from 'ejs';
import { TEMPLATES } from './paths.js';

function strictText(value: unknown): string {
  if (value === undefined || value === null) throw new Error('template value is undefined');
  return String(value);
}

export function renderTemplate(name: string, data: Record<string, unknown>, root: string = TEMPLATES): string {
  const file = join(root, name);
  try {
    return ejs.render(readFileSync(file, 'utf8'), data, {
      escape: strictText,
      strict: true,
      localsName: 'it',
      filename: file,
    });
  } catch (error) {
    throw new Error(`Rendering template ${file} failed: ${(error as Error).message}`, { cause: error });
  }
}
