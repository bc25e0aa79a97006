/**
 * Name suggestions for "did you mean" hints: the candidates closest to a misspelled name by
 * edit distance, case ignored.
 */

/** Levenshtein distance: insertions, deletions and substitutions of UTF-16 units. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

/** Names longer than this are not compared: a suggestion for them is noise, and costly. */
const MAX_COMPARED_LENGTH = 64;

/**
 * The candidates close enough to `name` to be what was meant (edit distance at most 2, or a
 * third of the name's length), closest first, at most `limit`.
 *
 * @example suggest('rellu', ['relu', 'exp', 'tanh'])  // ['relu']
 */
export function suggest(name: string, candidates: Iterable<string>, limit = 3): string[] {
  if (name.length > MAX_COMPARED_LENGTH) return [];
  const threshold = Math.max(2, Math.floor(name.length / 3));
  const lower = name.toLowerCase();
  const scored: { c: string; d: number }[] = [];
  for (const c of candidates) {
    if (Math.abs(c.length - name.length) > threshold || c.length > MAX_COMPARED_LENGTH) continue;
    const d = editDistance(lower, c.toLowerCase());
    if (d <= threshold) scored.push({ c, d });
  }
  return scored
    .sort((a, b) => a.d - b.d)
    .slice(0, limit)
    .map((s) => s.c);
}
