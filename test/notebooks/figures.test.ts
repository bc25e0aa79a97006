/**
 * Plot helpers build the right figure data for inputs whose answer is known by hand: which z
 * values each panel holds, where axes sit, what live curves record, the occlusion map of a
 * classifier that is a plain mean, and the course's eight-layer receptive-field table. No helper may leave
 * a tensor behind.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  activationGrid,
  filterGrid,
  heatmap,
  lossCurves,
  occlusionMap,
  pathCounts,
  receptiveFieldFigure,
  receptiveFields,
  setDisplaySink,
  subplotGrid,
  type DisplayMessage,
  type Trace,
} from '../../viz';
import { expectEinError } from '../datasets/expect-error';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterEach(() => setDisplaySink(undefined));

/** Runs f and checks it leaves the number of live tensors unchanged. */
function noLeak<T>(f: () => T): T {
  const before = tf.memory().numTensors;
  const out = f();
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

describe('subplotGrid', () => {
  it('places 4 panels in 2 columns with a 0.05 gap', () => {
    const { cells, axes, rows } = subplotGrid(4, 2, 0.05);
    expect(rows).toBe(2);
    expect(cells.map((c) => c.axis)).toEqual(['', '2', '3', '4']);
    expect(axes.xaxis).toMatchObject({ domain: [0, 0.475], anchor: 'y' });
    expect(axes.xaxis4).toMatchObject({ domain: [0.525, 1], anchor: 'y4' });
    expect(axes.yaxis).toMatchObject({ domain: [0.525, 1] }); // row 0 on top
    expect(axes.yaxis3).toMatchObject({ domain: [0, 0.475] });
  });
});

describe('heatmap', () => {
  it('draws a 2-D array with row 0 at the top', () => {
    const fig = heatmap(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { title: 't' },
    );
    expect(fig.data[0]).toMatchObject({
      type: 'heatmap',
      z: [
        [1, 2, 3],
        [4, 5, 6],
      ],
    });
    expect(fig.layout.yaxis).toMatchObject({ autorange: 'reversed', scaleanchor: 'x' });
  });

  it('takes a tensor with two non-unit axes, like one image [1,h,w,1]', () => {
    const t = tf.tensor4d([1, 2, 3, 4, 5, 6], [1, 2, 3, 1]);
    expect(noLeak(() => heatmap(t)).data[0].z).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    t.dispose();
  });

  it('rejects ragged arrays and 3-D tensors', () => {
    expectEinError(() => heatmap([[1, 2], [3]]), 'EIN6004', 'rectangular');
    const t = tf.zeros([2, 2, 2]);
    expectEinError(() => heatmap(t), 'EIN6004', 'shape [2,2,2]', 'activationGrid');
    t.dispose();
  });
});

describe('activationGrid', () => {
  // NHWC [2,2,3,2] holding 0…23 in storage order: value = ((n·2 + y)·3 + x)·2 + c.
  const values = Array.from({ length: 24 }, (_, i) => i);

  it('gives one panel per channel with that channel’s values', () => {
    const t = tf.tensor4d(values, [2, 2, 3, 2]);
    const fig = noLeak(() => activationGrid(t, { example: 1 }));
    expect(fig.data.map((d) => d.name)).toEqual(['c0', 'c1']);
    expect(fig.data[0].z).toEqual([
      [12, 14, 16],
      [18, 20, 22],
    ]);
    expect(fig.data[1].z).toEqual([
      [13, 15, 17],
      [19, 21, 23],
    ]);
    expect(fig.data[1]).toMatchObject({ xaxis: 'x2', yaxis: 'y2' });
    expect((fig.layout.annotations as { text: string }[]).map((a) => a.text)).toEqual(['c0', 'c1']);
    const first = activationGrid(t, { channels: [1], sharedScale: true });
    expect(first.data).toHaveLength(1);
    expect(first.data[0]).toMatchObject({
      z: [
        [1, 3, 5],
        [7, 9, 11],
      ],
      zmin: 1,
      zmax: 11,
    });
    t.dispose();
  });

  it('gives each panel its own colour bar, beside the panel, when the scales are not shared', () => {
    const t = tf.tensor4d(values, [2, 2, 3, 2]);
    const fig = activationGrid(t, { columns: 2 });
    expect(fig.data.map((d) => d.showscale)).toEqual([true, true]);
    const bars = fig.data.map((d) => d.colorbar as { x: number; len: number });
    const xaxis = fig.layout.xaxis as { domain: number[] };
    const xaxis2 = fig.layout.xaxis2 as { domain: number[] };
    expect(bars[0].x).toBeGreaterThan(xaxis.domain[1]);
    expect(bars[0].x).toBeLessThan(xaxis2.domain[0]);
    expect(bars[1].x).toBeGreaterThan(xaxis2.domain[1]);
    expect(bars[0].len).toBeCloseTo(1, 6);
    const shared = activationGrid(t, { sharedScale: true });
    expect(shared.data.map((d) => d.showscale)).toEqual([true, false]);
    t.dispose();
  });

  it('marks a channel whose values are all equal as constant, with the value, and gives it no colour bar', () => {
    // Channel 0 is 0…5, channel 1 is 2.5 everywhere.
    const t = tf.tensor4d([0, 2.5, 1, 2.5, 2, 2.5, 3, 2.5, 4, 2.5, 5, 2.5], [1, 2, 3, 2]);
    const fig = activationGrid(t);
    expect(fig.data.map((d) => d.name)).toEqual(['c0', 'c1 · constant 2.5']);
    expect((fig.layout.annotations as { text: string }[]).map((a) => a.text)).toEqual(['c0', 'c1 · constant 2.5']);
    expect(fig.data.map((d) => d.showscale)).toEqual([true, false]);
    const zeros = tf.zeros([1, 2, 2, 1]);
    expect(activationGrid(zeros).data[0].name).toBe('c0 · constant 0');
    tf.dispose([t, zeros]);
  });

  it('takes one HWC example (rank 3)', () => {
    const t = tf.tensor3d(values.slice(0, 12), [2, 3, 2]);
    expect(activationGrid(t).data[0].z).toEqual([
      [0, 2, 4],
      [6, 8, 10],
    ]);
    t.dispose();
  });

  it('says what is wrong with the tensor or option', () => {
    const t2 = tf.zeros([3, 3]);
    expectEinError(() => activationGrid(t2), 'EIN6004', 'rank 4', 'heatmap(t)');
    const t4 = tf.zeros([1, 2, 2, 3]);
    expectEinError(() => activationGrid(t4, { channels: [3] }), 'EIN6005', 'channel 3', '3 channels');
    expectEinError(() => activationGrid(t4, { example: 1 }), 'EIN6005', 'batch of 1');
    tf.dispose([t2, t4]);
  });
});

describe('filterGrid', () => {
  it('shows each (input, output) pair of HWIO weights, output-major, on one symmetric scale', () => {
    // [1,2,2,2]: value = (x·2 + i)·2 + o.
    const w = tf.tensor4d([0, 1, 2, 3, 4, 5, 6, 7], [1, 2, 2, 2]);
    const fig = noLeak(() => filterGrid(w));
    expect(fig.data.map((d) => d.name)).toEqual(['i0→o0', 'i1→o0', 'i0→o1', 'i1→o1']);
    expect(fig.data.map((d) => d.z)).toEqual([[[0, 4]], [[2, 6]], [[1, 5]], [[3, 7]]]);
    expect(fig.data[0]).toMatchObject({ zmin: -7, zmax: 7, colorscale: 'RdBu' });
    w.dispose();
  });

  it('draws RGB filters as colour images, each stretched to 0…255', () => {
    // [1,1,3,2] in storage order i0o0, i0o1, i1o0, i1o1, i2o0, i2o1.
    const w = tf.tensor4d([-1, 0, 0, 10, 1, 5], [1, 1, 3, 2]);
    const fig = filterGrid(w);
    expect(fig.data.map((d) => d.type)).toEqual(['image', 'image']);
    expect(fig.data[0].z).toEqual([[[0, 128, 255]]]);
    expect(fig.data[1].z).toEqual([[[0, 255, 128]]]);
    expectEinError(() => filterGrid(tf.zeros([3, 3, 1, 2]), { mode: 'rgb' }), 'EIN6005', '3 input channels');
    expectEinError(() => filterGrid(tf.zeros([3, 3, 2])), 'EIN6004', 'HWIO');
    w.dispose();
  });
});

describe('lossCurves', () => {
  it('records batch and epoch metrics, puts accuracy on its own panel, and redraws one output in place', () => {
    const seen: DisplayMessage[] = [];
    setDisplaySink((m) => seen.push(m));
    const curves = lossCurves({ throttleMs: 0 });
    // tfjs calls the callbacks detached from the object: they must be bound.
    const { onBatchEnd, onEpochEnd } = curves;
    onBatchEnd(0, { loss: 1, acc: 0.5 });
    onBatchEnd(1, { loss: 0.8, acc: 0.6 });
    onEpochEnd(0, { loss: 0.9, acc: 0.55, val_loss: 1.0, val_acc: 0.5 });
    onBatchEnd(0, { loss: 0.6, acc: 0.7 });
    onBatchEnd(1, { loss: 0.4, acc: 0.8 });
    onEpochEnd(1, { loss: 0.5, acc: 0.75, val_loss: 0.7, val_acc: 0.6 });
    const byName = new Map(curves.figure().data.map((t) => [t.name, t] as [string, Trace]));
    // Two batches per epoch, learnt from epoch 1: batch k ends at epoch k/2.
    expect(byName.get('loss (batch)')).toMatchObject({ x: [0.5, 1, 1.5, 2], y: [1, 0.8, 0.6, 0.4], xaxis: 'x', yaxis: 'y' });
    expect(byName.get('loss')).toMatchObject({ x: [1, 2], y: [0.9, 0.5] });
    expect(byName.get('val_loss')).toMatchObject({ x: [1, 2], y: [1.0, 0.7], line: { dash: 'dash' } });
    expect(byName.get('acc')).toMatchObject({ y: [0.55, 0.75], xaxis: 'x2', yaxis: 'y2' });
    expect(byName.get('val_acc')).toMatchObject({ y: [0.5, 0.6], xaxis: 'x2' });
    expect(curves.figure().layout.yaxis2).toMatchObject({ title: { text: 'accuracy' } });
    expect(seen.length).toBe(6);
    expect(new Set(seen.map((m) => m.displayId)).size).toBe(1);
    expect(seen.map((m) => m.update)).toEqual([false, true, true, true, true, true]);
  });

  it('throttles batch redraws but always redraws at epoch ends', () => {
    const seen: DisplayMessage[] = [];
    setDisplaySink((m) => seen.push(m));
    const curves = lossCurves({ throttleMs: 1e9 });
    for (let b = 0; b < 50; b++) curves.onBatchEnd(b, { loss: 1 / (b + 1) });
    curves.onEpochEnd(0, { loss: 0.1 });
    expect(seen.length).toBe(2); // the first batch, then the epoch end
  });

  it("plugs into einnet's own fit records through fitCallbacks()", () => {
    const curves = lossCurves({ display: false });
    const { onBatchEnd, onEpochEnd } = curves.fitCallbacks();
    onBatchEnd({ batch: 0, loss: 2 });
    onBatchEnd({ batch: 1, loss: 1 });
    onEpochEnd({ epoch: 1, trainLoss: 1.5, validLoss: 1.8, accuracy: 0.4 });
    onEpochEnd({ epoch: 2, trainLoss: 0.9 });
    const byName = new Map(curves.figure().data.map((t) => [t.name, t] as [string, Trace]));
    expect(byName.get('loss')).toMatchObject({ x: [1, 2], y: [1.5, 0.9] });
    expect(byName.get('val_loss')).toMatchObject({ x: [1], y: [1.8] });
    expect(byName.get('val_acc')).toMatchObject({ x: [1], y: [0.4] });
    expect(byName.get('loss (batch)')?.y).toEqual([2, 1]);
  });

  it('takes a whole History record', () => {
    const curves = lossCurves({ display: false });
    curves.onEpochEnd({ epoch: [0, 1, 2], history: { loss: [1, 0.5, 0.25] } });
    expect(curves.figure().data).toHaveLength(1);
    expect(curves.figure().data[0]).toMatchObject({ name: 'loss', x: [1, 2, 3], y: [1, 0.5, 0.25] });
    expect(curves.figure().layout.xaxis2).toBeUndefined();
  });

  it('works as a callback of a real tfjs fit', async () => {
    const seen: DisplayMessage[] = [];
    setDisplaySink((m) => seen.push(m));
    const before = tf.memory().numTensors;
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [1], units: 1 })] });
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const xs = tf.tensor2d([0, 1, 2, 3], [4, 1]);
    const ys = tf.tensor2d([1, 3, 5, 7], [4, 1]);
    const curves = lossCurves({ throttleMs: 0 });
    const history = await model.fit(xs, ys, { epochs: 3, batchSize: 2, callbacks: curves, verbose: 0 });
    const loss = curves.figure().data.find((t) => t.name === 'loss')!;
    expect(loss.x).toEqual([1, 2, 3]);
    expect(loss.y).toEqual(history.history.loss);
    expect(curves.figure().data.find((t) => t.name === 'loss (batch)')!.x).toEqual([0.5, 1, 1.5, 2, 2.5, 3]);
    expect(seen.length).toBeGreaterThan(3);
    tf.dispose([xs, ys]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('occlusionMap', () => {
  // 4×4 image with pixel (y,x) = (4y + x)/15, mean 0.5; the "classifier" says p(class 0) = mean.
  const image = () =>
    tf.tensor3d(
      Array.from({ length: 16 }, (_, i) => i / 15),
      [4, 4, 1],
    );
  const meanClassifier = (batch: tf.Tensor4D) => {
    const m = batch.mean([1, 2, 3]).reshape([-1, 1]);
    return tf.concat([m, tf.onesLike(m).sub(m)], 1);
  };

  it('records the class probability for each patch position (hand-computed)', () => {
    const img = image();
    const result = noLeak(() => occlusionMap(img, meanClassifier, { classIndex: 0, patch: 2, stride: 2, fill: 0 }));
    expect(result.rows).toEqual([0, 2]);
    expect(result.columns).toEqual([0, 2]);
    expect(result.baseline).toBeCloseTo(0.5, 6);
    // Zeroing pixels {0,1,4,5} removes 10/15 from a sum of 120/15: (120−10)/240, etc.
    const expected = [
      [110 / 240, 102 / 240],
      [78 / 240, 70 / 240],
    ];
    result.probabilities.forEach((row, r) => row.forEach((p, c) => expect(p).toBeCloseTo(expected[r][c], 6)));
    const heat = result.figure.data[1];
    expect(heat).toMatchObject({ x: [0.5, 2.5], y: [0.5, 2.5], xaxis: 'x2' });
    img.dispose();
  });

  it('defaults: class = the predicted one, batches of any size give the same map', () => {
    const img = image();
    const a = occlusionMap(img, meanClassifier, { patch: 3, stride: 1, fill: 0.5, batchSize: 2 });
    const b = occlusionMap(img.expandDims(0), meanClassifier, { patch: 3, stride: 1, fill: 0.5, batchSize: 100 });
    expect(a.rows).toEqual([0, 1]);
    expect(a.probabilities).toHaveLength(2);
    a.probabilities.flat().forEach((p, k) => expect(p).toBeCloseTo(b.probabilities.flat()[k], 6));
    img.dispose();
  });

  it('says what is wrong', () => {
    const img = image();
    expectEinError(() => occlusionMap(img, meanClassifier, { patch: 5 }), 'EIN6005', 'patch is 5', 'the image is 4×4');
    expectEinError(() => occlusionMap(img, meanClassifier, { classIndex: 2 }), 'EIN6005', 'classIndex 2', '2 classes');
    expectEinError(() => occlusionMap(img, (b) => b.mean([1, 2, 3])), 'EIN6004', 'predict must return probabilities [1, classes]', 'shape [1]');
    const two = tf.zeros([2, 4, 4, 1]);
    expectEinError(() => occlusionMap(two, meanClassifier), 'EIN6004', 'one image');
    tf.dispose([img, two]);
  });
});

describe('receptive fields', () => {
  it("reproduces the course's eight-layer receptive-field table", () => {
    const rows = receptiveFields({ kernel: [3, 3, 3, 3, 3, 3, 3, 3], stride: [1, 2, 1, 1, 2, 1, 1, 2] });
    expect(rows.map((r) => r.receptiveField)).toEqual([3, 5, 9, 13, 17, 25, 33, 41]);
    expect(rows.map((r) => r.jump)).toEqual([1, 2, 2, 2, 4, 4, 4, 8]);
  });

  it('dilation 2 turns a 3×3 field into 5×5, dilations 1,2,4 give 3,7,15', () => {
    expect(receptiveFields([{ kernel: 3, dilation: 2 }])[0]).toMatchObject({ receptiveField: 5, effectiveKernel: 5 });
    expect(receptiveFields({ kernel: [3, 3, 3], dilation: [1, 2, 4] }).map((r) => r.receptiveField)).toEqual([3, 7, 15]);
  });

  it('counts paths from each input offset to one output unit', () => {
    expect(pathCounts([{ kernel: 3 }, { kernel: 3 }])).toEqual([1, 2, 3, 2, 1]);
    expect(pathCounts([{ kernel: 3, dilation: 2 }])).toEqual([1, 0, 1, 0, 1]);
    expect(pathCounts([{ kernel: 2, stride: 2 }, { kernel: 2 }])).toEqual([1, 1, 1, 1]);
    // Two dilation-2 layers never see odd offsets: gridding.
    expect(pathCounts({ kernel: [3, 3], dilation: [2, 2] })).toEqual([1, 0, 2, 0, 3, 0, 2, 0, 1]);
  });

  it('draws one centred square per layer over the path counts', () => {
    const fig = receptiveFieldFigure({ kernel: [3, 3], stride: [1, 1] });
    const shapes = fig.layout.shapes as { x0: number; x1: number; y0: number }[];
    expect(shapes.map((s) => s.x1 - s.x0)).toEqual([3, 5]);
    expect(shapes[1]).toMatchObject({ x0: -0.5, x1: 4.5 });
    expect(fig.data[0].z).toEqual([0, 1, 2, 1, 0].map(() => expect.any(Array)));
    expect((fig.data[0].z as (number | null)[][])[2][2]).toBeCloseTo(Math.log10(9), 9);
  });

  it('rejects lists of different lengths and bad numbers', () => {
    expectEinError(() => receptiveFields({ kernel: [3, 3], stride: [1] }), 'EIN6005', 'stride has 1 entries but kernel has 2');
    expectEinError(() => receptiveFields([{ kernel: 0 }]), 'EIN6005', 'kernel 0');
  });
});
