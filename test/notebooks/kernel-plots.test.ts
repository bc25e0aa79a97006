/**
 * The kernel's end-of-cell update of plots: exactly the session's first plot carries plotly.js,
 * the cartesian bundle when its traces allow, and a later plot that needs the full bundle
 * carries that once. PNG export is off here (EINNET_CHROMIUM=none); png-export.test.ts covers it.
 */
import { gunzipSync } from 'zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finishPlots, type PlotOutputs } from '../../scripts/notebooks/kernel-plots';
import { PLOTLY_LIBRARY_BEGIN, figureBundle, heatmap, type Figure } from '../../viz';

let saved: string | undefined;
beforeAll(() => {
  saved = process.env.EINNET_CHROMIUM;
  process.env.EINNET_CHROMIUM = 'none';
});
afterAll(() => {
  if (saved === undefined) delete process.env.EINNET_CHROMIUM;
  else process.env.EINNET_CHROMIUM = saved;
});

/** The headers of the libraries a plot's HTML carries, in order. */
function libraries(html: string): string[] {
  return html
    .split(PLOTLY_LIBRARY_BEGIN)
    .slice(1)
    .map(
      (block) =>
        gunzipSync(Buffer.from(/atob\('([A-Za-z0-9+/=]+)'\)/.exec(block)![1], 'base64'))
          .toString('utf8', 0, 60)
          .split('\n')[1],
    );
}

async function finish(figures: Figure[]): Promise<string[]> {
  const plots: PlotOutputs = new Map(figures.map((f, i) => [`plot${i}`, figureBundle(f, { includeLibrary: i === 0 })]));
  const html: string[] = [];
  await finishPlots(plots, (_, data) => html.push(String(data['text/html'])));
  return html;
}

describe('finishPlots', () => {
  it('puts the cartesian bundle on the first plot, the full bundle on the first that needs it, and nothing on later plots', async () => {
    const surface: Figure = { data: [{ type: 'surface', z: [[1, 2]] }], layout: {} };
    const first = await finish([heatmap([[1]]), heatmap([[2]])]);
    expect(first.map(libraries)).toEqual([['* plotly.js (cartesian - minified) v4.1.1'], []]);
    const second = await finish([heatmap([[3]]), surface, surface]);
    expect(second.map(libraries)).toEqual([[], ['* plotly.js v4.1.1'], []]);
  });
});
