/**
 * A code field: a textarea (the browser's own editing, selection, undo and keyboard handling)
 * over a highlighted copy of its text. Typing `\Delta`, `\sigma`, `\Sigma`, `\cdot` (or `\.`)
 * turns into Δ σ Σ ·, and `Dx`, `Dy`, `Dz` at the start of an index into Δx, Δy, Δz.
 */
import { highlight, type Marked } from './highlight';

const ESCAPES: Record<string, string> = { '\\Delta': 'Δ', '\\delta': 'Δ', '\\sigma': 'σ', '\\Sigma': 'Σ', '\\sum': 'Σ', '\\cdot': '·', '\\.': '·' };
const ESCAPE_AT_END = new RegExp(
  `(${Object.keys(ESCAPES)
    .map((k) => k.replace(/[\\.]/g, '\\$&'))
    .join('|')})$`,
);

export interface EditorOptions {
  /** Highlights the notation (the shapes field is plain text with an error mark). */
  readonly notation: boolean;
  /** Called after every change of the text. */
  readonly onChange: () => void;
}

export class CodeField {
  private marks: readonly Marked[] = [];

  constructor(
    readonly textarea: HTMLTextAreaElement,
    private readonly overlay: HTMLElement,
    private readonly options: EditorOptions,
  ) {
    textarea.addEventListener('input', (e) => {
      if ((e as InputEvent).inputType === 'insertText') this.complete();
      this.marks = [];
      this.render();
      options.onChange();
    });
    textarea.addEventListener('scroll', () => {
      overlay.scrollTop = textarea.scrollTop;
    });
    // Until here the textarea shows its own text (the page paints before the script runs).
    overlay.parentElement?.classList.add('highlighted');
    this.render();
  }

  get value(): string {
    return this.textarea.value;
  }

  /** Replaces the whole text (an example, a shared link); the browser's undo still works. */
  set value(text: string) {
    this.textarea.value = text;
    this.marks = [];
    this.render();
  }

  /** Underlines `spans` (the errors' places) until the next edit. */
  setMarks(spans: readonly Marked[]): void {
    this.marks = spans;
    this.render();
  }

  /** Inserts `text` at the caret, as typing would. */
  insert(text: string): void {
    this.textarea.focus();
    this.replace(this.textarea.selectionStart, this.textarea.selectionEnd, text);
    this.marks = [];
    this.render();
    this.options.onChange();
  }

  private replace(start: number, end: number, text: string): void {
    const t = this.textarea;
    t.setSelectionRange(start, end);
    // execCommand keeps the change on the browser's undo stack; setRangeText is the fallback.
    if (!document.execCommand('insertText', false, text)) {
      t.setRangeText(text, start, end, 'end');
    }
  }

  /** Turns the escape just typed into its symbol. */
  private complete(): void {
    const t = this.textarea;
    const caret = t.selectionStart;
    if (caret !== t.selectionEnd) return;
    const before = t.value.slice(0, caret);
    const escape = ESCAPE_AT_END.exec(before);
    if (escape !== null) {
      this.replace(caret - escape[1].length, caret, ESCAPES[escape[1]]);
      return;
    }
    if (this.options.notation && /(^|[\s[,(+\-*·])D[xyz]$/.test(before)) {
      this.replace(caret - 2, caret - 1, 'Δ');
      t.setSelectionRange(caret, caret);
    }
  }

  private render(): void {
    const text = this.textarea.value;
    this.overlay.innerHTML = highlight(text, this.marks, this.options.notation);
    this.overlay.scrollTop = this.textarea.scrollTop;
  }
}
