/**
 * Checked index forms print as the program text they were read from (expected strings written
 * by hand), and that text parses back to the same checked form.
 */
import { describe, expect, it } from 'vitest';
import type { CheckedIndex, LhsIndex } from '../../../dsl/check/checked';
import { indexText } from '../../../dsl/check/index-text';
import { ein } from '../../../dsl/program';

const affine = (terms: [string, number][], offset: number) => ({ kind: 'affine' as const, terms: terms.map(([index, coef]) => ({ index, coef })), offset });

describe('indexText', () => {
  const cases: [CheckedIndex | LhsIndex, string][] = [
    [affine([['x', 1]], 0), 'x'],
    [
      affine(
        [
          ['x', 2],
          ['Δx', 1],
        ],
        -1,
      ),
      '2*x+Δx-1',
    ],
    [
      affine(
        [
          ['x', -1],
          ['y', -3],
        ],
        2,
      ),
      '-x-3*y+2',
    ],
    [affine([['x', -2]], 0), '-2*x'],
    [affine([], -1), '-1'],
    [{ kind: 'floordiv', arg: affine([['x', 1]], 1), divisor: 2 }, '(x+1)/2'],
    [{ kind: 'composite', parts: [affine([['g', 1]], 0), affine([['I', 1]], 0)], factors: [2, 3] }, '(g,I)'],
    [
      {
        kind: 'boundary',
        mode: 'clamp',
        arg: affine(
          [
            ['x', 1],
            ['Δx', 1],
          ],
          -1,
        ),
      },
      'clamp(x+Δx-1)',
    ],
    [{ kind: 'concat', parts: ['J1', 'J2', 'J3'] }, 'J1+J2+J3'],
  ];
  for (const [ix, text] of cases) {
    it(`prints ${text}`, () => expect(indexText(ix)).toBe(text));
  }

  it('prints what the checker read, for every index of a program', () => {
    const src = 'Y[b,x,j] = W[Δx:3,I,j] · X[b, clamp(2*x+Δx-1), I] + Z[b, (x+1)/2, j]';
    const st = ein(src).check({ X: [1, 8, 4], Z: [1, 3, 5] }).checked.statements[0];
    const read: string[] = [];
    const visit = (e: (typeof st.parts)[number]): void => {
      if (e.kind === 'access') read.push(`${e.tensor}[${e.indices.map(indexText).join(',')}]`);
      else if (e.kind === 'unary') visit(e.arg);
      else if (e.kind === 'binary') (visit(e.left), visit(e.right));
      else if (e.kind === 'reduce') visit(e.body);
    };
    st.parts.forEach(visit);
    expect(read).toEqual(['W[Δx,I,j]', 'X[b,clamp(2*x+Δx-1),I]', 'Z[b,(x+1)/2,j]']);
  });
});
