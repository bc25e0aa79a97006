/**
 * The einnet kernel under real Jupyter: jupyter_client (Debian's Python) starts the kernel from
 * the spec `kernel:install` writes, into a temporary JUPYTER_DATA_DIR, and speaks the wire
 * protocol to it as JupyterLab does. The stop button (Jupyter's interrupt) stops a long `fit` at
 * its next batch within 3 s, and the model stays usable without leaked tensors; a failing cell
 * shows its real error (an EinError without stack frames); a cell's last einnet value shows
 * richly. Skipped, saying so, when no Python with jupyter_client and nbconvert is installed.
 */
import * as fs from 'fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers';
import { buildAndInstallKernel, jupyterPython, jupyterSession } from './jupyter-python';

const python = jupyterPython();
let dataDir: string;

describe.skipIf(python === undefined)('the kernel under real Jupyter (skipped when no Python has jupyter_client and nbconvert)', () => {
  beforeAll(async () => {
    dataDir = tempDir('jupyter');
    await buildAndInstallKernel(dataDir);
  }, 300_000);
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('the stop button stops a long fit at its next batch within 3 s; the model stays usable and nothing leaks', async () => {
    // tslab keeps a cell's declarations only when the cell has no top-level await.
    const results = await jupyterSession(python!, dataDir, [
      {
        code: [
          "import * as tf from '@tensorflow/tfjs';",
          "import { Model, ein, fit, evaluate, sgd } from 'einnet';",
          'const model = new Model({ program: ein`H[b,j:64] = relu(W1[I,j] · X[b,I] + B1[j])\\nY[b,k:10] = W2[J,k] · H[b,J] + B2[k]`,',
          "  inputs: { X: [1, 256] }, output: 'Y' });",
          'const images = tf.randomNormal([4096, 256]);',
          "const labels = tf.oneHot(tf.randomUniform([4096], 0, 10, 'int32'), 10).toFloat();",
          'const optimizer = sgd({ learningRate: 0.01 });',
          // tslab does not carry an earlier cell's name into a shorthand property ({ images }) of an await cell.
          'const data = { images, labels };',
        ].join('\n'),
      },
      // A first short fit creates what every fit keeps (optimizer state), so counts compare.
      { code: 'await fit(model, data, { epochs: 1, optimizer: optimizer, batchSize: 32, maxBatchesPerEpoch: 2 });' },
      { code: 'const tensorsBefore = tf.memory().numTensors;' },
      {
        code: [
          "console.log('fitting');",
          'const history = await fit(model, data, { epochs: 200, optimizer: optimizer, batchSize: 32 });',
          'console.log(JSON.stringify(history.stopped));',
        ].join('\n'),
        interrupt_after_s: 2,
      },
      { code: 'console.log(JSON.stringify({ leaked: tf.memory().numTensors - tensorsBefore }));' },
      // The model is usable: evaluate works; its first call may keep what later calls reuse, so a second call counts.
      {
        code: [
          'const first = await evaluate(model, data);',
          'const kept = tf.memory().numTensors;',
          'const again = await evaluate(model, data);',
          'console.log(JSON.stringify({ finite: Number.isFinite(first.loss) && first.loss === again.loss, leaked: tf.memory().numTensors - kept }));',
        ].join('\n'),
      },
    ]);
    for (const r of results) expect(r.status, JSON.stringify(r)).toBe('ok');
    const [, , , stopped, after, usable] = results;
    expect(stopped.replied_after_interrupt_s).not.toBeNull();
    expect(stopped.replied_after_interrupt_s!).toBeLessThan(3);
    // fit reports where it stopped: in its output, and in the history it returns.
    const shown = [stopped.stream, ...stopped.displays.map((d) => String(d.data['text/plain'] ?? ''))].join('\n');
    expect(shown).toMatch(/fit stopped .* as asked; the model holds the weights after step \d+/);
    const point = JSON.parse(stopped.stream.trim().split('\n').pop()!) as { epoch: number; step: number; phase: string };
    expect(point.phase).toBe('train');
    expect(point.step).toBeGreaterThan(0);
    expect(JSON.parse(after.stream)).toEqual({ leaked: 0 });
    expect(JSON.parse(usable.stream)).toEqual({ finite: true, leaked: 0 });
  }, 300_000);

  it('a failing cell shows its real error: an EinError with code, message and caret, no stack frames; others keep their stack', async () => {
    const results = await jupyterSession(python!, dataDir, [
      { code: "import { ein } from 'einnet';\nconst p = ein`Y[i] = X[i] +`;" },
      { code: "function deep(): never { throw new RangeError('plain failure'); }\ndeep();" },
      { code: '1 + 1' },
    ]);
    const [einError, plain, fine] = results;
    expect(einError.status).toBe('error');
    expect(einError.ename).toBe('EinError');
    expect(einError.evalue).toMatch(/^EIN1\d{3}: 1:\d+: /);
    expect(einError.evalue).toContain('^');
    expect(einError.traceback!.join('\n')).not.toMatch(/^\s+at /m);
    expect(einError.errors).toHaveLength(1); // the same error, published for the cell's output
    expect(einError.errors[0].ename).toBe('EinError');
    expect(plain.ename).toBe('RangeError');
    expect(plain.evalue).toBe('plain failure');
    expect(plain.traceback!.join('\n')).toMatch(/^\s+at deep /m);
    expect(plain.traceback!.join('\n')).not.toMatch(/node_modules[\\/]tslab/);
    expect(results.map((r) => r.execution_count)).toEqual([1, 2, 3]);
    expect(fine.stream).toBe('2\n');
  }, 300_000);

  it("a cell's last value shows richly: a tensor as a table of its values", async () => {
    const [cell] = await jupyterSession(python!, dataDir, [{ code: "import * as tf from '@tensorflow/tfjs';\ntf.tensor2d([[1, 2], [3, 4]])" }]);
    expect(cell.status).toBe('ok');
    expect(cell.displays.filter((d) => d.kind === 'display_data')).toHaveLength(1);
    expect(String(cell.displays[0].data['text/html'])).toContain('<caption>float32 tensor, shape [2, 2]</caption>');
    expect(cell.stream).not.toMatch(/^Tensor$/m); // not printed as plain text
  }, 300_000);
});
