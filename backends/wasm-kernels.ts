/**
 * einnet's own kernels (backends/kernel-names.ts) for tfjs' WebAssembly backend, written in
 * JavaScript over the backend's heap: where tfjs-wasm has no right kernel and composing tfjs ops
 * costs many passes. Registered for the wasm backend when this module first loads (ops/pool.ts
 * imports it), whether or not that backend is ever used.
 */
import * as tf from '@tensorflow/tfjs';
import { FIRST_MAX_POOL_GRAD, type FirstMaxPoolGradAttrs } from './kernel-names';

/** The tfjs name of tfjs' WebAssembly backend. */
const WASM = 'wasm';

/** The part of tfjs-wasm's BackendWasm these kernels use. */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

/**
 * FIRST_MAX_POOL_GRAD: one scan of each window, all channels at once (NHWC keeps a window
 * position's channels together), the winners' positions in a channel-long buffer. tfjs-wasm's
 * own MaxPoolGrad gives zero gradient where a window's maximum is negative and sends a tie to
 * the last maximum; composing the first-maximum rule from tfjs ops takes a dozen passes there.
 */
function firstMaxPoolGrad({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const heap = backend as WasmHeapBackend;
  const { dy, x } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
  const { filterSize, strides } = attrs as unknown as FirstMaxPoolGradAttrs;
  const [n, h, w, c] = x.shape;
  const [, oh, ow] = dy.shape;
  const [kh, kw] = filterSize;
  const [sh, sw] = strides;
  const out = heap.makeOutput([...x.shape], 'float32');
  // Views after makeOutput: growing the heap detaches the earlier ones.
  const xs = heap.typedArrayFromHeap(x);
  const dys = heap.typedArrayFromHeap(dy);
  const dx = heap.typedArrayFromHeap(out);
  dx.fill(0);
  const best = new Float32Array(c);
  const at = new Int32Array(c);
  for (let b = 0; b < n; b++) {
    for (let u = 0; u < oh; u++) {
      for (let v = 0; v < ow; v++) {
        const first = ((b * h + u * sh) * w + v * sw) * c;
        for (let k = 0; k < c; k++) {
          best[k] = -Infinity;
          at[k] = first + k;
        }
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            const base = ((b * h + u * sh + i) * w + v * sw + j) * c;
            for (let k = 0; k < c; k++) {
              const value = xs[base + k];
              if (value > best[k]) {
                best[k] = value;
                at[k] = base + k;
              }
            }
          }
        }
        const from = ((b * oh + u) * ow + v) * c;
        for (let k = 0; k < c; k++) dx[at[k]] += dys[from + k];
      }
    }
  }
  return out;
}

if (tf.getKernel(FIRST_MAX_POOL_GRAD, WASM) === undefined)
  tf.registerKernel({ kernelName: FIRST_MAX_POOL_GRAD, backendName: WASM, kernelFunc: firstMaxPoolGrad as unknown as tf.KernelFunc });
