/**
 * Property: for random well-formed programs (random-programs.ts: ranks 1–4, offsets, strides,
 * dilations, sum/max/min/mean, groups through composites, concatenations, elementwise functions,
 * boundary modes, declared extents for padding, scatters) with matching random shapes,
 * - the checker infers the shapes the generator intended;
 * - `Program.run` agrees with the reference evaluator, every output (forward, 100 programs per
 *   backend);
 * - `tf.grads` of sum(last²) through `run` agrees with central differences of the reference in
 *   float64 at a few random coordinates per tensor (backward, 30 programs per backend).
 * The fast-check seed is fixed so CI is deterministic; set EINNET_FC_SEED to explore others.
 * A failure prints the shrunk program and its shapes.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ein } from '../../../dsl/program';
import { BACKENDS, forwardMismatches, gradientMismatches, seededRandom, useBackend } from './harness';
import { BACKWARD_OPTIONS, FC_SEED, buildProgram, leavesOf, randomProgramArb, type RandomProgram, type StepKind } from './random-programs';

const SEED = process.env.EINNET_FC_SEED ? Number(process.env.EINNET_FC_SEED) : FC_SEED;

/** Throws (with the program in the message) unless the checker infers the generator's shapes. */
function checkShapes(rp: RandomProgram): void {
  const shapes = ein(rp.src).check(rp.leafShapes).shapes;
  for (const [name, shape] of Object.entries(rp.outputShapes)) {
    expect(shapes[name], `${name} in\n${rp.src}`).toEqual(shape);
  }
}

function describeProgram(rp: RandomProgram): string {
  return `${rp.src}\nbound shapes: ${JSON.stringify(rp.leafShapes)}`;
}

for (const backend of BACKENDS) {
  describe(`random programs, lowered vs reference, on ${backend}`, () => {
    beforeAll(async () => {
      await useBackend(backend);
    });

    it('forward: every output agrees (100 programs)', () => {
      let n = 0;
      fc.assert(
        fc.property(randomProgramArb(), (rp) => {
          checkShapes(rp);
          const p = ein(rp.src);
          const problems = forwardMismatches(p, leavesOf(rp, n++), 1e-4);
          expect(problems, describeProgram(rp)).toEqual([]);
          p.dispose();
        }),
        { seed: SEED, numRuns: 100 },
      );
    });

    it('backward: gradients of sum(last²) agree with reference finite differences (30 programs)', () => {
      let n = 0;
      fc.assert(
        fc.property(randomProgramArb(), (rp) => {
          const p = ein(rp.src);
          const leaves = leavesOf(rp, 7919 * ++n);
          const problems = gradientMismatches(p, leaves, seededRandom(n), BACKWARD_OPTIONS);
          expect(problems, describeProgram(rp)).toEqual([]);
          p.dispose();
        }),
        { seed: SEED + 1, numRuns: 30 },
      );
    });
  });
}

describe('the generator', () => {
  it('covers every statement kind, aggregator, boundary mode, composite form and rank', () => {
    const seen = new Set<string>();
    const forms: Record<string, RegExp> = {
      sum: /= (\w+\()?sum\[/,
      Σ: /Σ\[/,
      max: /max\[/,
      min: /min\[/,
      mean: /mean\[/,
      stride: /\[[^\]]*2\*a\d/,
      dilation: /2\*Δ/,
      padding: /Δ\d+ - \d/,
      clamp: /clamp\(/,
      wrap: /wrap\(/,
      reflect: /reflect\(/,
      'grouped conv': /\(g,j\)/,
      'channel shuffle': /\(i,g\)/,
      split: /g, i/,
      merge: /\[[^\]]*\(a\d,a\d\)/,
      upsampling: /a\d\/[23]/,
      scatter: /\+Δ[,\]]/,
      concatenation: / ; /,
      'weighted window': /\]\s*[·*⋅ ]\s*W\d+\[Δ/,
      'elementwise max': /= max\(/,
      'explicit sum of a product': /sum\[a/,
    };
    for (const rp of fc.sample(randomProgramArb(), { seed: SEED, numRuns: 300 })) {
      for (const [name, re] of Object.entries(forms)) if (re.test(rp.src)) seen.add(name);
      seen.add(`rank ${rp.leafShapes.X0.length}`);
      if (Object.values(rp.outputShapes).some((s) => s.length === 0)) seen.add('rank-0 result');
    }
    for (const want of [...Object.keys(forms), 'rank 1', 'rank 2', 'rank 3', 'rank 4', 'rank-0 result']) {
      expect(seen, want).toContain(want);
    }
  });

  it('all-zero choices build the simplest program of each kind (what shrinking converges to)', () => {
    const zeros = new Array<number>(24).fill(0);
    const build = (kind: StepKind, rank = 2) => buildProgram({ rank, dims: [2, 3, 4, 5], steps: [{ kind, choices: zeros }] }).src;
    expect(build('window')).toBe('T1[a0, a1:1] = sum[Δ1:1] X0[a0, a1 + Δ1]');
    expect(build('conv')).toBe('T1[a0:1, j] = W1[Δ0:1,i,j]·X0[a0 + Δ0, i]');
    expect(build('contract')).toBe('T1[a0, a1] = X0[a0,a1]·M1[a0]');
    expect(build('elementwise')).toBe('T1[a0, a1] = X0[a0,a1] + V1[a0]');
    expect(build('concat')).toBe('T1[J1+J2, a1] = X0[J1,a1] ; V1[J2,a1]');
    expect(build('layout')).toBe('T1[a0:4, a1] = X0[a0/2,a1]');
  });
});
