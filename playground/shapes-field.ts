/**
 * The shapes field: one `NAME: [d1, d2, …]` per line (blank lines and `#` comments ignored),
 * read into the record `check` takes, and written back from one.
 */
import { EinError } from '../browser';

const LINE = /^\s*([A-Za-z_\u0391-\u03c9][\w.\u0391-\u03c9]*)\s*:\s*\[([^\]]*)\]\s*(#.*)?$/u;

/** The shapes written in `text`. @throws EinError EIN6021 pointing at the line that is not a shape. */
export function readShapes(text: string): Record<string, number[]> {
  const shapes: Record<string, number[]> = {};
  let offset = 0;
  for (const line of text.split('\n')) {
    const start = offset;
    offset += line.length + 1;
    if (/^\s*(#.*)?$/.test(line)) continue;
    const span = { start: start + (line.length - line.trimStart().length), end: start + line.trimEnd().length };
    const m = LINE.exec(line);
    const extents = m?.[2].trim() === '' ? [] : (m?.[2].split(',').map((d) => Number(d.trim())) ?? []);
    if (m === null || !extents.every((d) => Number.isInteger(d) && d > 0)) {
      throw new EinError({
        code: 'EIN6021',
        message: m === null ? `'${line.trim()}' is not a shape` : `the extents of ${m[1]} must be positive integers`,
        source: text,
        span,
        expected: 'NAME: [d1, d2, …], e.g. L0: [1, 5, 5, 1]',
        hint: 'write one tensor per line as NAME: [extents]',
      });
    }
    shapes[m[1]] = extents;
  }
  return shapes;
}

/** The text of the shapes field for `shapes`. */
export function writeShapes(shapes: Readonly<Record<string, readonly number[]>>): string {
  return Object.entries(shapes)
    .map(([name, shape]) => `${name}: [${shape.join(', ')}]`)
    .join('\n');
}
