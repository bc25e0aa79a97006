/**
 * One training step from einnet's public pieces, with the loss read by `await data()` (a page on
 * webgpu must not read synchronously): forward in training mode, softmax cross-entropy,
 * tf.variableGrads, the optimizer's update, the running statistics. What `trainStep` does, minus
 * its synchronous read of the loss.
 */
import { softmaxCrossEntropy, tf, type Model, type Optimizer } from '../../../../browser';

/** The step without reading the loss: the caller reads and disposes it. */
export function stepTensor(model: Model, optimizer: Optimizer, x: tf.Tensor, y: tf.Tensor): tf.Scalar {
  const input = [...Object.keys(model.inputShapes)][0];
  const stats: Record<string, tf.Tensor> = {};
  const byVar = new Map<string, string>();
  for (const [name, v] of model.params) byVar.set(v.name, name);
  const { value, grads } = tf.variableGrads(() => {
    const outs = model.forward({ [input]: x }, { training: true });
    for (const name of model.stats.keys()) stats[name] = tf.keep(outs[name]);
    return softmaxCrossEntropy(outs[model.output], y);
  }, model.trainableVariables);
  try {
    const named: Record<string, tf.Tensor> = {};
    for (const [varName, g] of Object.entries(grads)) named[byVar.get(varName)!] = g;
    optimizer.apply(model.params, named);
    model.updateRunningStats(stats);
  } finally {
    tf.dispose(Object.values(grads));
    tf.dispose(Object.values(stats));
  }
  return value;
}

/** A step and its loss, read asynchronously. */
export async function trainStepInPage(model: Model, optimizer: Optimizer, x: tf.Tensor, y: tf.Tensor): Promise<number> {
  const loss = stepTensor(model, optimizer, x, y);
  try {
    return (await loss.data())[0];
  } finally {
    loss.dispose();
  }
}
