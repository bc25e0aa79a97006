/**
 * einnet in a page: docs/examples/ten-lines.html loads dist/browser/einnet.mjs only and runs the
 * README's "Ten lines" program; then, in the same page and with the same tfjs instance, the
 * program's output and its gradient w.r.t. W1 on webgpu and on webgl are compared with the cpu
 * backend on identical seeded inputs. Tolerance: 1e-4 relative to the largest magnitude of each
 * tensor (float32 on all three; the GPU backends sum in another order).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SKIP_REASON, openSession, type BrowserSession } from './browser';

const RTOL = 1e-4;
/** The page-side half of these tests (plain JS, imports ../einnet.mjs). */
const PAGE = '/tests/ten-lines.mjs';

interface Compared {
  readonly backend: string;
  /** tfjs' backend right after the computation. */
  readonly ranOn: string;
  readonly adapter: unknown;
  readonly shapes: Record<string, number[]>;
  /** max |gpu − cpu| / max |cpu|, per tensor. */
  readonly errors: { L2: number; dW1: number };
}

describe.skipIf(SKIP_REASON !== undefined)(`einnet.mjs in Chromium${SKIP_REASON ? ` (skipped: ${SKIP_REASON})` : ''}`, () => {
  let session: BrowserSession;

  beforeAll(async () => {
    session = await openSession('/ten-lines.html?backend=cpu');
  }, 120_000);

  afterAll(async () => {
    await session?.close();
  });

  it('the docs example page runs the Ten lines program from einnet.mjs alone', async () => {
    await session.page.waitForFunction('window.einnetReport !== undefined', undefined, { timeout: 60_000 });
    const report = (await session.page.evaluate('window.einnetReport')) as Record<string, unknown>;
    expect(report.error).toBeUndefined();
    expect(report).toMatchObject({
      backend: 'cpu',
      shapes: { W1: [5, 5, 1, 6], L1: [8, 24, 24, 6], L2: [8, 12, 12, 6] },
      L2: [8, 12, 12, 6],
      dW1: [5, 5, 1, 6],
    });
    expect(session.errors).toEqual([]);
  });

  for (const backend of ['webgpu', 'webgl'] as const) {
    it(`on ${backend}: output and dL/dW1 match the cpu backend within ${RTOL} relative`, async () => {
      const result = await session.call<Compared>(PAGE, 'compareWithCpu', backend);
      expect(result.backend).toBe(backend);
      expect(result.ranOn).toBe(backend);
      expect(result.shapes.L2).toEqual([8, 12, 12, 6]);
      expect(result.errors.L2).toBeLessThan(RTOL);
      expect(result.errors.dW1).toBeLessThan(RTOL);
      console.log(
        `${backend}: adapter ${JSON.stringify(result.adapter)}, ` +
          `relative error L2 ${result.errors.L2.toExponential(2)}, dW1 ${result.errors.dW1.toExponential(2)}`,
      );
    }, 120_000);
  }

  it('a backend the page cannot start is EIN3002 with advice; an unknown name is EIN3001', async () => {
    const codes = await session.call<Record<string, string>>(PAGE, 'selectionErrors');
    expect(codes.native).toMatch(/^EIN3002: [\s\S]*runs in Node only/);
    expect(codes.tpu).toMatch(/^EIN3001: /);
  });

  it('MNIST-style IDX data loads in the page from bytes and from a gzip URL, with the EIN5xxx checks of Node', async () => {
    const r = await session.call<Record<string, unknown>>(PAGE, 'idxInThePage');
    expect(r).toEqual({
      count: 3,
      shape: [2, 2, 1],
      labels: [7, 0, 9],
      sameAfterUrl: true,
      truncated: 'EIN5003',
      swapped: 'EIN5002',
      countMismatch: 'EIN5005',
      badLabel: 'EIN5014',
    });
  });

  for (const backend of ['webgpu', 'webgl'] as const) {
    it(`the docs example page computes the program and its gradient on ${backend}`, async () => {
      const page = await session.browser.newPage();
      try {
        await page.goto(`${session.origin}/ten-lines.html?backend=${backend}`);
        await page.waitForFunction('window.einnetReport !== undefined', undefined, { timeout: 120_000 });
        const report = (await page.evaluate('window.einnetReport')) as Record<string, unknown>;
        expect(report.error).toBeUndefined();
        expect(report).toMatchObject({ backend, L2: [8, 12, 12, 6], dW1: [5, 5, 1, 6] });
        // relu then max pooling of 8·24·24·6 normal draws: the largest is positive; so is some gradient.
        expect(report.maxL2).toBeGreaterThan(0);
        expect(report.maxAbsDW1).toBeGreaterThan(0);
      } finally {
        await page.close();
      }
    }, 150_000);
  }

  it('a WebGL device with float16 textures only is EIN3103 when named, and skipped when choosing', async () => {
    const result = await session.call<{ named: string; chosen: string; after: string }>(PAGE, 'float16Only');
    expect(result.named).toBe('EIN3103');
    expect(['webgpu', 'wasm']).toContain(result.chosen);
    expect(result.after).toBe(result.chosen);
  });
});
