/**
 * Highlighting of the notation for the editor's overlay: tensor names, indices, Greek letters and
 * operators, numbers, keywords, comments, and an error's span underlined. Returns HTML that lines
 * up character for character with the textarea's text.
 */

const KEYWORDS = new Set(['input', 'const', 'sum', 'max', 'min', 'mean']);

type Kind = 'name' | 'index' | 'greek' | 'number' | 'keyword' | 'fn' | 'comment' | 'op' | 'plain';

export interface Marked {
  readonly start: number;
  readonly end: number;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The kind of every UTF-16 unit of `source`. */
function classify(source: string): Kind[] {
  const kinds: Kind[] = new Array(source.length).fill('plain');
  const token = /(#[^\n]*|\/\/[^\n]*)|([0-9]+(?:\.[0-9]+)?(?:e-?[0-9]+)?)|([A-Za-z_\u0391-\u03c9][\w\u0391-\u03c9]*(?:\.[A-Za-z_]\w*)*)|([·Σ⊛*+\-/^;:=])/gu;
  for (let m = token.exec(source); m !== null; m = token.exec(source)) {
    let kind: Kind;
    if (m[1] !== undefined) kind = 'comment';
    else if (m[2] !== undefined) kind = 'number';
    else if (m[4] !== undefined) kind = m[4] === '·' || m[4] === 'Σ' ? 'greek' : 'op';
    else {
      const next = source.slice(m.index + m[0].length).match(/^\s*(\S)/)?.[1];
      if (KEYWORDS.has(m[3])) kind = 'keyword';
      else if (next === '[') kind = 'name';
      else if (next === '(') kind = 'fn';
      else if (/^[Δδσ]/.test(m[3])) kind = 'greek';
      else kind = 'index';
    }
    kinds.fill(kind, m.index, m.index + m[0].length);
  }
  return kinds;
}

/** HTML for the overlay: `source` highlighted (unless `notation` is false), the `marked` spans (errors) underlined. */
export function highlight(source: string, marked: readonly Marked[] = [], notation = true): string {
  const kinds: Kind[] = notation ? classify(source) : new Array(source.length).fill('plain');
  const inMark = new Array<boolean>(source.length + 1).fill(false);
  // An empty span (a missing token, the end of the text) still gets one visible mark.
  for (const m of marked) inMark.fill(true, m.start, Math.min(Math.max(m.end, m.start + 1), source.length + 1));
  const out: string[] = [];
  let k = 0;
  while (k < source.length) {
    let j = k + 1;
    while (j < source.length && kinds[j] === kinds[k] && inMark[j] === inMark[k]) j++;
    const text = escapeHtml(source.slice(k, j));
    const inner = kinds[k] === 'plain' ? text : `<span class="tok-${kinds[k]}">${text}</span>`;
    out.push(inMark[k] ? `<span class="err-span">${inner}</span>` : inner);
    k = j;
  }
  if (inMark[source.length]) out.push('<span class="err-span"> </span>');
  // A trailing newline needs a character after it for the overlay to be as tall as the textarea.
  return out.join('') + '\n ';
}
