/**
 * A short real-data run: LeNet-5 (as LeCun et al. 1998 publish it, tanh and average pooling) on 512 MNIST training
 * images for 3 epochs on the wasm backend. The loss must fall well below chance (ln 10 ≈ 2.30)
 * and the held-out accuracy must be far above chance. The full 3-epoch accuracy runs are in
 * bench/training.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { openMnist } from '../../datasets/mnist';
import { lenet5 } from '../../models/architectures';
import { adam } from '../../models/optimizers';
import { fit } from '../../models/train';
import { useWasm } from './helpers';

beforeAll(useWasm);

describe('LeNet-5 on real MNIST', () => {
  it('trains: the loss falls epoch after epoch and 200 test images are mostly right', async () => {
    const train = openMnist({ split: 'train', cacheDir: '/nonexistent-einnet-cache' }).slice(0, 512);
    const test = openMnist({ split: 'test', cacheDir: '/nonexistent-einnet-cache' }).slice(0, 200);
    const model = lenet5({ seed: 1 });
    const tensorsAfterEpoch: number[] = [];
    try {
      const history = await fit(model, train, {
        epochs: 3,
        batchSize: 32,
        optimizer: adam({ learningRate: 3e-3 }),
        validation: test,
        progress: false,
        onEpochEnd: () => void tensorsAfterEpoch.push(tf.memory().numTensors),
      });
      const losses = history.epochs.map((r) => r.trainLoss);
      expect(losses[0]).toBeLessThan(Math.log(10));
      expect(losses[1]).toBeLessThan(losses[0]);
      expect(losses[2]).toBeLessThan(losses[1]);
      expect(losses[2]).toBeLessThan(1);
      expect(history.epochs[2].validLoss!).toBeLessThan(history.epochs[0].validLoss!);
      expect(history.epochs[2].accuracy!).toBeGreaterThan(0.6);
      // Epoch 1 creates the plans and optimizer slots; later epochs allocate nothing that stays.
      expect(tensorsAfterEpoch[2]).toBe(tensorsAfterEpoch[1]);
      expect(tensorsAfterEpoch[1]).toBe(tensorsAfterEpoch[0]);
    } finally {
      model.dispose();
    }
  });
});
