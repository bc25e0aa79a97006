/**
 * Gradients through `Program.run`, every construct (cases.ts): `tf.grads` of the scalar loss
 * sum(last output²) w.r.t. every input and parameter, on cpu and wasm, against central finite
 * differences (h = 1e-4) of the reference evaluator in float64. At most 48 coordinates per
 * tensor (all of them for the small ones); tolerance 2e-3 relative to the largest derivative.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CASES } from './cases';
import { BACKENDS, gradientMismatches, makeLeaves, programOf, seededRandom, useBackend } from './harness';

/**
 * Cases (by name, or `backend:name`) whose gradient is known to be wrong; each runs as it.fails.
 * Empty: every case runs as a plain test (regressions.test.ts holds the minimal reproductions).
 */
const KNOWN_GRADIENT_BUGS: Readonly<Record<string, string>> = {};

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

    it('the loss may use an intermediate, not only the last output', () => {
      const c = CASES.find((k) => k.name === 'conv + pool + dense')!;
      const p = programOf(c);
      const rand = seededRandom(77);
      const leaves = makeLeaves(p, c, rand);
      expect(gradientMismatches(p, leaves, rand, { output: 'L2' })).toEqual([]);
    });
  });
}
