/**
 * What fit shows while it trains: the text of the terminal bar and of the per-epoch lines (literal
 * expected strings), the messages a notebook receives (one output, then updates of it by display
 * id, as Jupyter's update_display_data), the mode chosen from where output goes, and the live plot.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { sgd } from '../../models/optimizers';
import { fit } from '../../models/train';
import { batchLine, clock, epochLine, notebookBundle, progressDisplay, progressMode } from '../../models/training/progress';
import type { EpochRecord } from '../../models/training/history';
import { setDisplaySink, type DisplayMessage } from '../../viz/kernel-output';
import { lossCurves } from '../../viz/curves';
import { useWasm } from './helpers';
import { linearModel, toyData } from './toy-problem';

beforeAll(useWasm);
afterEach(() => {
  setDisplaySink(undefined);
  vi.restoreAllMocks();
});

const record: EpochRecord = { epoch: 2, trainLoss: 0.123456, validLoss: 0.05, ratio: 2.47, accuracy: 0.98125, duration: 12.34, hyper: {}, batches: 938 };

describe('progress text', () => {
  it('the live line: epoch, bar, batch/total, loss, rate, time left', () => {
    const line = batchLine({ epoch: 2, epochs: 5, done: 120, total: 480, loss: 0.23456, seconds: 2 });
    expect(line).toBe('epoch 2/5 [######------------------] 120/480 loss 0.2346 | 60.0 batch/s | 0:06 left');
    expect(batchLine({ epoch: 1, epochs: 1, done: 0, total: 10, loss: NaN, seconds: 0 })).toBe(
      'epoch 1/1 [------------------------] 0/10 loss - | 0.0 batch/s | -:-- left',
    );
    expect([clock(59.6), clock(61), clock(3725)]).toEqual(['1:00', '1:01', '1:02:05']);
  });
  it('the epoch line', () => {
    expect(epochLine(record, 5, 938)).toBe('epoch 2/5 938/938 loss 0.1235 | valid loss 0.0500 | valid acc 98.13% | 12.3 s');
    expect(epochLine({ ...record, validLoss: undefined, accuracy: undefined, trainAccuracy: 0.5 }, 5, 938)).toBe(
      'epoch 2/5 938/938 loss 0.1235 | train acc 50.00% | 12.3 s',
    );
  });
  it('terminal: the line is redrawn in place (\\r, erase line) and kept as the epoch summary', () => {
    const out: string[] = [];
    const d = progressDisplay('terminal', 5, (s) => out.push(s));
    d.epochStart(2, 938);
    d.batch(469, 0.2);
    d.epochEnd(record);
    d.close();
    expect(out).toHaveLength(2);
    expect(out[0]).toMatch(/^\r\x1b\[2Kepoch 2\/5 \[#{12}-{12}\] 469\/938 loss 0\.2000 \| /);
    expect(out[1]).toBe('\r\x1b[2Kepoch 2/5 938/938 loss 0.1235 | valid loss 0.0500 | valid acc 98.13% | 12.3 s\n');
  });
  it('lines: one line per epoch, no batch output', () => {
    const out: string[] = [];
    const d = progressDisplay('lines', 5, (s) => out.push(s));
    d.epochStart(2, 938);
    d.batch(469, 0.2);
    d.epochEnd(record);
    d.message('fit stopped');
    expect(out).toEqual(['epoch 2/5 938/938 loss 0.1235 | valid loss 0.0500 | valid acc 98.13% | 12.3 s\n', 'fit stopped\n']);
  });
  it('the mode follows where output goes: a notebook, else a terminal, else lines; false turns it off', () => {
    const isTTY = process.stdout.isTTY;
    try {
      process.stdout.isTTY = false;
      expect(progressMode(undefined)).toBe('lines');
      expect(progressMode(true)).toBe('lines');
      process.stdout.isTTY = true;
      expect(progressMode(undefined)).toBe('terminal');
      setDisplaySink(() => undefined);
      expect(progressMode(undefined)).toBe('notebook');
      expect(progressMode(false)).toBe('off');
      expect(progressMode('lines')).toBe('lines');
    } finally {
      process.stdout.isTTY = isTTY;
    }
  });
});

describe('fit in a notebook', () => {
  it('shows ONE output and updates it in place: first display_data, then update_display_data with the same display id', async () => {
    const messages: DisplayMessage[] = [];
    setDisplaySink((m) => messages.push(m));
    const train = toyData(64, 7);
    const m = linearModel();
    try {
      await fit(m, train, { epochs: 2, batchSize: 16, optimizer: sgd({ learningRate: 0.1 }) });
    } finally {
      tf.dispose([train.images, train.labels]);
      m.dispose();
    }
    expect(messages.length).toBeGreaterThanOrEqual(3);
    const id = messages[0].displayId;
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(messages.map((x) => x.displayId)).toEqual(messages.map(() => id));
    expect(messages.map((x) => x.update)).toEqual(messages.map((_, k) => k > 0));
    const first = messages[0].data as Record<string, string>;
    expect(first['text/html']).toContain('<progress value="0" max="4"');
    expect(first['text/plain']).toMatch(/^epoch 1\/2 \[-+\] 0\/4 loss - \|/);
    const last = messages[messages.length - 1].data as Record<string, string>;
    expect(last['text/plain'].split('\n')).toHaveLength(2);
    expect(last['text/plain']).toMatch(/^epoch 1\/2 4\/4 loss \d\.\d{4} \| train acc [\d.]+% \| [\d.]+ s\nepoch 2\/2 4\/4 loss /);
    expect(last['text/html']).not.toContain('<progress');
  });
  it('the bundle escapes HTML and shows the live bar below the finished epochs', () => {
    const b = notebookBundle(['a<b'], { epoch: 1, epochs: 1, done: 1, total: 2, loss: 1, seconds: 1 });
    expect(b['text/html']).toContain('<div>a&lt;b</div>');
    expect(b['text/html']).toContain('<progress value="1" max="2"');
    expect(b['text/plain']).toBe('a<b\nepoch 1/1 [############------------] 1/2 loss 1.0000 | 1.0 batch/s | 0:01 left');
  });
});

describe('fit with a live plot', () => {
  for (const how of ['plot', 'callbacks'] as const) {
    it(`takes lossCurves() as ${how}: every batch loss and every epoch's losses reach the plot`, async () => {
      const curves = lossCurves({ display: false, printOutsideNotebook: false });
      const train = toyData(64, 7);
      const valid = toyData(32, 7);
      const m = linearModel();
      try {
        const h = await fit(m, train, {
          epochs: 3,
          batchSize: 16,
          optimizer: sgd({ learningRate: 0.1 }),
          validation: valid,
          progress: false,
          ...(how === 'plot' ? { plot: curves } : { callbacks: [curves] }),
        });
        const traces = curves.figure().data as { name: string; x: number[]; y: number[] }[];
        const batch = traces.find((t) => t.name === 'loss (batch)')!;
        expect(batch.y).toHaveLength(12);
        expect(traces.find((t) => t.name === 'loss')!.y).toEqual(h.epochs.map((r) => r.trainLoss));
        expect(traces.find((t) => t.name === 'val_loss')!.y).toEqual(h.epochs.map((r) => r.validLoss));
        expect(traces.find((t) => t.name === 'val_acc')!.y).toEqual(h.epochs.map((r) => r.accuracy));
      } finally {
        tf.dispose([train.images, train.labels, valid.images, valid.labels]);
        m.dispose();
      }
    });
  }
});
