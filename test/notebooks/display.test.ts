/**
 * Display helpers: each emits ONE output whose MIME bundle carries the right formats, plotly.js
 * is inlined only into the session's first figure (the cartesian bundle unless a figure needs the
 * full one), text is escaped, and display ids let an
 * output be replaced in place. Expected strings are written out by hand.
 */
import { gunzipSync } from 'zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EinError } from '../../core/diagnostics';
import {
  DisplayHandle,
  PLOTLY_LIBRARY_BEGIN,
  PLOTLY_LIBRARY_END,
  PLOTLY_MIME,
  figureBundle,
  mathBundle,
  resetPlotlyInlining,
  setDisplaySink,
  show,
  showMath,
  showTable,
  tableBundle,
  type DisplayMessage,
  type Figure,
} from '../../viz';

/** The library source a figure's HTML carries (its first packed text). */
function libraryText(html: string): string {
  const packed = /atob\('([A-Za-z0-9+/=]+)'\)/.exec(html)![1];
  return gunzipSync(Buffer.from(packed, 'base64')).toString('utf8');
}

const tiny: Figure = {
  data: [
    {
      type: 'heatmap',
      z: [
        [1, 2],
        [3, 4],
      ],
    },
  ],
  layout: { title: { text: 'tiny' } },
};

let seen: DisplayMessage[] = [];
beforeEach(() => {
  seen = [];
  setDisplaySink((m) => seen.push(m));
  resetPlotlyInlining();
});
afterEach(() => setDisplaySink(undefined));

describe('show(figure)', () => {
  it('emits one output with plotly JSON, HTML and plain text', () => {
    show(tiny);
    expect(seen).toHaveLength(1);
    expect(Object.keys(seen[0].data).sort()).toEqual([PLOTLY_MIME, 'text/html', 'text/plain'].sort());
    expect(PLOTLY_MIME).toBe('application/vnd.plotly.v1+json');
    expect(seen[0].data[PLOTLY_MIME]).toEqual({
      data: [
        {
          type: 'heatmap',
          z: [
            [1, 2],
            [3, 4],
          ],
        },
      ],
      layout: { title: { text: 'tiny' } },
      config: {},
    });
    expect(seen[0].data['text/plain']).toBe("<Figure 'tiny': 1 trace (heatmap)>");
    expect(seen[0].update).toBe(false);
  });

  it('inlines plotly.js (gzipped, base64) into the first figure of the session only: the cartesian bundle for a heatmap', () => {
    show(tiny);
    show(tiny);
    const [first, second] = seen.map((m) => String(m.data['text/html']));
    expect(first).toContain(PLOTLY_LIBRARY_BEGIN);
    expect(first).toContain(PLOTLY_LIBRARY_END);
    expect(libraryText(first)).toContain('plotly.js (cartesian - minified) v4.1.1');
    // The cartesian bundle is 1.5 MB, 0.67 MB gzipped and base64-encoded.
    expect(first.length).toBeGreaterThan(600_000);
    expect(first.length).toBeLessThan(750_000);
    expect(second).not.toContain(PLOTLY_LIBRARY_BEGIN);
    expect(second.length).toBeLessThan(5_000);
    expect(second).toContain('window.Plotly.newPlot');
  });

  it('sends the full bundle once, with the first figure that needs it, which waits until the page has it', () => {
    const surface: Figure = { data: [{ type: 'surface', z: [[1, 2]] }], layout: {} };
    show(tiny);
    show(surface);
    show(surface);
    show(tiny);
    const html = seen.map((m) => String(m.data['text/html']));
    expect(html.map((h) => h.split(PLOTLY_LIBRARY_BEGIN).length - 1)).toEqual([1, 1, 0, 0]);
    expect(libraryText(html[0])).toContain('plotly.js (cartesian - minified) v4.1.1');
    expect(libraryText(html[1])).toContain('* plotly.js v4.1.1');
    expect(html[1].length).toBeGreaterThan(1_900_000);
    // A figure needing the full bundle draws once the full bundle has replaced the cartesian one.
    expect(html[2]).toContain("window.Plotly && window.einnetPlotlyBundle !== 'cartesian'");
    expect(html[3]).not.toContain('einnetPlotlyBundle');
    // The cartesian block leaves a full bundle that loaded first in place.
    expect(html[0]).toContain("if (window.Plotly && window.einnetPlotlyBundle === 'full') return;");
  });

  it('cannot be broken out of its script tag by figure text', () => {
    const html = String(figureBundle({ data: [], layout: { title: { text: '</script><b>x</b>' } } }, { includeLibrary: false })['text/html']);
    expect(html).not.toContain('</script><b>');
    expect(html).toContain('\\u003c/script>\\u003cb>x\\u003c/b>');
    // Exactly one closing tag: the figure's own script.
    expect(html.match(/<\/script>/g)).toHaveLength(1);
  });

  it('turns NaN into null, as plotly expects', () => {
    const bundle = figureBundle({ data: [{ type: 'scatter', y: [1, NaN, 3] }], layout: {} }, { includeLibrary: false });
    expect((bundle[PLOTLY_MIME] as Figure).data[0].y).toEqual([1, null, 3]);
  });

  it('rejects something that is not a figure', () => {
    expect(() => show({ x: 1 } as unknown as Figure)).toThrow(EinError);
    try {
      show([1, 2] as unknown as Figure);
    } catch (e) {
      expect((e as EinError).code).toBe('EIN6003');
      expect((e as EinError).message).toContain('an array of length 2');
    }
  });
});

