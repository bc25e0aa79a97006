/**
 * The demo `npm run demo` runs after install: a program in the notation parsed, checked (shapes and
 * where they came from), typeset, evaluated by the reference evaluator on a worked
 * example, then run and differentiated on the fastest backend this machine has; then the main
 * job: LeNet-5, written in the notation, trained on the embedded MNIST for one epoch with the
 * live progress display, its test accuracy, and its loss curve written to an HTML file (and a
 * PNG where Chromium is found), whose paths it prints.
 *   EINNET_DEMO_TRAIN=6000 npm run demo     trains on fewer images (a quick check)
 */
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { EinError, adam, ein, evaluate, findChromium, fit, lenet5, lossCurves, openMnist, saveHtml, savePng, summary, useBackend } from '../index';

function heading(text: string): void {
  console.log(`\n── ${text} ${'─'.repeat(Math.max(0, 70 - text.length))}`);
}

async function main(): Promise<void> {
  // 1. The seed's worked example: a 5x5 input correlated with a 3x3 filter.
  const conv = ein`Y[x, y] = F[Δx, Δy] · X[x+Δx, y+Δy]`;
  heading('The seed table, by the reference evaluator');
  console.log(conv.toString());
  const X = [
    [3, 3, 2, 1, 0],
    [0, 0, 1, 3, 1],
    [3, 1, 2, 2, 3],
    [2, 0, 0, 2, 2],
    [2, 0, 0, 0, 1],
  ];
  const F = [
    [0, 1, 2],
    [2, 2, 0],
    [0, 1, 2],
  ];
  const Y = conv.evaluateReference({ X, F }).Y;
  for (let i = 0; i < 3; i++) console.log('  ' + [0, 1, 2].map((j) => Y.get(i, j).toFixed(1).padStart(5)).join(''));

  // 2. A LeNet-style layer, exactly as written in the notation.
  const lenet = ein(`L1[b,x,y,j:6] = relu(W1[Δx:5,Δy:5,I,j] · L0[b,x+Δx,y+Δy,I] + B1[j])
L2[b,x,y,j]   = max[Δx:2,Δy:2] L1[b,2*x+Δx,2*y+Δy,j]`);
  heading('LeNet-style conv + pool: LaTeX');
  console.log(lenet.toLatex());
  heading('Shapes for L0: [8, 28, 28, 1], with where each extent came from');
  const report = lenet.check({ L0: [8, 28, 28, 1] });
  for (const [name, t] of report.tensors) {
    console.log(`  ${t.role.padEnd(6)} ${name.padEnd(3)} [${t.shape.join(', ')}]`);
    t.axisFrom.forEach((a, k) => console.log(`           axis ${k}: ${a.from}`));
  }

  // 3. Run and differentiate it.
  const backend = await useBackend();
  heading(`Lowered to tfjs on the ${backend.name} backend (${backend.provider})`);
  console.log(lenet.explain({ L0: [8, 28, 28, 1], W1: [5, 5, 1, 6], B1: [6] }));
  const L0 = tf.randomNormal([8, 28, 28, 1], 0, 1, 'float32', 1);
  const W1 = tf.randomNormal([5, 5, 1, 6], 0, 0.2, 'float32', 2);
  const B1 = tf.zeros([6]);
  const { L2 } = lenet.run({ L0, W1, B1 }, { validate: true });
  console.log(`  L2 shape [${L2.shape.join(', ')}], matches the reference evaluator (validate: true)`);
  const grads = tf.grads((w: tf.Tensor, b: tf.Tensor) => {
    const out = lenet.run({ L0, W1: w, B1: b });
    const loss = tf.mean(tf.square(out.L2));
    out.L1.dispose();
    out.L2.dispose();
    return loss;
  })([W1, B1]);
  console.log(`  ∂loss/∂W1 has shape [${grads[0].shape.join(', ')}], |∂loss/∂W1| = ${tf.norm(grads[0]).dataSync()[0].toFixed(4)}`);
  heading('The gradient, in the notation');
  console.log(lenet.backward({ L0: [8, 28, 28, 1] }));

  // 4. Errors point at the source.
  heading('An error, as a user sees it');
  try {
    ein('L1[b,x,y,j] = W[Δx,Δy,I,j] · L0[b,x+Δx,y+Δy,I] + B[j]').check({ L0: [8, 28, 28, 1] });
  } catch (e) {
    if (!(e instanceof EinError)) throw e;
    console.log(e.message);
  }
  tf.dispose([L0, W1, B1, L2, ...grads]);
  lenet.dispose();

  await trainLenet(backend.name);
}

/** 5. LeNet-5 on MNIST: one epoch, test accuracy, the loss curve in files. */
async function trainLenet(backendName: string): Promise<void> {
  const limit = process.env.EINNET_DEMO_TRAIN !== undefined ? Number(process.env.EINNET_DEMO_TRAIN) : undefined;
  const train = openMnist({ split: 'train', ...(limit !== undefined ? { limit } : {}) });
  const test = openMnist({ split: 'test' });
  const model = lenet5();
  heading(`LeNet-5 in the notation, one epoch on ${train.count} MNIST images (${backendName} backend)`);
  console.log(summary(model).toString());
  const curves = lossCurves({ title: 'LeNet-5 on MNIST: loss per batch and epoch' });
  const started = Date.now();
  await fit(model, train, { epochs: 1, batchSize: 64, optimizer: adam({ learningRate: 0.001 }), progress: true, plot: curves });
  const seconds = (Date.now() - started) / 1000;
  const result = await evaluate(model, test);
  console.log(`  trained in ${seconds.toFixed(1)} s; test accuracy ${((result.accuracy ?? 0) * 100).toFixed(2)} % on ${result.count} images`);
  const html = path.join(os.tmpdir(), 'einnet-demo-loss.html');
  saveHtml(curves.figure(), html);
  console.log(`  loss curve: ${html}`);
  if (findChromium() !== undefined) {
    const png = path.join(os.tmpdir(), 'einnet-demo-loss.png');
    await savePng(curves.figure(), png);
    console.log(`  loss curve: ${png}`);
  } else {
    console.log('  (no PNG: no Chromium found; set EINNET_CHROMIUM to draw one)');
  }
  model.dispose();
}

main().catch((e: unknown) => {
  console.error(e instanceof EinError ? e.message : e);
  process.exit(1);
});
