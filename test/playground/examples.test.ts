/**
 * The playground's course examples, computed in Node as the page computes them (check, then a run
 * on the cpu backend for the numeric tables): every one reproduces the lecture's table.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ein, useBackend } from '../../index';
import { EXAMPLES, sameTable } from '../../playground/examples';
import { runProgram } from '../../playground/runner';

describe('the playground’s course examples', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('are the nine worked examples of the course', () => {
    expect(EXAMPLES.map((e) => e.id)).toEqual([
      'conv',
      'pad-stride',
      'max-pool',
      'mean-pool',
      'receptive-field',
      'grouping',
      'hypercolumn',
      'resnet',
      'densenet',
    ]);
  });

  for (const example of EXAMPLES) {
    it(`${example.title}: the computed table is the lecture's`, async () => {
      const program = ein(example.program);
      const report = program.check(example.shapes);
      const before = tf.memory().numTensors;
      const outputs = example.values === undefined ? undefined : (await runProgram(program, report, example.values)).outputs;
      expect(tf.memory().numTensors).toBe(before);
      const computed = example.computed({ report, outputs });
      expect(computed).toBeDefined();
      expect(computed!.rows).toEqual(example.expected.rows);
      expect(sameTable(example.expected, computed!)).toBe(true);
      program.dispose();
    });
  }
});
