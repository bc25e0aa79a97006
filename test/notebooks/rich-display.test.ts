/**
 * Rich displays of einnet values (`show(x)` and a cell's last value): tensors show their values,
 * programs their math and shapes, check reports their provenance table, summaries and models
 * their layer table. Expected values are written out by hand.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ein, lenet5, PLOTLY_MIME, richBundle, setDisplaySink, show, summary, type DisplayMessage } from '../../index';
import { expectEinError } from '../datasets/expect-error';

let seen: DisplayMessage[] = [];
let previous: ReturnType<typeof setDisplaySink>;
beforeEach(() => {
  seen = [];
  previous = setDisplaySink((m) => seen.push(m));
});
afterEach(() => setDisplaySink(previous));

describe('a tensor', () => {
  it('up to 2-D and small: a table of its values', () => {
    const t = tf.tensor2d([
      [1, 2.5],
      [-3, 4],
    ]);
    const b = richBundle(t)!;
    t.dispose();
    const html = String(b['text/html']);
    expect(html).toContain('<caption>float32 tensor, shape [2, 2]</caption>');
    expect(html).toContain('<tr><td style="text-align:right">0</td><td style="text-align:right">1</td><td style="text-align:right">2.5</td></tr>');
    expect(html).toContain('<td style="text-align:right">-3</td><td style="text-align:right">4</td>');
    expect(String(b['text/plain'])).toContain('float32 tensor, shape [2, 2]');
  });

  it('a scalar and a vector are one-row tables', () => {
    const s = tf.scalar(7);
    const v = tf.tensor1d([1, 2, 3], 'int32');
    expect(String(richBundle(s)!['text/html'])).toContain('<td style="text-align:right">7</td>');
    expect(String(richBundle(v)!['text/html'])).toMatch(/<tr><td[^>]*>1<\/td><td[^>]*>2<\/td><td[^>]*>3<\/td><\/tr>/);
    tf.dispose([s, v]);
  });

  it('large 2-D: a heatmap with its values; images: a heatmap grid per channel', () => {
    const big = tf.range(0, 900).reshape([30, 30]);
    const b = richBundle(big)!;
    const fig = b[PLOTLY_MIME] as { data: { type: string; z: number[][] }[] };
    expect(fig.data[0].type).toBe('heatmap');
    expect(fig.data[0].z[1][2]).toBe(32);
    const images = tf.zeros([2, 8, 8, 3]);
    const grid = richBundle(images)![PLOTLY_MIME] as { data: { type: string }[] };
    expect(grid.data.filter((d) => d.type === 'heatmap')).toHaveLength(3);
    tf.dispose([big, images]);
  });

  it('makes no tensors, and a disposed tensor says so', () => {
    const t = tf.ones([4, 4, 2]);
    const before = tf.memory().numTensors;
    richBundle(t);
    expect(tf.memory().numTensors).toBe(before);
    t.dispose();
    expect(richBundle(t)).toEqual({ 'text/plain': 'disposed float32 tensor, shape [4, 4, 2]' });
  });
});

describe('a program, a check report, a summary, a model', () => {
  const p = ein`Y[b,j:4] = W[I,j] · X[b,I] + B[j]`;
  it('a program: its typeset math, and its shapes once they are known', () => {
    const b = richBundle(p)!;
    expect(String(b['text/markdown'])).toMatch(/^\$\$\n[\s\S]*\n\$\$$/);
    expect(String(b['text/html'])).toContain('$$');
    const bound = ein`
      input X[b:2, i:3]
      param W[j:4, i:3]
      Y[b,j] = sum[i] W[j,i] * X[b,i]
    `;
    const html = String(richBundle(bound)!['text/html']);
    expect(html).toMatch(/<td>Y<\/td><td>output<\/td><td>\[2, 4\]<\/td>/);
  });

  it('a check report: every tensor with its shape and where each extent comes from', () => {
    const report = p.check({ X: [2, 3] });
    const b = richBundle(report)!;
    const text = String(b['text/plain']);
    expect(text).toContain('checked shapes (where each extent comes from)');
    expect(text).toMatch(/X\s+input\s+\[2, 3\]/);
    expect(text).toMatch(/Y\s+output\s+\[2, 4\]/);
    expect(text).toContain('3: range of I: X axis 1 (bound X: [2,3])');
    expect(String(b['text/html'])).toContain('<th>extents from</th>');
  });

  it('a summary and a model: the layer table with a total row (LeNet-5: 61,706 parameters)', () => {
    const model = lenet5();
    try {
      for (const value of [summary(model, { X: [1, 28, 28, 1] }), model]) {
        const html = String(richBundle(value)!['text/html']);
        expect(html).toContain('<th>params</th>');
        expect(html).toContain('<td>total</td>');
        expect(html).toContain('61706');
      }
    } finally {
      model.dispose();
    }
  });

  it('show(x) emits the same bundle as one output; a value with no display is an EIN6003', () => {
    const t = tf.tensor1d([5]);
    show(t);
    expect(seen).toHaveLength(1);
    expect(seen[0].data).toEqual(richBundle(t));
    t.dispose();
    expectEinError(() => show({ nothing: 1 }), 'EIN6003', 'not a figure');
    expect(richBundle(42)).toBeUndefined();
    expect(richBundle({ a: 1 })).toBeUndefined();
  });
});
