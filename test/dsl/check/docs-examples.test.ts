/**
 * The examples of docs/language.md stay true: every ```ein block parses; a block with a line
 * `# check: {json shapes}` checks with those shapes; a block with `# error: EINxxxx` fails with
 * that code.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EinError } from '../../../core/diagnostics';
import { ein } from '../../../dsl/program';

const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'language.md'), 'utf8');
const blocks = [...doc.matchAll(/```ein\n([\s\S]*?)```/g)].map((m) => m[1]);

describe('docs/language.md examples', () => {
  it('has examples', () => {
    expect(blocks.length).toBeGreaterThan(15);
  });

  blocks.forEach((src, k) => {
    const title = src.split('\n').find((l) => l.startsWith('#') && !/^# (check|error):/.test(l)) ?? src.split('\n').find((l) => !l.startsWith('#'));
    it(`example ${k + 1}: ${title}`, () => {
      const shapes = /^# check: (.*)$/m.exec(src)?.[1];
      const error = /^# error: (EIN\d{4})$/m.exec(src)?.[1];
      const run = () => ein(src).check(shapes ? JSON.parse(shapes) : {});
      if (error !== undefined) {
        let thrown: unknown;
        try {
          run();
        } catch (e) {
          thrown = e;
        }
        expect(thrown).toBeInstanceOf(EinError);
        expect((thrown as EinError).code).toBe(error);
      } else if (shapes !== undefined) {
        const r = run();
        for (const shape of Object.values(r.shapes)) for (const d of shape) expect(d).toBeGreaterThanOrEqual(1);
      } else {
        expect(() => ein(src)).not.toThrow();
      }
    });
  });

  it('the shapes the first example promises', () => {
    const r = ein(blocks[0]).check({ L0: [32, 28, 28, 1] });
    expect(r.shapes).toMatchObject({ L0: [32, 28, 28, 1], W1: [5, 5, 1, 6], B1: [6], L1: [32, 24, 24, 6], L2: [32, 12, 12, 6] });
  });

  it('the shapes and ranges the TypeScript section promises', () => {
    const r = ein`Y[b,j:4] = W[I,j] · X[b,I] + B[j]`.check({ X: [2, 3] });
    expect(r.shapes).toEqual({ Y: [2, 4], W: [3, 4], X: [2, 3], B: [4] });
    expect(r.ranges.Y.get('I')).toMatchObject({ extent: 3, role: 'reduced' });
  });

  it('the transposed-convolution example is [1, 11, 11, 4]', () => {
    const src = blocks.find((b) => b.includes('transposed convolution'))!;
    expect(ein(src).check({ L: [1, 5, 5, 2] }).shapes.T).toEqual([1, 11, 11, 4]);
  });
});
