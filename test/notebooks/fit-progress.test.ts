/**
 * fit's progress in a real tslab kernel, spoken to over the Jupyter wire protocol: ONE output,
 * created with display_data and then replaced in place with update_display_data under the same
 * display id, carrying an HTML bar and a text/plain line per finished epoch. Runs the built package
 * (`npm run build`), as a notebook's `import … from 'einnet'` does.
 */
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kernelSpec } from '../../scripts/notebooks/kernel-install';
import { ROOT } from './helpers';
import { KernelClient } from './jupyter-client';

describe('fit in the Jupyter kernel', () => {
  const kernel = new KernelClient();
  beforeAll(async () => {
    await kernel.start(kernelSpec().argv as string[], path.join(ROOT, 'notebooks'));
  }, 120_000);
  afterAll(() => kernel.stop());

  it('shows one live progress output, updated in place by display id', async () => {
    const { reply, published } = await kernel.execute(
      [
        "import * as tf from '@tensorflow/tfjs';",
        "import { Model, fit, sgd } from 'einnet';",
        "const model = new Model({ program: 'Y[b,k:2] = W[i,k] · X[b,i] + B[k]', inputs: { X: [1, 2] }, output: 'Y', seed: 1 });",
        'const images = tf.randomUniform([64, 2], -1, 1, "float32", 3);',
        "const labels = tf.tensor1d(Array.from({ length: 64 }, (_, k) => k % 2), 'int32');",
        'await fit(model, { images, labels }, { epochs: 2, batchSize: 16, optimizer: sgd({ learningRate: 0.1 }) });',
      ].join('\n'),
    );
    expect(reply.content.status).toBe('ok');
    const displays = published.filter((m) => m.header.msg_type.endsWith('display_data'));
    expect(displays.length).toBeGreaterThanOrEqual(3);
    expect(displays.map((m) => m.header.msg_type)).toEqual(displays.map((_, k) => (k === 0 ? 'display_data' : 'update_display_data')));
    expect(new Set(displays.map((m) => m.content.transient?.display_id)).size).toBe(1);
    expect(String(displays[0].content.data!['text/html'])).toContain('<progress');
    const last = String(displays[displays.length - 1].content.data!['text/plain']).split('\n');
    expect(last).toHaveLength(2);
    expect(last[0]).toMatch(/^epoch 1\/2 4\/4 loss \d\.\d{4} \| train acc/);
    expect(last[1]).toMatch(/^epoch 2\/2 4\/4 loss /);
  }, 180_000);
});
