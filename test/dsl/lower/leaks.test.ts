/**
 * tfjs tensors are manual memory: `Program.run` must leave exactly its outputs allocated, its
 * gradients nothing at all, and `dispose()` must release the plan's constants (selection
 * matrices, masks, scalars), which are created once, on the first run of a plan.
 *
 * For a conv + pool + dense network (specialised routes), the same network through the generic
 * route (a grouped conv, a padded max pool), a conv + batch norm + dense network and a conv +
 * pool + conv network of one kernel a step (which runs without a tf.tidy), on every backend:
 *   - tf.memory().numTensors is identical before and after 100 forward runs, 100 tf.grads runs
 *     and 100 tf.variableGrads runs (after one warm-up run of each);
 *   - p.dispose() brings it back to the level before the first run, and the program still runs;
 *   - a run whose n-th kernel throws leaves it unchanged too, for every n.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ein } from '../../../dsl/program';
import { BACKENDS, makeLeaves, seededRandom, toTensors, useBackend } from './harness';

const NETWORKS = [
  {
    name: 'conv + pool + dense',
    src: [
      'L1[b,x,y,j:4] = relu(W1[Δx:3,Δy:3,I,j]·L0[b,x+Δx,y+Δy,I] + B1[j])',
      'L2[b,x,y,j] = max[Δx:2,Δy:2] L1[b,2*x+Δx,2*y+Δy,j]',
      'L3[b,k:3] = W2[x,y,j,k]·L2[b,x,y,j] + B2[k]',
    ].join('\n'),
    shapes: { L0: [2, 8, 8, 2] },
  },
  {
    name: 'grouped conv + padded max pool + dense (generic route)',
    src: [
      'L1[b,x,y,(g,j)] = relu(W1[Δx:3,Δy:3,g,i,j:2]·L0[b,x+Δx,y+Δy,(g:2,i)] + B1[g,j])',
      'L2[b,x:3,y:3,c] = max[Δx:3,Δy:3] L1[b,2*x+Δx-1,2*y+Δy-1,c]',
      'L3[b,k:3] = W2[x,y,c,k]·L2[b,x,y,c] + B2[k]',
    ].join('\n'),
    shapes: { L0: [2, 7, 7, 4] },
  },
  {
    name: 'conv + batch norm + dense (batch-norm route)',
    src: [
      'L1[b,x,y,j:4] = W1[Δx:3,Δy:3,I,j]·L0[b,x+Δx,y+Δy,I]',
      'μ[j] = mean[b,x,y] L1[b,x,y,j]',
      'σ[j] = sqrt(mean[b,x,y] square(L1[b,x,y,j] - μ[j]) + 0.00001)',
      'L2[b,x,y,j] = relu((L1[b,x,y,j] - μ[j]) / σ[j] · G[j] + B[j])',
      'L3[b,k:3] = W2[x,y,j,k]·L2[b,x,y,j] + B2[k]',
    ].join('\n'),
    shapes: { L0: [2, 6, 6, 2] },
  },
  {
    // Every step is one kernel: the run has no tf.tidy around it and frees what it made itself.
    name: 'conv + pool + conv (one kernel a step)',
    src: [
      'L1[b,x,y,j:4] = relu(W1[Δx:3,Δy:3,I,j]·L0[b,x+Δx,y+Δy,I] + B1[j])',
      'L2[b,x,y,j] = max[Δx:2,Δy:2] L1[b,2*x+Δx,2*y+Δy,j]',
      'L3[b,x,y,k:3] = W2[Δx:2,Δy:2,j,k]·L2[b,x+Δx,y+Δy,j]',
    ].join('\n'),
    shapes: { L0: [2, 8, 8, 2] },
  },
] as const;

const RUNS = 100;

for (const backend of BACKENDS) {
  describe(`no tensor leaks on ${backend}`, () => {
    beforeAll(() => useBackend(backend));

    for (const net of NETWORKS) {
      const setup = () => {
        const p = ein(net.src);
        const leaves = makeLeaves(p, { shapes: net.shapes }, seededRandom(3));
        const bound = toTensors(leaves);
        const lossOf = (bindings: Record<string, tf.Tensor>) => tf.sum(tf.square(p.run(bindings).L3)) as tf.Scalar;
        const release = () => {
          p.dispose();
          for (const t of Object.values(bound)) t.dispose();
        };
        return { p, leaves, bound, lossOf, release };
      };

      it(`${net.name}: ${RUNS} forward runs leave exactly their outputs, dispose() releases the plan`, () => {
        const { p, bound, release } = setup();
        const beforeFirstRun = tf.memory().numTensors;
        const outputs = p.check(net.shapes).outputs;
        const runOnce = () => {
          const out = p.run(bound);
          expect(Object.keys(out).sort()).toEqual([...outputs].sort());
          const live = tf.memory().numTensors;
          for (const t of Object.values(out)) t.dispose();
          return live;
        };
        runOnce(); // creates the plan's constants
        const level = tf.memory().numTensors;
        expect(level).toBeGreaterThanOrEqual(beforeFirstRun);
        for (let k = 0; k < RUNS; k++) {
          // While the outputs are alive, exactly one more tensor per output exists.
          expect(runOnce()).toBe(level + outputs.length);
        }
        expect(tf.memory().numTensors).toBe(level);
        p.dispose();
        expect(tf.memory().numTensors).toBe(beforeFirstRun);
        // Still usable after dispose(): the plan is rebuilt, and released again.
        runOnce();
        p.dispose();
        expect(tf.memory().numTensors).toBe(beforeFirstRun);
        release();
      });

      it(`${net.name}: ${RUNS} tf.grads runs leave nothing behind`, () => {
        const { p, leaves, bound, lossOf, release } = setup();
        const beforeFirstRun = tf.memory().numTensors;
        const xs = leaves.names.map((n) => bound[n]);
        const gradOnce = () => {
          const grads = tf.grads((...args: tf.Tensor[]) => {
            const b: Record<string, tf.Tensor> = {};
            leaves.names.forEach((n, k) => (b[n] = args[k]));
            return lossOf(b);
          })(xs);
          expect(grads.map((g) => g.shape)).toEqual(xs.map((x) => x.shape));
          for (const g of grads) g.dispose();
        };
        gradOnce();
        const level = tf.memory().numTensors;
        for (let k = 0; k < RUNS; k++) gradOnce();
        expect(tf.memory().numTensors).toBe(level);
        p.dispose();
        expect(tf.memory().numTensors).toBe(beforeFirstRun);
        release();
      });

      it(`${net.name}: ${RUNS} tf.variableGrads runs leave nothing behind`, () => {
        const { p, leaves, bound, lossOf, release } = setup();
        const input = leaves.names[0];
        const vars: Record<string, tf.Variable> = {};
        for (const n of leaves.names.slice(1)) vars[n] = tf.variable(bound[n], true, `${net.name}:${backend}:${n}`);
        const beforeFirstRun = tf.memory().numTensors;
        const stepOnce = () => {
          const { value, grads } = tf.variableGrads(() => lossOf({ [input]: bound[input], ...vars }));
          expect(Object.keys(grads).length).toBe(leaves.names.length - 1);
          value.dispose();
          for (const g of Object.values(grads)) g.dispose();
        };
        stepOnce();
        const level = tf.memory().numTensors;
        for (let k = 0; k < RUNS; k++) stepOnce();
        expect(tf.memory().numTensors).toBe(level);
        p.dispose();
        expect(tf.memory().numTensors).toBe(beforeFirstRun);
        for (const v of Object.values(vars)) v.dispose();
        release();
      });
    }

    for (const net of NETWORKS) {
      it(`${net.name}: a run whose n-th kernel fails frees what the run made before it, for every n`, () => {
        const p = ein(net.src);
        const bound = toTensors(makeLeaves(p, { shapes: net.shapes }, seededRandom(3)));
        const engine = tf.engine();
        const runKernel = engine.runKernel.bind(engine);
        /** Runs the program and disposes its outputs, counting kernel calls; call `failAt` (if any) throws. */
        const runCounting = (outputs: string[] | undefined, failAt = 0) => {
          let calls = 0;
          const spy = vi.spyOn(engine, 'runKernel').mockImplementation((...args: Parameters<typeof engine.runKernel>) => {
            if (++calls === failAt) throw new Error(`kernel ${failAt} fails`);
            return runKernel(...args);
          });
          try {
            tf.dispose(Object.values(p.run(bound, outputs === undefined ? undefined : { outputs })));
          } finally {
            spy.mockRestore();
          }
          return calls;
        };
        for (const outputs of [undefined, ['L3']]) {
          const kernels = runCounting(outputs); // also makes the plan's constants
          expect(kernels).toBeGreaterThan(1);
          const before = tf.memory().numTensors;
          for (let failAt = 1; failAt <= kernels; failAt++) {
            expect(() => runCounting(outputs, failAt)).toThrow(`kernel ${failAt} fails`);
            expect(tf.memory().numTensors).toBe(before);
          }
        }
        p.dispose();
        tf.dispose(Object.values(bound));
      });
    }

    it('a run that fails on a bad binding allocates nothing', () => {
      const p = ein(NETWORKS[0].src);
      const before = tf.memory().numTensors;
      const bad = tf.zeros([2, 8, 8, 3]);
      expect(() => p.run({ L0: bad })).toThrow();
      bad.dispose();
      expect(tf.memory().numTensors).toBe(before);
      p.dispose();
    });
  });
}

