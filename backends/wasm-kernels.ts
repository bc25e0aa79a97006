/**
 * einnet's own kernels (backends/kernel-names.ts) for tfjs' WebAssembly backend, over the
 * backend's heap: where tfjs-wasm has no right kernel, or where composing tfjs ops costs many
 * passes and kernel calls (each call costs microseconds of tfjs' bookkeeping, more than the
 * arithmetic of a small tensor). The loops are WebAssembly SIMD (backends/wasm/kernels.wat) on the
 * backend's own memory, or JavaScript (backends/wasm/loops.ts) where SIMD is not there; softmax
 * cross-entropy, a few hundred numbers, is JavaScript. Registered for the wasm backend when this
 * module first loads (the ops that call them import it), whether or not that backend is ever used.
 */
import * as tf from '@tensorflow/tfjs';
import {
  ADAM_UPDATE,
  COL2IM,
  CONV2D_FILTER_GRAD,
  FIRST_MAX_POOL_GRAD,
  MAX_POOL_KEEPING_NAN,
  MOVING_AVERAGE,
  RELU_BIAS_GRAD,
  SGD_UPDATE,
  SOFTMAX_CROSS_ENTROPY,
  type AdamUpdateAttrs,
  type Col2ImAttrs,
  type Conv2DFilterGradAttrs,
  type FirstMaxPoolGradAttrs,
  type MaxPoolKeepingNaNAttrs,
  type MovingAverageAttrs,
  type SgdUpdateAttrs,
} from './kernel-names';
import {
  adamLoop,
  col2ImLoop,
  convFilterGradLoop,
  maxPoolGradLoop,
  maxPoolNaNLoop,
  poolGeometry,
  movingAverageLoop,
  reluBiasGradLoop,
  sgdLoop,
  type AdamScalars,
  type Col2ImGeometry,
  type PoolGeometry,
} from './wasm/loops';
import { simdLoops } from './wasm/simd';

export { useSimdLoops } from './wasm/simd';

/** The tfjs name of tfjs' WebAssembly backend. */
const WASM = 'wasm';

/** The part of tfjs-wasm's BackendWasm these kernels use. */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  disposeData(dataId: object): boolean;
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
}

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

const f = Math.fround;

/** The byte offset of a tensor's data in the heap. */
const at = (heap: WasmHeapBackend, t: tf.TensorInfo) => heap.dataIdMap.get(t.dataId).memoryOffset;

/**
 * MAX_POOL_KEEPING_NAN. tfjs-wasm's MaxPool (XNNPACK's) skips NaN, and the NaN term composed
 * beside it cost half as much again as the pooling.
 */
