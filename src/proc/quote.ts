/** POSIX shell text for printing commands a user can paste: quoting, comments, globs and here-documents. */
export function shellQuote(word: string): string {
  // "@" is quoted too: a word holding KERNEL_RELEASE (src/step.ts) must sit in quotes for the dry-run script to
  // splice the shell variable in (run/shell.ts).
  if (word !== '' && /^[A-Za-z0-9_%+=:,./^-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * A comment line whatever the text holds: a newline in a path or title must not end the comment and turn the
 * rest into a command when the script runs.
 */
export function comment(text: string): string {
  return `# ${text.replace(/[\u0000-\u001f\u007f]/g, (c) => (c === '\n' ? '\\n' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`))}`;
}

/** Quotes each component of a path but leaves `*` components for the shell to expand. */
export function globPath(pattern: string): string {
  return pattern
    .split('/')
    .map((part) => (part === '' || part.includes('*') ? part : shellQuote(part)))
    .join('/');
}

/** Writes content to path byte for byte: a quoted here-document, or printf when it does not end in a newline. */
export function heredoc(path: string, content: string): string {
  if (!content.endsWith('\n')) return `printf '%s' ${shellQuote(content)} > ${shellQuote(path)}`;
  let marker = 'ARMKIT_EOF';
  while (content.includes(marker)) marker += '_';
  return `cat > ${shellQuote(path)} <<'${marker}'\n${content}${marker}`;
}