describe('run with `outputs`: only the named tensors come back, and the others go early', () => {
  // Twelve layers of 64×64 values; each reads only the one before it.
  const chain = ['H1[i,j] = relu(X[i,j] + 1)', ...Array.from({ length: 11 }, (_, k) => `H${k + 2}[i,j] = relu(H${k + 1}[i,j] · 0.5 - 0.25)`)].join('\n');
  const p = ein(chain);
  const layerBytes = 64 * 64 * 4;

  for (const backend of BACKENDS) {
    it(`${backend}: the same values as a full run, a peak of a few layers (tf.profile) instead of all twelve, nothing left behind`, async () => {
      await useBackend(backend);
      const X = tf.randomNormal([64, 64], 0, 1, 'float32', 5);
      const full = p.run({ X });
      const want = full.H12.dataSync().slice();
      tf.dispose(Object.values(full));
      const before = tf.memory().numTensors; // the plan's constants are made by the first run
      // tf.profile returns the same object each time: its numbers are read before the next.
      const allPeak = (await tf.profile(() => tf.dispose(Object.values(p.run({ X }))))).peakBytes;
      let got: Float32Array | undefined;
      const onlyPeak = (
        await tf.profile(() => {
          const out = p.run({ X }, { outputs: ['H12'] });
          expect(Object.keys(out)).toEqual(['H12']);
          got = out.H12.dataSync() as Float32Array;
          out.H12.dispose();
        })
      ).peakBytes;
      expect(got).toEqual(want);
      // X and the twelve layers at the end of a full run; with `outputs`, X, the layer read and
      // the few intermediates of one statement.
      expect(allPeak).toBeGreaterThanOrEqual(13 * layerBytes);
      expect(onlyPeak).toBeLessThan(6 * layerBytes);
      expect(tf.memory().numTensors).toBe(before);
      X.dispose();
    });

    it(`${backend}: under a gradient tape the intermediates are kept for it, and the gradient is the full run's`, async () => {
      await useBackend(backend);
      const X = tf.randomNormal([64, 64], 0, 1, 'float32', 5);
      const gradient = (outputs?: string[]) =>
        tf.tidy(() =>
          tf
            .grad((x: tf.Tensor) => tf.sum(p.run({ X: x }, { outputs }).H12))(X)
            .dataSync()
            .slice(),
        );
      const want = gradient();
      const before = tf.memory().numTensors;
      expect(gradient(['H12'])).toEqual(want);
      expect(tf.memory().numTensors).toBe(before);
      X.dispose();
    });
  }
});
