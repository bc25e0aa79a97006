/**
 * The lowering's differential suite in Chromium: every case of test/dsl/lower/cases.ts, forward
 * (rtol 1e-4 of the largest output element) and gradients (tf.grads of sum(last²) against central
 * differences of the reference, rtol 2e-3, at most 16 coordinates per tensor where Node checks 48:
 * the finite differences run in the page, on one core), on webgpu and webgl (SwiftShader), with the harness of
 * the Node suites bundled into the page (test/browser/pages/differential.ts). One `it` per case,
 * so a failure names the case, the backend and the elements outside tolerance.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CASES } from '../dsl/lower/cases';
import { SKIP_REASON, openSession, type BrowserSession } from './browser';

const PAGE = '/tests/differential.mjs';

interface CaseResult {
  readonly name: string;
  readonly backend: string;
  readonly problems: string[];
  readonly ms: number;
}

/** Cases (by `backend:kind:name`) wrong on a browser backend that einnet does not route around yet. */
const KNOWN_BROWSER_BUGS: Readonly<Record<string, string>> = {};

describe.skipIf(SKIP_REASON !== undefined)(`lowered vs reference in Chromium${SKIP_REASON ? ` (skipped: ${SKIP_REASON})` : ''}`, () => {
  let session: BrowserSession;
  const timings: string[] = [];

  beforeAll(async () => {
    session = await openSession();
  }, 120_000);

  afterAll(async () => {
    if (timings.length > 0) console.log(timings.join('\n'));
    await session?.close();
  });

  for (const backend of ['webgpu', 'webgl'] as const) {
    for (const kind of ['forward', 'gradient'] as const) {
      describe(`${kind} on ${backend}`, () => {
        let total = 0;
        afterAll(() => {
          timings.push(`${kind} on ${backend}: ${CASES.length} cases in ${(total / 1000).toFixed(1)} s (in the page)`);
        });
        CASES.forEach((c, n) => {
          const bug = KNOWN_BROWSER_BUGS[`${backend}:${kind}:${c.name}`];
          (bug ? it.fails : it)(c.name, async () => {
            const r = await session.call<CaseResult>(PAGE, 'runCase', backend, kind, n);
            total += r.ms;
            if (r.problems.length > 0) console.log(`${backend} ${kind} ${c.name}: ${r.problems.join('; ')}`);
            expect(r.backend).toBe(backend);
            expect(r.problems).toEqual([]);
          });
        });
      });
    }
  }

  it('explain() says where a GPU backend runs a step another way, and nothing on cpu', async () => {
    const name = 'min pool with padding';
    const webgl = await session.call<string>(PAGE, 'explainCase', 'webgl', name);
    const cpu = await session.call<string>(PAGE, 'explainCase', 'cpu', name);
    expect(webgl).toMatch(/\n {2}note: webgl: tf\.where on the flattened tensors \(its Select stops at rank 4\)/);
    expect(cpu).not.toContain('note:');
    expect(webgl.split('\n').filter((l) => !l.startsWith('  note: '))).toEqual(cpu.split('\n'));
  });

  it('200 training steps on webgpu leave tf.memory().numTensors flat', async () => {
    const r = await session.call<{ before: number; after: number; loss: number[]; ms: number }>(PAGE, 'leakCheck', 'webgpu', 200);
    console.log(`webgpu: 200 SGD steps in ${(r.ms / 1000).toFixed(1)} s, tensors ${r.before} → ${r.after}, loss ${r.loss.map((l) => l.toFixed(4)).join(' → ')}`);
    expect(r.after).toBe(r.before);
    expect(r.loss[r.loss.length - 1]).toBeLessThan(r.loss[0]);
  }, 180_000);
});
