/**
 * Figures shown in notebooks carry no more image data than they display: heatmap and image traces
 * are resampled to their panel's pixels (same axis range, nearest values) and heatmap values keep
 * 4 significant digits. Expected values are worked out by hand.
 */
import { describe, expect, it } from 'vitest';
import { compactFigure } from '../../viz/compact-figure';
import { notebookText, type Notebook } from '../../scripts/notebooks/ipynb';
import { PLOTLY_MIME, activationGrid, figureBundle, heatmap, type Figure, type Trace } from '../../viz';

function shownTrace(figure: Figure, k = 0): Trace {
  return (figureBundle(figure, { includeLibrary: false })[PLOTLY_MIME] as Figure).data[k];
}

describe('compactFigure', () => {
  it('resamples a 1000×1000 heatmap shown at 300 px to the 360×360 square its plot area fits, over the same axis range', () => {
    const z = Array.from({ length: 1000 }, (_, r) => Array.from({ length: 1000 }, (_, c) => r * 1000 + c));
    const trace = shownTrace(heatmap(z, { panelSize: 300 }));
    const rows = trace.z as number[][];
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
    expect((compact.data[1].z as number[][]).length).toBe(2000);
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
    for (const t of traces) expect((t.z as number[][])[0].length).toBeLessThanOrEqual(w);
    expect(JSON.stringify(shown).length).toBeLessThan(before / 3);
  });

  it('resamples image traces pixel by pixel (RGB triples stay whole)', () => {
    const z = Array.from({ length: 400 }, (_, r) => Array.from({ length: 400 }, (_, c) => [r % 256, c % 256, 7]));
    const trace = shownTrace({ data: [{ type: 'image', z }], layout: { width: 120, height: 120, margin: { l: 10, r: 10, t: 10, b: 10 } } });
    const rows = trace.z as number[][][];
    expect(rows.length).toBe(100);
    expect(rows[0].length).toBe(100);
    expect(rows[50][50]).toEqual([202, 202, 7]);
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
