/**
 * Figures shown in notebooks carry no more image data than they display, stored compactly:
 * heatmap and image traces are resampled to their panel's pixels (same axis range, nearest
 * values), heatmap values keep 4 significant digits, large arrays travel as plotly typed arrays
 * (decoded here independently, from the bytes), and the heatmaps of a large figure as 256 colour
 * levels. Expected values are worked out by hand.
 */
import { describe, expect, it } from 'vitest';
import { BINARY_FROM, QUANTIZE_OVER, compactFigure, niceTicks } from '../../viz/compact-figure';
import { notebookText, type Notebook } from '../../scripts/notebooks/ipynb';
import { PLOTLY_MIME, activationGrid, figureBundle, heatmap, type Figure, type Trace } from '../../viz';

function shownTrace(figure: Figure, k = 0): Trace {
  return (figureBundle(figure, { includeLibrary: false })[PLOTLY_MIME] as Figure).data[k];
}

const ARRAYS = { u1: Uint8Array, i1: Int8Array, u2: Uint16Array, i2: Int16Array, i4: Int32Array, f4: Float32Array, f8: Float64Array } as const;

/** A plotly typed array `{ dtype, bdata, shape }` back to nested arrays (little-endian, row-major). */
function decode(spec: unknown): { dtype: string; values: unknown[] } {
  const { dtype, bdata, shape } = spec as { dtype: keyof typeof ARRAYS; bdata: string; shape: string };
  const bytes = Buffer.from(bdata, 'base64');
  const Kind = ARRAYS[dtype];
  const flat = Array.from(new Kind(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)));
  const dims = shape.split(',').map(Number);
  expect(flat.length).toBe(dims.reduce((a, b) => a * b, 1));
  const nest = (offset: number, d: number): unknown[] => {
    if (d === dims.length - 1) return flat.slice(offset, offset + dims[d]);
    const stride = dims.slice(d + 1).reduce((a, b) => a * b, 1);
    return Array.from({ length: dims[d] }, (_, i) => nest(offset + i * stride, d + 1));
  };
  return { dtype, values: nest(0, 0) };
}

