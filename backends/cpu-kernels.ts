/**
 * einnet's own kernels (backends/kernel-names.ts) for tfjs' pure-JavaScript backend, over its
 * Float32Arrays: MAX_POOL_KEEPING_NAN, where tfjs-cpu's MaxPool skips NaN and a NaN check beside
 * it made the pooling 1.2× as long. The loops are those of the wasm kernels' JavaScript fallback
 * (backends/wasm/loops.ts). Registered for the cpu backend when this module first loads (the ops
 * that call them import it), whether or not that backend is ever used.
 */
import * as tf from '@tensorflow/tfjs';
import { MAX_POOL_KEEPING_NAN, type MaxPoolKeepingNaNAttrs } from './kernel-names';
import { maxPoolNaNLoop, poolGeometry } from './wasm/loops';

/** The tfjs name of tfjs' pure-JavaScript backend. */
const CPU = 'cpu';

/** The part of tfjs-cpu's MathBackendCPU these kernels use. */
interface CpuBackend {
  readSync(dataId: object): Float32Array;
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
}

/** MAX_POOL_KEEPING_NAN: each window's largest value, or NaN when the window holds one. */
function maxPoolKeepingNaN({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const cpu = backend as CpuBackend;
  const { x } = inputs as { x: tf.TensorInfo };
  const { filterSize, strides } = attrs as unknown as MaxPoolKeepingNaNAttrs;
  const p = poolGeometry(x.shape, filterSize, strides);
  const y = new Float32Array(p.n * p.oh * p.ow * p.c);
  maxPoolNaNLoop(cpu.readSync(x.dataId), y, p);
  return cpu.makeTensorInfo([p.n, p.oh, p.ow, p.c], 'float32', y);
}

if (tf.getKernel(MAX_POOL_KEEPING_NAN, CPU) === undefined) {
  tf.registerKernel({ kernelName: MAX_POOL_KEEPING_NAN, backendName: CPU, kernelFunc: maxPoolKeepingNaN as unknown as tf.KernelFunc });
}
