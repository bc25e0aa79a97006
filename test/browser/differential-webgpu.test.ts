/**
 * The differential suite on webgpu (test/browser/differential.ts), and tf.memory() flat over 200
 * training steps there.
 */
import { expect, it } from 'vitest';
import { PAGE, differentialSuite } from './differential';

differentialSuite('webgpu', (session) => {
  it('200 training steps on webgpu leave tf.memory().numTensors flat', async () => {
    const r = await session().call<{ before: number; after: number; loss: number[]; ms: number }>(PAGE, 'leakCheck', 'webgpu', 200);
    console.log(
      `webgpu: 200 SGD steps in ${(r.ms / 1000).toFixed(1)} s, tensors ${r.before} → ${r.after}, loss ${r.loss.map((l) => l.toFixed(4)).join(' → ')}`,
    );
    expect(r.after).toBe(r.before);
    expect(r.loss[r.loss.length - 1]).toBeLessThan(r.loss[0]);
  }, 180_000);
});