describe('compactFigure', () => {
  it('resamples a 1000×1000 heatmap shown at 300 px to the 360×360 square its plot area fits, over the same axis range', () => {
    const z = Array.from({ length: 1000 }, (_, r) => Array.from({ length: 1000 }, (_, c) => r * 1000 + c));
    const trace = shownTrace(heatmap(z, { panelSize: 300 }));
    const { dtype, values } = decode(trace.z);
    expect(dtype).toBe('i4'); // whole numbers up to 999,999
    const rows = values as number[][];
    // heatmap() makes a plot area of 390×360 px (layout 460×420, margins 50+20, 20+40); cells are square.
    expect(rows.length).toBe(360);
    expect(rows[0].length).toBe(360);
    const dx = trace.dx as number;
    expect(dx).toBeCloseTo(1000 / 360, 12);
    expect((trace.x0 as number) - dx / 2).toBeCloseTo(-0.5, 9);
    expect((trace.x0 as number) + (360 - 0.5) * dx).toBeCloseTo(999.5, 9);
    expect((trace.y0 as number) + (360 - 0.5) * (trace.dy as number)).toBeCloseTo(999.5, 9);
    // Nearest neighbour: every kept value is a source value from the cell's centre.
    expect(rows[0][0]).toBe(1 * 1000 + 1);
    expect(rows[359][359]).toBe(998 * 1000 + 998);
  });

  it('keeps integer label maps exact and rounds other values to 4 significant digits', () => {
    const trace = shownTrace(heatmap([[0.123456789, 2, NaN, -98765.4321, 1e-9 / 3]]));
    expect(trace.z).toEqual([[0.1235, 2, null, -98770, 3.333e-10]]);
    expect(trace.dx).toBeUndefined();
  });

  it('leaves small heatmaps, other traces and traces with explicit coordinates alone', () => {
    const figure: Figure = {
      data: [
        { type: 'scatter', y: [0.123456789] },
        { type: 'heatmap', z: Array.from({ length: 2000 }, () => [1, 2]), y: Array.from({ length: 2000 }, (_, i) => i) },
      ],
      layout: { width: 200, height: 200 },
    };
    const compact = compactFigure(figure);
    expect(compact.data[0]).toBe(figure.data[0]);
    expect(decode(compact.data[1].z)).toEqual({ dtype: 'u1', values: Array.from({ length: 2000 }, () => [1, 2]) });
    expect(compact.data[1].y).toEqual(figure.data[1].y);
    expect(shownTrace(heatmap([[1, 2]])).z).toEqual([[1, 2]]);
  });

  it('resamples every panel of an activation grid to its own domain', () => {
    const [h, w, channels] = [144, 216, 11];
    const values = new Float32Array(h * w * channels).map((_, i) => Math.sin(i) / 7);
    const grid = activationGrid({ shape: [1, h, w, channels], dataSync: () => values, rank: 4 } as never, { columns: 4, panelSize: 150 });
    const before = JSON.stringify(grid).length;
    const shown = figureBundle(grid, { includeLibrary: false })[PLOTLY_MIME] as Figure;
    const traces = shown.data.filter((t) => t.type === 'heatmap');
    expect(traces).toHaveLength(channels);
    for (const t of traces) expect((decode(t.z).values as number[][])[0].length).toBeLessThanOrEqual(w);
    expect(JSON.stringify(shown).length).toBeLessThan(before / 3);
  });

  it('resamples image traces pixel by pixel (RGB triples stay whole)', () => {
    const z = Array.from({ length: 400 }, (_, r) => Array.from({ length: 400 }, (_, c) => [r % 256, c % 256, 7]));
    const trace = shownTrace({ data: [{ type: 'image', z }], layout: { width: 120, height: 120, margin: { l: 10, r: 10, t: 10, b: 10 } } });
    const { dtype, values } = decode(trace.z);
    expect(dtype).toBe('u1');
    const rows = values as number[][][];
    expect(rows.length).toBe(100);
    expect(rows[0].length).toBe(100);
    expect(rows[50][50]).toEqual([202, 202, 7]);
  });
});

describe('binary arrays', () => {
  const ramp = (rows: number, columns: number, f: (r: number, c: number) => number) =>
    Array.from({ length: rows }, (_, r) => Array.from({ length: columns }, (_, c) => f(r, c)));

  it(`keeps arrays under ${BINARY_FROM} values as JSON numbers and stores larger ones in the smallest exact type`, () => {
    const small = ramp(31, 33, (r, c) => r * 0.5 + c); // 1023 values
    expect(shownTrace(heatmap(small)).z).toEqual(small);
    expect(decode(shownTrace(heatmap(ramp(32, 32, (r, c) => r * 32 + c - 100))).z).dtype).toBe('i2');
    expect(decode(shownTrace(heatmap(ramp(32, 32, (_, c) => c - 10))).z).dtype).toBe('i1');
    expect(decode(shownTrace(heatmap(ramp(32, 32, (r, c) => r * 2000 + c))).z).dtype).toBe('u2');
    expect(decode(shownTrace(heatmap(ramp(32, 32, (r, c) => r * 1e9 + c))).z)).toEqual({ dtype: 'f8', values: ramp(32, 32, (r, c) => r * 1e9 + c) });
  });

  it('stores other values as float32 of their 4-significant-digit rounding, and a gap (NaN) as NaN', () => {
    const z = ramp(40, 40, (r, c) => (r === 3 && c === 4 ? NaN : Math.sin(r * 40 + c) * 123.456789));
    const { dtype, values } = decode(shownTrace(heatmap(z)).z);
    expect(dtype).toBe('f4');
    const rows = values as number[][];
    expect(rows[3][4]).toBeNaN();
    expect(rows[0][1]).toBe(Math.fround(103.9)); // sin(1)·123.456789 = 103.885…
    expect(rows[39][39]).toBe(Math.fround(Number((Math.sin(1599) * 123.456789).toPrecision(4))));
  });

  it('leaves image pixels that are not whole numbers 0…255 (an rgba alpha) as JSON', () => {
    const z = ramp(40, 40, () => 0).map((row) => row.map(() => [10, 20, 30, 0.5]));
    expect(shownTrace({ data: [{ type: 'image', z, colormodel: 'rgba' }], layout: { width: 100, height: 100, margin: { l: 0, r: 0, t: 0, b: 0 } } }).z).toEqual(
      z,
    );
  });
});

