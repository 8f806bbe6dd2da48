/**
 * Whether armkit's messages on stderr are coloured: FORCE_COLOR (any value but 0 or false) forces colour;
 * otherwise NO_COLOR (any non-empty value, https://no-color.org), a stream that is not a terminal, or TERM=dumb
 * give plain text. Decided once at start (src/cli.ts), which also sets NO_COLOR or FORCE_COLOR for the libraries
 * that colour on their own (listr2's progress reads them when it loads) and for the tools armkit runs.
 */
let enabled = false;

export function decideColor(env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '0' && force !== 'false') return true;
  if (env.NO_COLOR) return false;
  return isTTY && env.TERM !== 'dumb';
}

/** Decide for this process, and make the environment say the same to what loads and runs after. */
export function setupColor(env: NodeJS.ProcessEnv = process.env, isTTY = Boolean(process.stderr.isTTY)): boolean {
  enabled = decideColor(env, isTTY);
  if (enabled) {
    env.FORCE_COLOR = env.FORCE_COLOR && env.FORCE_COLOR !== 'true' ? env.FORCE_COLOR : '1';
    delete env.NO_COLOR;
  } else {
    env.NO_COLOR = '1';
    delete env.FORCE_COLOR;
  }
  return enabled;
}

const paint = (code: string) => (text: string) => (enabled ? `\u001b[${code}m${text}\u001b[0m` : text);
export const red = paint('1;31');
export const yellow = paint('33');
export const bold = paint('1');
