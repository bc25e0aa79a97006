/**
 * summary(): the course's LeNet-style layer table, its eight-layer receptive-field column
 * and the usual multiplication counts for standard, depthwise and pointwise convolution — each
 * from a program written in the notation, computed from index expressions and ranges.
 */
import { describe, expect, it } from 'vitest';
import { ein } from '../../dsl/program';
import { summary } from '../../models/summary';
import { lenet5, resnetCifar } from '../../models/architectures';

describe("the course's LeNet-style layer table", () => {
  // The table: Input (32,32,3) 3,072 0; CONV1 (f=5,s=1) (28,28,6) 4,704 456; POOL1 (14,14,6) 1,176 0;
  // CONV2 (10,10,16) 1,600 2,416; POOL2 (5,5,16) 400 0; FC3 120 48,120; FC4 84 10,164;
  // Softmax 10 850. The softmax row holds the 84→10 weights, so its statements share a prefix.
  const program = ein(`
    CONV1[b,x,y,j:6] = relu(CONV1.W[Δx:5,Δy:5,I,j] · X[b,x+Δx,y+Δy,I] + CONV1.B[j])
    POOL1[b,x,y,j] = max[Δx:2,Δy:2] CONV1[b,2*x+Δx,2*y+Δy,j]
    CONV2[b,x,y,j:16] = relu(CONV2.W[Δx:5,Δy:5,I,j] · POOL1[b,x+Δx,y+Δy,I] + CONV2.B[j])
    POOL2[b,x,y,j] = max[Δx:2,Δy:2] CONV2[b,2*x+Δx,2*y+Δy,j]
    FC3[b,k:120] = relu(FC3.W[x,y,i,k] · POOL2[b,x,y,i] + FC3.B[k])
    FC4[b,k:84] = relu(FC4.W[i,k] · FC3[b,i] + FC4.B[k])
    Softmax.Z[b,k:10] = Softmax.W[i,k] · FC4[b,i] + Softmax.B[k]
    Softmax.m[b] = max[k] Softmax.Z[b,k]
    Softmax[b,k] = exp(Softmax.Z[b,k] - Softmax.m[b]) / (sum[k2] exp(Softmax.Z[b,k2] - Softmax.m[b]))
  `);
  it('reproduces every row: shape, size, parameters', () => {
    const s = summary(program, { X: [1, 32, 32, 3] }, { group: 1 });
    expect(s.rows.map((r) => [r.name, r.shape, r.size, r.params])).toEqual([
      ['X', [32, 32, 3], 3072, 0],
      ['CONV1', [28, 28, 6], 4704, 456],
      ['POOL1', [14, 14, 6], 1176, 0],
      ['CONV2', [10, 10, 16], 1600, 2416],
      ['POOL2', [5, 5, 16], 400, 0],
      ['FC3', [120], 120, 48120],
      ['FC4', [84], 84, 10164],
      ['Softmax', [10], 10, 850],
    ]);
    expect(s.totalParams).toBe(456 + 2416 + 48120 + 10164 + 850);
    const text = s.toString();
    expect(text).toContain('3,072');
    expect(text).toContain('48,120');
  });
  it('does not depend on the batch size given', () => {
    const a = summary(program, { X: [1, 32, 32, 3] }, { group: 1 });
    const b = summary(program, { X: [7, 32, 32, 3] }, { group: 1 });
    expect(b.rows).toEqual(a.rows);
  });
  it('counts multiply-adds per example: CONV1 = 28·28·6·5·5·3, FC3 = 400·120', () => {
    const s = summary(program, { X: [1, 32, 32, 3] }, { group: 1 });
    expect(s.rows[1].multiplyAdds).toBe(28 * 28 * 6 * 5 * 5 * 3);
    expect(s.rows[3].multiplyAdds).toBe(10 * 10 * 16 * 5 * 5 * 6);
    expect(s.rows[5].multiplyAdds).toBe(400 * 120);
  });
});

