/**
 * Differential test of the lowering, forward: every construct of docs/language.md (one small program
 * each, see cases.ts) run with `Program.run` on the cpu and wasm backends and compared, output by
 * output (intermediates included), with the reference evaluator in float64. Inputs are seeded
 * random float32 values; tolerance 1e-4 relative to the largest output element.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CASES } from './cases';
import { BACKENDS, forwardMismatches, makeLeaves, programOf, seededRandom, useBackend } from './harness';

/** Cases (by name, optionally `backend:name`) whose forward result is wrong today. */
const KNOWN_FORWARD_BUGS: Readonly<Record<string, string>> = {};

for (const backend of BACKENDS) {
  describe(`lowered vs reference, forward, on ${backend}`, () => {
    beforeAll(() => useBackend(backend));

    CASES.forEach((c, n) => {
      const bug = KNOWN_FORWARD_BUGS[`${backend}:${c.name}`] ?? KNOWN_FORWARD_BUGS[c.name];
      (bug ? it.fails : it)(c.name, () => {
        const p = programOf(c);
        const leaves = makeLeaves(p, c, seededRandom(1000 + n));
        expect(forwardMismatches(p, leaves, 1e-4, c.consts)).toEqual([]);
      });
    });

    it('a second run with other values reuses the plan and is still right', () => {
      const c = CASES.find((k) => k.name === 'conv + pool + dense')!;
      const p = programOf(c);
      for (const seed of [1, 2, 3]) {
        expect(forwardMismatches(p, makeLeaves(p, c, seededRandom(seed)), 1e-4)).toEqual([]);
      }
    });

    it('larger magnitudes: tolerance is relative (inputs scaled by 1000)', () => {
      const c = CASES.find((k) => k.name === 'conv2d "same" padding via offsets and declared extents')!;
      const p = programOf(c);
      const leaves = makeLeaves(p, c, seededRandom(5));
      for (const v of Object.values(leaves.values)) for (let k = 0; k < v.length; k++) v[k] = Math.fround(v[k] * 1000);
      expect(forwardMismatches(p, leaves, 1e-4)).toEqual([]);
    });
  });
}