function maxPoolKeepingNaN({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const heap = backend as WasmHeapBackend;
  const { x } = inputs as { x: tf.TensorInfo };
  const { filterSize, strides } = attrs as unknown as MaxPoolKeepingNaNAttrs;
  const p = poolGeometry(x.shape, filterSize, strides);
  const out = heap.makeOutput([p.n, p.oh, p.ow, p.c], 'float32');
  const simd = simdLoops(backend);
  if (simd !== undefined) simd.maxPoolNaN(at(heap, x), at(heap, out), p.n, p.h, p.w, p.c, p.oh, p.ow, p.kh, p.kw, p.sh, p.sw);
  else maxPoolNaNLoop(heap.typedArrayFromHeap(x), heap.typedArrayFromHeap(out), p);
  return out;
}

/**
 * FIRST_MAX_POOL_GRAD. tfjs-wasm's own MaxPoolGrad gives zero gradient where a window's maximum is
 * negative and sends a tie to the last maximum; composing the first-maximum rule from tfjs ops
 * takes a dozen passes there.
 */
function firstMaxPoolGrad({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const heap = backend as WasmHeapBackend;
  const { dy, x } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
  const { filterSize, strides } = attrs as unknown as FirstMaxPoolGradAttrs;
  const [n, h, w, c] = x.shape;
  const p: PoolGeometry = { n, h, w, c, oh: dy.shape[1], ow: dy.shape[2], kh: filterSize[0], kw: filterSize[1], sh: strides[0], sw: strides[1] };
  const out = heap.makeOutput([...x.shape], 'float32');
  const simd = simdLoops(backend);
  if (simd !== undefined) simd.maxPoolGrad(at(heap, x), at(heap, dy), at(heap, out), p.n, p.h, p.w, p.c, p.oh, p.ow, p.kh, p.kw, p.sh, p.sw);
  // Views after makeOutput: growing the heap detaches the earlier ones.
  else maxPoolGradLoop(heap.typedArrayFromHeap(x), heap.typedArrayFromHeap(dy), heap.typedArrayFromHeap(out), p);
  return out;
}

/** SGD_UPDATE: every parameter of a step in one call. */
function sgdUpdate({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const heap = backend as WasmHeapBackend;
  const a = attrs as unknown as SgdUpdateAttrs;
  // Each scalar rounded to float32 as tfjs rounds an op's scalar operand.
  const [lr, mu, wd] = [f(a.learningRate), f(a.momentum), f(a.weightDecay)];
  const outs: tf.TensorInfo[] = [];
  for (let i = 0; i < a.count; i++) {
    const shape = [...inputs[`w${i}`]!.shape];
    outs.push(heap.makeOutput(shape, 'float32'));
    if (inputs[`v${i}`] !== undefined) outs.push(heap.makeOutput([...shape], 'float32'));
  }
  const simd = simdLoops(backend);
  let o = 0;
  for (let i = 0; i < a.count; i++) {
    const [w, g, v] = [inputs[`w${i}`]!, inputs[`g${i}`]!, inputs[`v${i}`]];
    const wOut = outs[o++];
    const vOut = v === undefined ? undefined : outs[o++];
    if (simd !== undefined) {
      const n = wOut.shape.reduce((s, d) => s * d, 1);
      const [vp, vOutp] = v === undefined || vOut === undefined ? [0, 0] : [at(heap, v), at(heap, vOut)];
      simd.sgdUpdate(at(heap, w), at(heap, g), vp, at(heap, wOut), vOutp, n, lr, mu, wd, wd !== 0 ? 1 : 0, v === undefined ? 0 : 1, a.nesterov ? 1 : 0);
    } else {
      const view = (t: tf.TensorInfo | undefined) => (t === undefined ? undefined : heap.typedArrayFromHeap(t));
      sgdLoop(view(w)!, view(g)!, view(v), view(wOut)!, view(vOut), lr, mu, wd, a.nesterov);
    }
  }
  return outs;
}

/** ADAM_UPDATE: every parameter of a step in one call. */
function adamUpdate({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const heap = backend as WasmHeapBackend;
  const a = attrs as unknown as AdamUpdateAttrs;
  // Each scalar rounded to float32 as tfjs rounds an op's scalar operand; 1 − β and lr·wd are
  // computed in double first, as ops/update.ts computes them.
  const h: AdamScalars = {
    lr: f(a.learningRate),
    beta1: f(a.beta1),
    beta2: f(a.beta2),
    epsilon: f(a.epsilon),
    weightDecay: f(a.weightDecay),
    c1: f(a.c1),
    c2: f(a.c2),
    oneMinusBeta1: f(1 - a.beta1),
    oneMinusBeta2: f(1 - a.beta2),
    lrWeightDecay: f(a.learningRate * a.weightDecay),
    l2: a.weightDecay !== 0 && !a.decoupled,
    decay: a.weightDecay !== 0 && a.decoupled,
  };
  const outs: tf.TensorInfo[] = [];
  for (let i = 0; i < a.count; i++) {
    const shape = [...inputs[`w${i}`]!.shape];
    outs.push(heap.makeOutput(shape, 'float32'), heap.makeOutput([...shape], 'float32'), heap.makeOutput([...shape], 'float32'));
  }
  const simd = simdLoops(backend);
  for (let i = 0; i < a.count; i++) {
    const ins = [inputs[`w${i}`]!, inputs[`g${i}`]!, inputs[`m${i}`]!, inputs[`v${i}`]!];
    const [wOut, mOut, vOut] = [outs[3 * i], outs[3 * i + 1], outs[3 * i + 2]];
    if (simd !== undefined) {
      const n = wOut.shape.reduce((s, d) => s * d, 1);
      const [w, g, m, v] = ins.map((t) => at(heap, t));
      simd.adamUpdate(w, g, m, v, at(heap, wOut), at(heap, mOut), at(heap, vOut), n, h.lr, h.beta1, h.beta2, h.epsilon, h.weightDecay, h.c1, h.c2,
        h.oneMinusBeta1, h.oneMinusBeta2, h.lrWeightDecay, h.l2 ? 1 : 0, h.decay ? 1 : 0); // prettier-ignore
    } else {
      const [w, g, m, v] = ins.map((t) => heap.typedArrayFromHeap(t));
      adamLoop(w, g, m, v, heap.typedArrayFromHeap(wOut), heap.typedArrayFromHeap(mOut), heap.typedArrayFromHeap(vOut), h);
    }
  }
  return outs;
}

/** MOVING_AVERAGE: every running statistic of a step in one call. */
function movingAverage({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const heap = backend as WasmHeapBackend;
  const { momenta } = attrs as unknown as MovingAverageAttrs;
  const outs = momenta.map((_, i) => heap.makeOutput([...inputs[`v${i}`]!.shape], 'float32'));
  const simd = simdLoops(backend);
  momenta.forEach((momentum, i) => {
    const [v, b] = [inputs[`v${i}`]!, inputs[`b${i}`]!];
    const [m, k] = [f(momentum), f(1 - momentum)];
    if (simd !== undefined)
      simd.movingAverage(
        at(heap, v),
        at(heap, b),
        at(heap, outs[i]),
        outs[i].shape.reduce((s, d) => s * d, 1),
        m,
        k,
      );
    else movingAverageLoop(heap.typedArrayFromHeap(v), heap.typedArrayFromHeap(b), heap.typedArrayFromHeap(outs[i]), m, k);
  });
  return outs;
}

/**
 * SOFTMAX_CROSS_ENTROPY: per row, m = max Z, e = exp(Z − m), s = Σ e, loss = m + log s − Σ Y·Z,
 * d/dZ = (e/s − Y)/rows; sums in double. A NaN or +∞ score gives NaN in its row's loss and
 * gradient, as the composed ops do.
 */
function softmaxCrossEntropy({ inputs, backend }: KernelArgs): tf.TensorInfo[] {
  const heap = backend as WasmHeapBackend;
  const { z, y } = inputs as { z: tf.TensorInfo; y: tf.TensorInfo };
  const [rows, classes] = z.shape;
  const lossOut = heap.makeOutput([], 'float32');
  const dzOut = heap.makeOutput([rows, classes], 'float32');
  const zs = heap.typedArrayFromHeap(z);
  const ys = heap.typedArrayFromHeap(y);
  const dz = heap.typedArrayFromHeap(dzOut);
  const invRows = f(1 / rows);
  let total = 0;
  for (let b = 0; b < rows; b++) {
    const base = b * classes;
    let m = zs[base];
    for (let k = 1; k < classes; k++) m = zs[base + k] > m ? zs[base + k] : m;
    let s = 0;
    let yz = 0;
    for (let k = 0; k < classes; k++) {
      const e = f(Math.exp(f(zs[base + k] - m)));
      dz[base + k] = e;
      s += e;
      yz += ys[base + k] * zs[base + k];
    }
    const sf = f(s);
    for (let k = 0; k < classes; k++) dz[base + k] = f(f(f(dz[base + k] / sf) - ys[base + k]) * invRows);
    total += m + Math.log(s) - yz;
  }
  heap.typedArrayFromHeap(lossOut)[0] = total / rows;
  return [lossOut, dzOut];
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** RELU_BIAS_GRAD: dz and the bias gradient in one pass; the sums accumulate in double. */
function reluBiasGrad({ inputs, backend }: KernelArgs): tf.TensorInfo[] {
  const heap = backend as WasmHeapBackend;
  const { dy, y } = inputs as { dy: tf.TensorInfo; y: tf.TensorInfo };
  const c = y.shape[y.shape.length - 1];
  const dzOut = heap.makeOutput([...y.shape], 'float32');
  const dbOut = heap.makeOutput([c], 'float32');
  const simd = simdLoops(backend);
  if (simd === undefined) {
    const sums = reluBiasGradLoop(heap.typedArrayFromHeap(dy), heap.typedArrayFromHeap(y), heap.typedArrayFromHeap(dzOut), c);
    heap.typedArrayFromHeap(dbOut).set(sums);
    return [dzOut, dbOut];
  }
  // The SIMD loop sums into `period` doubles, period a multiple of 4 and of c; channel k's sum is
  // that of the entries k, k + c, … of them.
  const period = (4 * c) / gcd(c, 4);
  const scratch = heap.makeOutput([2 * period], 'float32');
  try {
    simd.reluBiasGrad(
      at(heap, dy),
      at(heap, y),
      at(heap, dzOut),
      at(heap, scratch),
      dzOut.shape.reduce((s, d) => s * d, 1),
      period,
    );
    const acc = new Float64Array(heap.typedArrayFromHeap(scratch).buffer, at(heap, scratch), period);
    const db = heap.typedArrayFromHeap(dbOut);
    for (let k = 0; k < c; k++) {
      let s = 0;
      for (let j = k; j < period; j += c) s += acc[j];
      db[k] = s;
    }
  } finally {
    heap.disposeData(scratch.dataId);
  }
  return [dzOut, dbOut];
}

/** COL2IM: the image gradient of a convolution from the product of its output gradient and filter. */
function col2Im({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const heap = backend as WasmHeapBackend;
  const { cols } = inputs as { cols: tf.TensorInfo };
  const a = attrs as unknown as Col2ImAttrs;
  const [n, h, w, c] = a.imageShape;
  const g: Col2ImGeometry = {
    n,
    h,
    w,
    c,
    oh: a.outSize[0],
    ow: a.outSize[1],
    kh: a.filterSize[0],
    kw: a.filterSize[1],
    sh: a.strides[0],
    sw: a.strides[1],
    dh: a.dilations[0],
    dw: a.dilations[1],
    top: a.padding[0],
    left: a.padding[1],
  };
  const out = heap.makeOutput([n, h, w, c], 'float32');
  const simd = simdLoops(backend);
  if (simd !== undefined) simd.col2Im(at(heap, cols), at(heap, out), n, h, w, c, g.oh, g.ow, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.top, g.left);
  else col2ImLoop(heap.typedArrayFromHeap(cols), heap.typedArrayFromHeap(out), g);
  return out;
}

/**
 * CONV2D_FILTER_GRAD: tfjs-wasm has no Conv2DBackpropFilter, and a forward convolution that
 * computes it takes the output gradient as its filter, which XNNPACK repacks on every call. The
 * SIMD loop takes at least 4 output channels; fewer run in JavaScript.
 */
function conv2DFilterGrad({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const heap = backend as WasmHeapBackend;
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const a = attrs as unknown as Conv2DFilterGradAttrs;
  const [n, h, w, c] = x.shape;
  const [, oh, ow, o] = dy.shape;
  const [kh, kw] = a.filterSize;
  const [sh, sw] = a.strides;
  const [dh, dw] = a.dilations;
  const [top, left] = a.padding;
  const out = heap.makeOutput([kh, kw, c, o], 'float32');
  const simd = simdLoops(backend);
  if (simd !== undefined && o >= 4) simd.convFilterGrad(at(heap, x), at(heap, dy), at(heap, out), n, h, w, c, oh, ow, o, kh, kw, sh, sw, dh, dw, top, left);
  else {
    const g = { n, h, w, c, oh, ow, kh, kw, sh, sw, dh, dw, top, left, o };
    convFilterGradLoop(heap.typedArrayFromHeap(x), heap.typedArrayFromHeap(dy), heap.typedArrayFromHeap(out), g);
  }
  return out;
}

const KERNELS: [string, (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[]][] = [
  [MAX_POOL_KEEPING_NAN, maxPoolKeepingNaN],
  [FIRST_MAX_POOL_GRAD, firstMaxPoolGrad],
  [SGD_UPDATE, sgdUpdate],
  [ADAM_UPDATE, adamUpdate],
  [MOVING_AVERAGE, movingAverage],
  [SOFTMAX_CROSS_ENTROPY, softmaxCrossEntropy],
  [RELU_BIAS_GRAD, reluBiasGrad],
  [COL2IM, col2Im],
  [CONV2D_FILTER_GRAD, conv2DFilterGrad],
];

for (const [kernelName, kernelFunc] of KERNELS) {
  if (tf.getKernel(kernelName, WASM) === undefined) tf.registerKernel({ kernelName, backendName: WASM, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
}