describe("the course's eight-layer receptive-field table", () => {
  // Layers 1–8: kernel 3, strides 1,2,1,1,2,1,1,2, total padding 2 for stride 1 (1 each side)
  // and 1 for stride 2 (TensorFlow 'same': the extra row at the end), sizes 256→128→64→32.
  const lines: string[] = [];
  const strides = [1, 2, 1, 1, 2, 1, 1, 2];
  let size = 256;
  strides.forEach((s, k) => {
    const src = k === 0 ? 'X' : `L${k}`;
    size = size / s;
    const read = s === 1 ? `${src}[b,x+Δx-1,y+Δy-1,I]` : `${src}[b,2*x+Δx,2*y+Δy,I]`;
    lines.push(`L${k + 1}[b,x:${size},y:${size},j:1] = W${k + 1}[Δx:3,Δy:3,I,j] · ${read}`);
  });
  const program = ein(lines.join('\n'));
  it('gives 3, 5, 9, 13, 17, 25, 33, 41 and output sizes 256 … 32', () => {
    const s = summary(program, { X: [1, 256, 256, 1] });
    const layers = s.rows.slice(1);
    expect(layers.map((r) => r.receptiveField![0])).toEqual([3, 5, 9, 13, 17, 25, 33, 41]);
    expect(layers.map((r) => r.receptiveField![1])).toEqual([3, 5, 9, 13, 17, 25, 33, 41]);
    expect(layers.map((r) => r.shape[0])).toEqual([256, 128, 128, 128, 64, 64, 64, 32]);
    expect(layers.map((r) => r.jump![0])).toEqual([1, 2, 2, 2, 4, 4, 4, 8]);
  });
  it('dilation 2 turns a 3×3 receptive field into 5×5', () => {
    const s = summary(ein('Y[b,x,y,j:1] = W[Δx:3,Δy:3,I,j] · X[b,x+2*Δx,y+2*Δy,I]'), { X: [1, 9, 9, 1] });
    expect(s.rows[1].receptiveField).toEqual([5, 5]);
  });
});

describe('multiplication counts of standard, depthwise and pointwise convolution', () => {
  // "without strides and padding": k_h·k_w·h·w·c_in·c_out, k_h·k_w·h·w·c_in, h·w·c_in·c_out
  // with h, w the output size. Here k = 3, output 6×6, c_in = 4, c_out = 8.
  const h = 6;
  const w = 6;
  const cin = 4;
  const cout = 8;
  it('standard 2-D convolution', () => {
    const s = summary(ein('Y[b,x,y,j:8] = W[Δx:3,Δy:3,I,j] · X[b,x+Δx,y+Δy,I]'), { X: [1, h + 2, w + 2, cin] });
    expect(s.rows[1].multiplyAdds).toBe(3 * 3 * h * w * cin * cout);
  });
  it('depthwise 2-D convolution', () => {
    const s = summary(ein('Y[b,x,y,j] = W[Δx:3,Δy:3,j] · X[b,x+Δx,y+Δy,j]'), { X: [1, h + 2, w + 2, cin] });
    expect(s.rows[1].multiplyAdds).toBe(3 * 3 * h * w * cin);
  });
  it('pointwise (1×1) convolution', () => {
    const s = summary(ein('Y[b,x,y,j:8] = W[I,j] · X[b,x,y,I]'), { X: [1, h, w, cin] });
    expect(s.rows[1].multiplyAdds).toBe(h * w * cin * cout);
  });
  it('depthwise-separable = depthwise + pointwise, a factor 1/c_out + 1/9 of the standard', () => {
    const s = summary(ein('D[b,x,y,j] = Wd[Δx:3,Δy:3,j] · X[b,x+Δx,y+Δy,j]\nP[b,x,y,k:8] = Wp[j,k] · D[b,x,y,j]'), { X: [1, h + 2, w + 2, cin] });
    expect(s.totalMultiplyAdds).toBe(3 * 3 * h * w * cin + h * w * cin * cout);
  });
});

describe('summary of models', () => {
  it('LeNet-5: the published layer sizes and 61,706 parameters', () => {
    const m = lenet5();
    try {
      const s = summary(m);
      expect(s.rows.map((r) => [r.name, r.shape])).toEqual([
        ['X', [28, 28, 1]],
        ['C1', [28, 28, 6]],
        ['S2', [14, 14, 6]],
        ['C3', [10, 10, 16]],
        ['S4', [5, 5, 16]],
        ['C5', [120]],
        ['F6', [84]],
        ['Out', [10]],
      ]);
      expect(s.totalParams).toBe(61706);
      expect(s.totalParams).toBe(m.parameterCount);
    } finally {
      m.dispose();
    }
  });
  it('ResNet-20 grouped by block: running statistics are not parameters; stage strides show in the jump', () => {
    const m = resnetCifar({ depth: 20 });
    try {
      const s = summary(m, undefined, { group: 2 });
      expect(s.totalParams).toBe(m.parameterCount);
      const names = s.rows.map((r) => r.name);
      expect(names).toContain('stage2.block1');
      const row = (n: string) => s.rows.find((r) => r.name === n)!;
      expect(row('stage1.block3').jump).toEqual([1, 1]);
      expect(row('stage2.block1').jump).toEqual([2, 2]);
      expect(row('stage3.block3').jump).toEqual([4, 4]);
      expect(row('stage3.block3').shape).toEqual([8, 8, 64]);
    } finally {
      m.dispose();
    }
  });
});
