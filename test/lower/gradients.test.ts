/**
 * Gradients through `Program.run`, every construct (cases.ts): `tf.grads` of the scalar loss
 * sum(last output²) w.r.t. every input and parameter, on cpu and wasm, against central finite
 * differences (h = 1e-4) of the reference evaluator in float64. At most 48 coordinates per
 * tensor (all of them for the small ones); tolerance 2e-3 relative to the largest derivative.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CASES } from './cases';
import { BACKENDS, gradientMismatches, makeLeaves, programOf, seededRandom, useBackend } from './harness';

/** Cases (by name, or `backend:name`) whose gradient is wrong today; each runs as it.fails. */
const KNOWN_GRADIENT_BUGS: Readonly<Record<string, string>> = {
  // BUG: tfjs' Maximum/Minimum gradients do not reduce over broadcast axes, so
  // `max(A[i,j], B[j])` throws "Error in gradient for op Maximum. The gradient of input 'b' has
  // shape '3,4', which does not match the shape of the input '1,4'". The lowering must broadcast
  // both operands to the full shape before tf.maximum / tf.minimum (or sum the gradient back).
  'binary max and min': 'tf.maximum/minimum gradient with broadcasting',
  // BUG: a max whose window reads the same element twice (clamp/reflect/wrap edges, x/2) gets
  // the gradient once per copy: tf.max's gradient goes to every tied entry, and the copies are
  // tied by construction. d/dX[0] of `Y[x:5] = max[Δx:3] X[clamp(x+Δx-1)]` is twice the
  // finite difference. See known-bugs.test.ts for the minimal program.
  'max pool with clamp (replicate) padding': 'max over duplicated reads doubles the gradient',
  // BUG: the same with copies made by an overlapping max pool: neighbouring 3×3/1 windows often
  // share their maximum, and the following 2×2/2 pool sees the copies tied (up to 3× the true
  // gradient here). See known-bugs.test.ts.
  'stacked max pools (3×3/1 then 2×2/2)': 'max over copies of one maximum multiplies its gradient',
  // BUG: on wasm, a window reduction over 3 axes of a 5-D tensor builds 8-D intermediates; the
  // wasm backend's broadcasting binary ops (XNNPACK, at most 6 dimensions) then fail with only a
  // log line ("XNN status for xnn_setup_*_nd_f32 is not successful. Got status 4") and leave
  // zeros or garbage, so the gradient is NaN or wrong (cpu is right). The lowering must keep
  // every intermediate at rank ≤ 6 on wasm (merge axes before binary ops / where).
  'wasm:3-D max pool 2×2×2/2': 'rank > 6 intermediates on wasm',
  'wasm:3-D max pool 3×3×3/1 with padding': 'rank > 6 intermediates on wasm',
  'wasm:3-D mean pool 3×3×3/2 with padding': 'rank > 6 intermediates on wasm',
  ...Object.fromEntries(
    [
      'conv1d',
      'conv1d stride 2',
      'conv1d dilation 2',
      'conv1d stride 2 + dilation 2',
      'conv2d + bias + relu (LeNet style)',
      'conv2d stride 2',
      'conv2d stride (2,1)',
      'conv2d dilation 2',
      'conv2d stride 2 + dilation 2 (tfjs conv2d refuses this)',
      'conv2d "same" padding via offsets and declared extents',
      'conv2d asymmetric padding',
      'conv2d stride 2 with "same" padding',
      'conv2d stride 2 + dilation 2 + padding',
      'conv3d',
      'depthwise conv2d',
      'depthwise conv2d with multiplier 2, stride 2, padding',
      'conv + pool + dense',
      'residual block with same padding',
      'intermediate loss',
    ].map((name) => [
      name,
      // BUG: every gradient through the conv route throws under vitest: "Cannot find module
      // '../index'" from dsl/lower/routes/conv-backward.ts:82, whose lazy
      // `require('../index')` works in CommonJS (tsx, dist/) but not in vitest's module runner.
      // A plain top-level `import * as lower from '../index'` used at call time (cycles are fine
      // then), or passing lowerProgram in, avoids it.
      'conv route gradient: require("../index") fails under vitest',
    ]),
  ),
};

for (const backend of BACKENDS) {
  describe(`gradients of sum(out²) vs reference finite differences, on ${backend}`, () => {
    beforeAll(() => useBackend(backend));

    CASES.forEach((c, n) => {
      const bug = KNOWN_GRADIENT_BUGS[`${backend}:${c.name}`] ?? KNOWN_GRADIENT_BUGS[c.name];
      (bug ? it.fails : it)(c.name, () => {
        const p = programOf(c);
        const rand = seededRandom(2000 + n);
        const leaves = makeLeaves(p, c, rand);
        expect(gradientMismatches(p, leaves, rand, { consts: c.consts })).toEqual([]);
      });
    });

    const intermediateBug = KNOWN_GRADIENT_BUGS['intermediate loss'];
    (intermediateBug ? it.fails : it)('the loss may use an intermediate, not only the last output', () => {
      const c = CASES.find((k) => k.name === 'conv + pool + dense')!;
      const p = programOf(c);
      const rand = seededRandom(77);
      const leaves = makeLeaves(p, c, rand);
      expect(gradientMismatches(p, leaves, rand, { output: 'L2' })).toEqual([]);
    });
  });
}
