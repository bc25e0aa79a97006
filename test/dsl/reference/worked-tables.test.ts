/**
 * The course's worked convolution and pooling tables (worked-tables.ts: inputs and outputs typed in
 * from the published tables), reproduced by the reference evaluator in float64.
 */
import ndarray from 'ndarray';
import { describe, expect, it } from 'vitest';
import { ein } from '../../../dsl/program';
import { BOX_FILTER, BOX_IMAGE, FILTER_3x3, INPUT_5x5, WORKED_TABLES, nhwc, tableMismatches } from './worked-tables';

describe('the worked tables, by the reference evaluator', () => {
  for (const t of WORKED_TABLES) {
    it(t.name, () => {
      const out = ein(t.src).evaluateReference(t.inputs as never)[t.output];
      expect(out.shape.filter((d) => d !== 1)).toEqual([t.table.length, t.table[0].length]);
      expect(tableMismatches(t, out.data, 1e-12)).toEqual([]);
    });
  }

  it('the 5x5 ⊛ 3x3 shapes are inferred: L1 is [1,3,3,1]', () => {
    const p = ein`L1[b,x,y,j] = W[Δx,Δy,I,j] · L0[b,x+Δx,y+Δy,I]`;
    expect(p.check({ L0: [1, 5, 5, 1], W: [3, 3, 1, 1] }).shapes.L1).toEqual([1, 3, 3, 1]);
    expect(nhwc(INPUT_5x5)[0][1][3]).toEqual([3]);
    expect(FILTER_3x3).toHaveLength(3);
  });

  it('the box filter given as an ndarray gives the same table', () => {
    const t = WORKED_TABLES.find((w) => w.src.startsWith('h[m,n]'))!;
    const out = ein(t.src).evaluateReference({ f: ndarray(Float64Array.from(BOX_FILTER.flat()), [3, 3]), I: BOX_IMAGE }).h;
    expect(out.shape).toEqual([8, 8]);
    expect(tableMismatches(t, out.data, 1e-10)).toEqual([]);
  });
});
