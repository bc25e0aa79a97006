/**
 * Matrix-multiplication kernels on oneDNN: BatchMatMul and _FusedMatMul (bias + activation as
 * oneDNN post-ops). Transposes are expressed as strides, so no operand is copied. The batch
 * dimensions are flattened; oneDNN broadcasts a batch of one, which covers the equal-batch and
 * one-side-unbatched cases (dense layers, attention); other broadcasts run on the CPU kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { activationCode } from './conv';
import { f32, nativeKernel, output, sizeOf, unsupportedInputs, type Plan } from './kernel';

/** The [batchA, batchB, M, K, N, transposeA, transposeB] parameters and the output shape, or why not. */
export function matmulPlan(
  aShape: readonly number[],
  bShape: readonly number[],
  transposeA: boolean,
  transposeB: boolean,
): { params: Int32Array; outShape: number[] } | string {
  if (aShape.length < 2 || bShape.length < 2) return 'operands of rank below 2';
  const ra = aShape.length;
  const rb = bShape.length;
  const m = transposeA ? aShape[ra - 1] : aShape[ra - 2];
  const k = transposeA ? aShape[ra - 2] : aShape[ra - 1];
  const kb = transposeB ? bShape[rb - 1] : bShape[rb - 2];
  const n = transposeB ? bShape[rb - 2] : bShape[rb - 1];
  if (k !== kb) return 'inner dimensions differ'; // the CPU kernel reports the user's error
  const outerA = aShape.slice(0, -2);
  const outerB = bShape.slice(0, -2);
  let outer: number[];
  try {
    outer = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB);
  } catch {
    return 'batch dimensions do not broadcast';
  }
  const batchA = sizeOf(outerA);
  const batchB = sizeOf(outerB);
  const batch = sizeOf(outer);
  if (!((batchA === batch && batchB === batch) || (batchA === 1 && batchB === batch) || (batchB === 1 && batchA === batch))) {
    return 'batch dimensions broadcast partially';
  }
  // Equal flattened batches only mean element-wise batches when the shapes agree axis by axis.
  if (batchA === batchB && batchA > 1 && outerA.length === outerB.length && outerA.some((d, i) => d !== outerB[i])) {
    return 'batch dimensions broadcast partially';
  }
  return {
    params: Int32Array.from([batchA, batchB, m, k, n, transposeA ? 1 : 0, transposeB ? 1 : 0]),
    outShape: [...outer, m, n],
  };
}

function matmul(fused: boolean): Parameters<typeof nativeKernel>[1] {
  return ({ inputs, backend, attrs }, addon): Plan => {
    const { a, b } = inputs as Record<string, tf.TensorInfo>;
    const bias = inputs.bias ?? undefined;
    const prelu = inputs.preluActivationWeights ?? undefined;
    const at = attrs ?? {};
    const bad = unsupportedInputs(a, b, bias);
    if (bad !== undefined) return bad;
    if (prelu !== undefined) return 'prelu activation';
    const act = fused ? activationCode(at.activation) : 0;
    if (act === undefined) return `activation '${String(at.activation)}'`;
    const plan = matmulPlan(a.shape, b.shape, Boolean(at.transposeA), Boolean(at.transposeB));
    if (typeof plan === 'string') return plan;
    const n = plan.outShape[plan.outShape.length - 1];
    if (bias !== undefined) {
      // oneDNN's bias here is one value per output column: shape [N] or [1, ..., 1, N].
      const s = bias.shape;
      if (sizeOf(s) !== n || s[s.length - 1] !== n || s.length > plan.outShape.length) return `bias of shape [${s}]`;
    }
    const alpha = at.activation === 'leakyrelu' ? Number(at.leakyreluAlpha ?? 0.2) : 0;
    return () =>
      output(backend, plan.outShape, (c) => addon.matmul(plan.params, f32(backend, a), f32(backend, b), bias ? f32(backend, bias) : null, c, act, alpha));
  };
}

/** The matrix-multiplication kernel configs the native backend overrides. */
export const MATMUL_KERNELS: tf.KernelConfig[] = [nativeKernel(tf.BatchMatMul, matmul(false)), nativeKernel(tf._FusedMatMul, matmul(true))];
