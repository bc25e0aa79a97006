import * as tf from '@tensorflow/tfjs';
import { lenet5, sgd, trainStep, openMnist } from '../index';
(async () => {
  await tf.setBackend('cpu');
  const mnist = openMnist({ split: 'test' } as never);
  const batch = Number(process.argv[2] ?? 16), lr = Number(process.argv[3] ?? 0.05), mom = Number(process.argv[4] ?? 0);
  const model = lenet5({ seed: 7, batch });
  const opt = sgd({ learningRate: lr, momentum: mom });
  const losses: number[] = [];
  const t0 = Date.now();
  for (let k = 0; k < 200; k++) {
    const b = mnist.tensorsAt(Array.from({ length: batch }, (_, i) => (k * batch + i) % mnist.count), { oneHot: true });
    losses.push(trainStep(model, opt, b.images, b.labels));
    tf.dispose([b.images, b.labels]);
  }
  const m = (xs: number[]) => xs.reduce((a, b) => a + b) / xs.length;
  console.log(batch, lr, mom, 'first20', m(losses.slice(0, 20)).toFixed(3), 'last20', m(losses.slice(-20)).toFixed(3), Date.now() - t0, 'ms', losses.slice(0,5).map(l=>l.toFixed(4)).join(' '));
})();
