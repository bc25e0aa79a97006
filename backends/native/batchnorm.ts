/**
 * The batch-normalization route's kernels on the addon's loops (src/normalize.cc). They are
 * einnet's own kernel names (backends/kernel-names.ts), registered for the native backend only; ops/batchnorm.ts calls
 * them when the averaged axes are the leading ones of a float32 tensor (x seen as [rows, C]) and
 * composes tfjs ops everywhere else.
 */
import type * as tf from '@tensorflow/tfjs';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import {
  BATCH_NORMALIZE,
  BATCH_NORMALIZE_GRAD,
  BATCH_STATS,
  BATCH_STATS_GRAD,
  type BatchNormalizeAttrs,
  type BatchNormalizeGradAttrs,
  type BatchStatsAttrs,
  type BatchStatsGradAttrs,
} from '../kernel-names';
import { loadAddon } from './addon';
import { f32, output, ownKernel } from './kernel';

const optional = (backend: MathBackendCPU, t: tf.TensorInfo | undefined) => (t === undefined ? null : f32(backend, t));

export const BATCH_NORM_KERNELS: tf.KernelConfig[] = [
  ownKernel<BatchStatsAttrs>(BATCH_STATS, ({ inputs, backend, attrs }) =>
    output(backend, [2 * attrs.channels], (out) =>
      loadAddon().batchStats(Int32Array.of(attrs.rows, attrs.channels), attrs.epsilon, f32(backend, inputs.x!), out),
    ),
  ),
  ownKernel<BatchStatsGradAttrs>(BATCH_STATS_GRAD, ({ inputs, backend, attrs }) =>
    output(backend, [...inputs.x!.shape], (dx) =>
      loadAddon().batchStatsGrad(
        Int32Array.of(attrs.rows, attrs.channels),
        f32(backend, inputs.dstats!),
        f32(backend, inputs.x!),
        f32(backend, inputs.stats!),
        dx,
      ),
    ),
  ),
  ownKernel<BatchNormalizeAttrs>(BATCH_NORMALIZE, ({ inputs, backend, attrs }) => {
    const { x, stats, scale, offset } = inputs;
    const params = Int32Array.of(attrs.rows, attrs.channels, attrs.relu ? 1 : 0, scale ? 1 : 0, offset ? 1 : 0);
    return output(backend, [...x!.shape], (y) =>
      loadAddon().batchNormalize(params, f32(backend, x!), f32(backend, stats!), optional(backend, scale), optional(backend, offset), y),
    );
  }),
  ownKernel<BatchNormalizeGradAttrs>(BATCH_NORMALIZE_GRAD, ({ inputs, backend, attrs }) => {
    const { dy, x, y, stats, scale } = inputs;
    const C = attrs.channels;
    const params = Int32Array.of(attrs.rows, C, attrs.relu ? 1 : 0, scale ? 1 : 0);
    const dscale = new Float32Array(C);
    const doffset = new Float32Array(C);
    const dx = output(backend, [...x!.shape], (out) =>
      loadAddon().batchNormalizeGrad(
        params,
        f32(backend, dy!),
        f32(backend, x!),
        optional(backend, y),
        f32(backend, stats!),
        optional(backend, scale),
        out,
        dscale,
        doffset,
      ),
    );
    return [dx, backend.makeTensorInfo([C], 'float32', dscale), backend.makeTensorInfo([C], 'float32', doffset)];
  }),
];