describe('DisplayHandle', () => {
  it('first call displays, later calls update the same display id without the library', () => {
    const h = new DisplayHandle('abc');
    h.figure(tiny);
    h.figure({ ...tiny, layout: { title: { text: 'second' } } });
    expect(seen.map((m) => [m.displayId, m.update])).toEqual([
      ['abc', false],
      ['abc', true],
    ]);
    expect(String(seen[1].data['text/html'])).not.toContain(PLOTLY_LIBRARY_BEGIN);
    expect(seen[1].data['text/plain']).toBe("<Figure 'second': 1 trace (heatmap)>");
  });
});

describe('showMath', () => {
  it('renders LaTeX as display math in markdown and latex, the source as text', () => {
    showMath('a^2 + b^2 = c^2');
    expect(seen[0].data).toEqual({ 'text/markdown': '$$\na^2 + b^2 = c^2\n$$', 'text/latex': '$$\na^2 + b^2 = c^2\n$$', 'text/plain': 'a^2 + b^2 = c^2' });
  });

  it('uses toLatex() of a program-like object', () => {
    expect(mathBundle({ toLatex: () => 'Y_{i} = X_{i}' })['text/plain']).toBe('Y_{i} = X_{i}');
  });

  it('rejects an object without toLatex', () => {
    expect(() => showMath({ latex: 'x' } as never)).toThrow(/EIN6003: showMath got an object with keys \{latex\}/);
  });
});

describe('showTable', () => {
  it('aligns plain text (numbers right, text left) and builds an escaped HTML table', () => {
    const rows = [
      { layer: 'conv1', params: 456, ratio: 0.123456 },
      { layer: '<pool>', params: 0 },
    ];
    const bundle = tableBundle(rows);
    expect(bundle['text/plain']).toBe(['layer   params   ratio', '------  ------  ------', 'conv1      456  0.1235', '<pool>       0'].join('\n'));
    const html = String(bundle['text/html']);
    expect(html).toContain('<th>layer</th><th>params</th><th>ratio</th>');
    expect(html).toContain('<td>&lt;pool&gt;</td><td style="text-align:right">0</td><td></td>');
    showTable(rows, { caption: 'LeNet' });
    expect(Object.keys(seen[0].data)).toEqual(['text/html', 'text/plain']);
    expect(String(seen[0].data['text/plain']).split('\n')[0]).toBe('LeNet');
  });

  it('takes rows as arrays with named columns', () => {
    expect(
      tableBundle(
        [
          [1, 'a'],
          [22, 'b'],
        ],
        { columns: ['n', 's'] },
      )['text/plain'],
    ).toBe([' n  s', '--  -', ' 1  a', '22  b'].join('\n'));
  });

  it('rejects a non-array', () => {
    expect(() => showTable({ a: 1 } as never)).toThrow(/EIN6003/);
  });
});
