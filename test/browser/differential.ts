/**
 * The lowering's differential suite in Chromium for one backend (differential-webgpu.test.ts,
 * differential-webgl.test.ts: two files so that vitest runs the backends side by side): every
 * case of test/dsl/lower/cases.ts, forward (rtol 1e-4 of the largest output element) and
 * gradients (tf.grads of sum(last²) against central differences of the reference, rtol 2e-3, at
 * most 16 coordinates per tensor where Node checks 48: the finite differences run in the page, on
 * one core), with the harness of the Node suites bundled into the page
 * (test/browser/pages/differential.ts). One `it` per case, so a failure names the case, the
 * backend and the elements outside tolerance.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CASES } from '../dsl/lower/cases';
import { SKIP_REASON, openSession, type BrowserSession } from './browser';

export const PAGE = '/tests/differential.mjs';

interface CaseResult {
  readonly name: string;
  readonly backend: string;
  readonly problems: string[];
  readonly ms: number;
}

/** Cases (by `backend:kind:name`) wrong on a browser backend that einnet does not route around yet. */
const KNOWN_BROWSER_BUGS: Readonly<Record<string, string>> = {};

/** Every case forward and gradients on `backend`; `more` adds tests that share the page. */
export function differentialSuite(backend: 'webgpu' | 'webgl', more: (session: () => BrowserSession) => void): void {
  describe.skipIf(SKIP_REASON !== undefined)(`lowered vs reference in Chromium on ${backend}${SKIP_REASON ? ` (skipped: ${SKIP_REASON})` : ''}`, () => {
    let session: BrowserSession;
    const timings: string[] = [];

    beforeAll(async () => {
      session = await openSession();
    }, 120_000);

    afterAll(async () => {
      if (timings.length > 0) console.log(timings.join('\n'));
      await session?.close();
    });

    for (const kind of ['forward', 'gradient'] as const) {
      describe(kind, () => {
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

    more(() => session);
  });
}
