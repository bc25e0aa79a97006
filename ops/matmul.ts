/**
 * 2-D matrix products on tfjs. tfjs-wasm runs `a·b` on XNNPACK's fully-connected kernel but
 * `aᵀ·b` on a scalar loop, 10–15× slower, and `a·bᵀ` slower than a transpose and `a·b` when b
 * is new (measured with a new 1024×1024 b per product, as in training); tfjs' own MatMul gradient
 * asks for both (xᵀ·dy and dy·wᵀ in every dense layer). Where the backend says so
 * (backends/capabilities.ts), `matMul` transposes operands explicitly, forward and in its
 * gradient; elsewhere it is tfjs' BatchMatMul kernel with tfjs' gradient.
 */
import * as tf from '@tensorflow/tfjs';
import { hasFastTransposedMatMul } from '../backends/capabilities';
import { runKernel, tapeIsOn } from '../backends/engine-internals';

// Bound once (backends/engine-internals.ts says why).
const { BatchMatMul, customGrad, tidy, transpose } = tf;

/** op(a)·op(b), op transposing the last two axes where asked; batched products (rank > 2) are tf.matMul's. */
export function matMul(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): tf.Tensor {
  if (a.rank !== 2 || b.rank !== 2) return tf.matMul(a, b, transposeA, transposeB);
  if (hasFastTransposedMatMul()) return batchMatMul(a, b, transposeA, transposeB);
  // With no tape recording there is no gradient to give: the product alone.
  if (!tapeIsOn()) return product(a as tf.Tensor2D, b as tf.Tensor2D, transposeA, transposeB);
  const f = customGrad(((x: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
    save([x, w]);
    return {
      value: product(x as tf.Tensor2D, w as tf.Tensor2D, transposeA, transposeB),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], [sa, sb]: tf.Tensor[]) => {
        const g = (Array.isArray(dy) ? dy[0] : dy) as tf.Tensor2D;
        const [x2, w2] = [sa as tf.Tensor2D, sb as tf.Tensor2D];
        // y = op(a)·op(b): d op(a) = dy·op(b)ᵀ, d op(b) = op(a)ᵀ·dy, each transposed back where op transposes.
        const da = transposeA ? product(w2, g, transposeB, true) : product(g, w2, false, !transposeB);
        const db = transposeB ? product(g, x2, true, transposeA) : product(x2, g, !transposeA, false);
        return [da, db];
      },
    };
  }) as unknown as Parameters<typeof customGrad>[0]);
  return (f as (x: tf.Tensor, w: tf.Tensor) => tf.Tensor2D)(a, b);
}

/**
 * tfjs' BatchMatMul kernel, run directly: what tf.matMul runs, without the op's conversions (the
 * operands here are float32 tensors already). On the tape with tfjs' gradient.
 */
function batchMatMul(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): tf.Tensor2D {
  return runKernel<tf.Tensor2D>(BatchMatMul, { a, b }, { transposeA, transposeB });
}

/** op(a)·op(b) with no transposed operand in the kernel; leaves nothing allocated but the result. */
function product(a: tf.Tensor2D, b: tf.Tensor2D, transposeA: boolean, transposeB: boolean): tf.Tensor2D {
  if (!transposeA && !transposeB) return batchMatMul(a, b, false, false);
  return tidy(() => batchMatMul(transposeA ? transpose(a) : a, transposeB ? transpose(b) : b, false, false));
}