describe('the heatmaps of a large figure as colour levels', () => {
  // 200×200 = 40,000 non-integer values: more than QUANTIZE_OVER.
  const big = Array.from({ length: 200 }, (_, r) => Array.from({ length: 200 }, (_, c) => Math.sin(r / 7) * Math.cos(c / 11) * 1.3 + 0.1));
  // The levels span the range of the values as shown: rounded to 4 significant digits.
  const flat = big.flat().map((v) => Number(v.toPrecision(4)));
  const [lo, hi] = [Math.min(...flat), Math.max(...flat)];

  it(`stores each value as the nearest of 256 levels over the colour range (figures over ${QUANTIZE_OVER} values)`, () => {
    expect(flat.length).toBeGreaterThan(QUANTIZE_OVER);
    const trace = shownTrace(heatmap(big, { colorscale: 'RdBu', panelSize: 300 }));
    expect(trace.zmin).toBe(0);
    expect(trace.zmax).toBe(255);
    expect(trace.zauto).toBe(false);
    const { dtype, values } = decode(trace.z);
    expect(dtype).toBe('u1');
    const levels = values as number[][];
    // Level k stands for lo + k·(hi − lo)/255: each cell's colour is within half a level of its value's.
    for (const [r, c] of [
      [0, 0],
      [17, 123],
      [199, 199],
    ]) {
      const position = ((Number(big[r][c].toPrecision(4)) - lo) / (hi - lo)) * 255;
      expect(Math.abs(levels[r][c] - position)).toBeLessThanOrEqual(0.5 + 1e-6);
    }
    // Hovering shows the position only: the stored levels are not the values.
    expect(trace.hoverinfo).toBe('x+y+text');
    const channels = Float32Array.from({ length: 4 * flat.length }, (_, i) => flat[i >> 2]);
    const grid = shownTrace(activationGrid({ shape: [1, 200, 200, 4], dataSync: () => channels, rank: 4 } as never, { panelSize: 200 }));
    expect(decode(grid.z).dtype).toBe('u1');
    expect(grid.hoverinfo).toBe('x+y+text+name'); // its panels are named c0, c1, …
    // The colour bar is labelled in the original values, at the levels where they fall.
    const bar = trace.colorbar as { tickmode: string; tickvals: number[]; ticktext: string[] };
    expect(bar.tickmode).toBe('array');
    expect(bar.ticktext).toEqual(['−1', '−0.5', '0', '0.5', '1']);
    bar.tickvals.forEach((v, i) => expect(v).toBeCloseTo(((Number(bar.ticktext[i].replace('−', '-')) - lo) / (hi - lo)) * 255, 9));
  });

  it('maps the given zmin…zmax (clamping values outside onto its ends) and leaves figures of fewer values as float32', () => {
    const trace = shownTrace(heatmap(big, { zmin: -1, zmax: 1 }));
    const levels = decode(trace.z).values as number[][];
    expect(levels[0][0]).toBe(Math.round(((0.1 + 1) / 2) * 255)); // sin 0 · cos 0 · 1.3 + 0.1 = 0.1
    expect(Math.max(...levels.flat())).toBe(255); // values up to 1.4 are clamped to zmax
    expect(trace.colorbar).toMatchObject({ ticktext: ['−1', '−0.5', '0', '0.5', '1'], tickvals: [0, 63.75, 127.5, 191.25, 255] });
    expect(decode(shownTrace(heatmap(big.slice(0, 100))).z).dtype).toBe('f4'); // 20,000 values
  });

  it('keeps float32 where the colours or labels depend on the values otherwise', () => {
    for (const extra of [{ coloraxis: 'coloraxis' }, { hovertemplate: '%{z}' }, { colorbar: { tickvals: [0, 1] } }]) {
      const figure = heatmap(big);
      figure.data[0] = { ...figure.data[0], ...extra };
      expect(decode(shownTrace(figure).z).dtype).toBe('f4');
    }
    const gap = big.map((row, r) => row.map((v, c) => (r === c ? NaN : v)));
    expect(decode(shownTrace(heatmap(gap)).z).dtype).toBe('f4');
  });

  it('centres the range on zmid as plotly.js does, and widens a one-value range by 0.5', () => {
    const figure = heatmap(big);
    figure.data[0] = { ...figure.data[0], zmid: -2 };
    const trace = shownTrace(figure);
    // Range −2 ± max(|lo + 2|, |hi + 2|) = −2 ± (hi + 2): the largest value is level 255, −2 would be 127.5.
    const levels = decode(trace.z).values as number[][];
    expect(Math.max(...levels.flat())).toBe(255);
    expect(Math.abs(Math.min(...levels.flat()) - ((lo + 2) / (2 * (hi + 2)) + 0.5) * 255)).toBeLessThanOrEqual(0.5 + 1e-9);
    expect(trace.zmid).toBeUndefined();
    // One value, 0.3, everywhere: plotly.js colours it by the range 0.3 ± 0.5, at its middle.
    const constant = shownTrace(heatmap(big.map((row) => row.map(() => 0.3))));
    expect(new Set((decode(constant.z).values as number[][]).flat())).toEqual(new Set([128]));
    expect((constant.colorbar as { ticktext: string[] }).ticktext).toEqual(['−0.2', '0', '0.2', '0.4', '0.6', '0.8']);
  });
});

