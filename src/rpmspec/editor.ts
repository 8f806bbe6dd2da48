/**
 * Line edits on a spec that remember where each line ends up, so the report can name the final line numbers of
 * every change however many lines later steps insert above it. Steps read a fresh snapshot (lines()) and edit by index.
 */
export interface Line {
  text: string;
  /** 1-based line number in the input, for lines that came from it. */
  original?: number;
}

export type ChangeKind =
  | 'configure'
  | 'disabling-option'
  | 'bcond'
  | 'build-requires'
  | 'recommends'
  | 'release'
  | 'source'
  | 'install'
  | 'files'
  | 'changelog';

export interface Change {
  kind: ChangeKind;
  /** What changed, as a sentence fragment ("added enable-devcryptoeng to ./Configure"). */
  what: string;
  why: string;
}

export interface RecordedChange extends Change {
  touched: Line[];
  /** Input line numbers of lines removed. */
  removed: number[];
}

export class SpecEditor {
  private items: Line[];
  readonly changes: RecordedChange[] = [];
  /** Things that were already as they must be: the report says so instead of changing them. */
  readonly unchanged: string[] = [];
  readonly notes: string[] = [];

  constructor(text: string) {
    this.items = text.split('\n').map((t, i) => ({ text: t, original: i + 1 }));
  }

  lines(): string[] {
    return this.items.map((l) => l.text);
  }

  text(): string {
    return this.lines().join('\n');
  }

  replace(index: number, text: string): Line {
    const line = this.items[index]!;
    line.text = text;
    return line;
  }

  insertAfter(index: number, texts: string[]): Line[] {
    const added = texts.map((text) => ({ text }));
    this.items.splice(index + 1, 0, ...added);
    return added;
  }

  remove(index: number): number | undefined {
    const [line] = this.items.splice(index, 1);
    return line?.original;
  }

  record(change: Change, touched: Line[], removed: number[] = []): void {
    this.changes.push({ ...change, touched, removed });
  }

  /** 1-based line numbers in the output of the lines a change wrote. */
  lineNumbers(change: RecordedChange): number[] {
    return change.touched
      .map((l) => this.items.indexOf(l) + 1)
      .filter((n) => n > 0)
      .sort((a, b) => a - b);
  }
}
