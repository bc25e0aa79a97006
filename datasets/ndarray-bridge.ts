/**
 * tf.Tensor ⇄ scijs `ndarray`, for interop with the scijs ecosystem (ndarray-ops, image
 * processing, plotting helpers). Both directions copy: an ndarray never aliases tensor memory,
 * so neither side can corrupt the other, and disposing the tensor leaves the ndarray valid.
 */
import * as tf from '@tensorflow/tfjs';
import ndarray from 'ndarray';
import { optionError } from './errors';

/**
 * A row-major ndarray holding a copy of `t`'s values: Float32Array for float32, Int32Array for
 * int32, Uint8Array (0/1) for bool. `t` stays yours. Scalars become shape [].
 *
 * @example
 * const a = toNdarray(tf.tensor2d([[1, 2], [3, 4]])); // a.get(1, 0) === 3
 */
export function toNdarray(t: tf.Tensor): ndarray.NdArray<Float32Array | Int32Array | Uint8Array> {
  let data: Float32Array | Int32Array | Uint8Array;
  switch (t.dtype) {
    case 'float32':
      data = Float32Array.from(t.dataSync() as Float32Array);
      break;
    case 'int32':
      data = Int32Array.from(t.dataSync() as Int32Array);
      break;
    case 'bool':
      data = Uint8Array.from(t.dataSync() as Uint8Array);
      break;
    default:
      throw optionError('toNdarray', `tensors of dtype ${t.dtype} have no ndarray counterpart`, 'cast to float32 first', 'EIN5015');
  }
  return ndarray(data, t.shape.slice());
}

const INT_TYPES = ['int8', 'int16', 'int32', 'uint8', 'uint8_clamped', 'uint16'];

/**
 * A tensor with a copy of `a`'s values, in index order — views made by `.lo/.hi/.step/.transpose/
 * .pick` come out as they look, not as their backing buffer lies. The dtype follows the data
 * (integer arrays up to 16 bits and Int32Array → int32, others → float32) unless given.
 *
 * @example
 * const t = fromNdarray(ndarray(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]).transpose(1, 0)); // [3, 2]
 * Limitations: Uint32Array and Float64Array values become float32 (rounded beyond 2^24).
 */
export function fromNdarray(a: ndarray.NdArray, dtype?: 'float32' | 'int32'): tf.Tensor {
  const dt = dtype ?? (INT_TYPES.includes(a.dtype as string) ? 'int32' : 'float32');
  if (dt !== 'float32' && dt !== 'int32') throw optionError('fromNdarray', `dtype must be 'float32' or 'int32', got ${String(dt)}`);
  const shape = a.shape.slice();
  const size = shape.reduce((x, y) => x * y, 1);
  const out = dt === 'int32' ? new Int32Array(size) : new Float32Array(size);
  const d = shape.length;
  // Walk the indices in row-major order with an odometer; `pos` tracks the buffer position.
  const idx = new Array<number>(d).fill(0);
  let pos = a.offset;
  const data = a.data as ArrayLike<number> & { get?: (i: number) => number };
  const read = typeof data.get === 'function' && !ArrayBuffer.isView(data) && !Array.isArray(data) ? (i: number) => data.get!(i) : (i: number) => data[i];
  for (let k = 0; k < size; k++) {
    out[k] = read(pos);
    for (let j = d - 1; j >= 0; j--) {
      idx[j]++;
      pos += a.stride[j];
      if (idx[j] < shape[j]) break;
      pos -= a.stride[j] * shape[j];
      idx[j] = 0;
    }
  }
  return tf.tensor(out, shape, dt);
}