describe('niceTicks', () => {
  it('picks steps of 1, 2 or 5 × 10^k, about six by default, at most nticks when given, labelled like plotly', () => {
    expect(niceTicks(-1.4, 1.4).map((t) => t.text)).toEqual(['−1', '−0.5', '0', '0.5', '1']);
    expect(niceTicks(0, 1).map((t) => t.text)).toEqual(['0', '0.2', '0.4', '0.6', '0.8', '1']);
    expect(niceTicks(0.05, 0.72, 3).map((t) => t.text)).toEqual(['0.5']);
    expect(niceTicks(0, 255).map((t) => t.value)).toEqual([0, 50, 100, 150, 200, 250]);
  });
});

describe('notebookText', () => {
  it('writes figure JSON on one line and everything else as Jupyter does, reading back equal', () => {
    const nb: Notebook = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {},
      cells: [
        {
          cell_type: 'code',
          source: 'show(f)',
          metadata: {},
          execution_count: 1,
          outputs: [{ output_type: 'display_data', metadata: {}, data: { [PLOTLY_MIME]: { data: [{ type: 'heatmap', z: [[1, 2]] }] }, 'text/plain': 'f' } }],
        },
      ],
    };
    const text = notebookText(nb);
    expect(JSON.parse(text)).toEqual(nb);
    expect(text).toContain(`"${PLOTLY_MIME}": {"data":[{"type":"heatmap","z":[[1,2]]}]},\n`);
    expect(text).toContain('{\n "nbformat": 4,\n "nbformat_minor": 5,\n "metadata": {},\n "cells": [\n  {\n   "cell_type": "code",');
    expect(text.endsWith('}\n')).toBe(true);
  });
});
