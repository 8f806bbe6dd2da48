/**
 * Every failure armkit reports is an ArmkitError: a complete sentence for the user plus a kind, and the kind
 * decides the exit code. Only src/cli.ts turns them into exit codes.
 */
export type ErrorKind =
  | 'step-failed' // an external command or build step failed
  | 'usage' // bad flags or arguments
  | 'recipe' // a recipe file is invalid
  | 'prerequisite' // a tool, header tree, privilege or file the build needs is missing
  | 'verification' // an input or output is not what it must be (checksum, ELF machine, vermagic, header arch)
  | 'interrupted';

export const EXIT_CODES: Record<ErrorKind, number> = {
  'step-failed': 1,
  usage: 2,
  recipe: 3,
  prerequisite: 4,
  verification: 5,
  interrupted: 130,
};

export class ArmkitError extends Error {
  readonly kind: ErrorKind;
  /** Extra lines shown under the message: the failing command's last output lines, hints. */
  readonly details: string[];
  /** Full log of the failing command, when there is one. */
  readonly logFile?: string;
  /** Structured results that --json prints with the error (e.g. each guest check). */
  readonly payload?: unknown;

  constructor(kind: ErrorKind, message: string, options: { details?: string[]; logFile?: string; cause?: unknown; payload?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ArmkitError';
    this.kind = kind;
    this.details = options.details ?? [];
    this.logFile = options.logFile;
    this.payload = options.payload;
  }

  get exitCode(): number {
    return EXIT_CODES[this.kind];
  }
}

export const usageError = (message: string) => new ArmkitError('usage', message);
export const missing = (message: string, details: string[] = []) => new ArmkitError('prerequisite', message, { details });
export const mismatch = (message: string, details: string[] = []) => new ArmkitError('verification', message, { details });
