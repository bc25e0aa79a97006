/**
 * LeNet-5 and ResNet-20 written by hand with tfjs-layers: what einnet's training steps are timed
 * against in `npm run bench:train` (Node) and `npm run bench:browser` (the page, with the bundle's
 * tfjs). `tf` is the caller's tfjs.
 */
import type * as tfjs from '@tensorflow/tfjs';

/**
 * x[:, ::2, ::2, :] for even height and width, by reshape and slice (tfjs has no gradient for
 * strided slices). Rank 4 throughout: the slice's gradient is a pad, and webgl's pad shader does
 * not compile above rank 4.
 */
export function everySecondPixel(x: tfjs.Tensor4D): tfjs.Tensor4D {
  const [n, h, w, c] = x.shape;
  return x
    .reshape([n * (h / 2), 2, w / 2, 2 * c])
    .slice([0, 0, 0, 0], [n * (h / 2), 1, w / 2, c])
    .reshape([n, h / 2, w / 2, c]);
}

export function handModels(tf: typeof tfjs): { lenetLayers: () => tfjs.LayersModel; resnet20Layers: () => tfjs.LayersModel } {
  function lenetLayers(): tfjs.LayersModel {
    const m = tf.sequential();
    m.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 6, kernelSize: 5, padding: 'same', activation: 'tanh' }));
    m.add(tf.layers.averagePooling2d({ poolSize: 2 }));
    m.add(tf.layers.conv2d({ filters: 16, kernelSize: 5, activation: 'tanh' }));
    m.add(tf.layers.averagePooling2d({ poolSize: 2 }));
    m.add(tf.layers.conv2d({ filters: 120, kernelSize: 5, activation: 'tanh' }));
    m.add(tf.layers.flatten());
    m.add(tf.layers.dense({ units: 84, activation: 'tanh' }));
    m.add(tf.layers.dense({ units: 10 }));
    return m;
  }

  /** ResNet option A shortcut: every second pixel, channels zero-padded to twice the width. */
  class ZeroPadShortcut extends tf.layers.Layer {
    static className = 'ZeroPadShortcut';
    override computeOutputShape(s: tfjs.Shape | tfjs.Shape[]): tfjs.Shape {
      const shape = s as tfjs.Shape;
      return [shape[0], Math.ceil(shape[1]! / 2), Math.ceil(shape[2]! / 2), 2 * shape[3]!];
    }
    override call(inputs: tfjs.Tensor | tfjs.Tensor[]): tfjs.Tensor {
      return tf.tidy(() => {
        const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tfjs.Tensor4D;
        const s = everySecondPixel(x);
        return tf.concat([s, tf.zerosLike(s)], 3);
      });
    }
  }

  function resnet20Layers(): tfjs.LayersModel {
    const input = tf.input({ shape: [32, 32, 3] });
    const convBn = (x: tfjs.SymbolicTensor, filters: number, stride: number, relu: boolean) => {
      let h = tf.layers
        .conv2d({ filters, kernelSize: 3, strides: stride, padding: 'same', useBias: false, kernelInitializer: 'heNormal' })
        .apply(x) as tfjs.SymbolicTensor;
      h = tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }).apply(h) as tfjs.SymbolicTensor;
      return relu ? (tf.layers.activation({ activation: 'relu' }).apply(h) as tfjs.SymbolicTensor) : h;
    };
    let h = convBn(input, 16, 1, true);
    [16, 32, 64].forEach((w, s) => {
      for (let k = 0; k < 3; k++) {
        const stride = s > 0 && k === 0 ? 2 : 1;
        const r = convBn(convBn(h, w, stride, true), w, 1, false);
        const short = stride === 1 ? h : (new ZeroPadShortcut({}).apply(h) as tfjs.SymbolicTensor);
        h = tf.layers.activation({ activation: 'relu' }).apply(tf.layers.add().apply([r, short])) as tfjs.SymbolicTensor;
      }
    });
    h = tf.layers.globalAveragePooling2d({}).apply(h) as tfjs.SymbolicTensor;
    const out = tf.layers.dense({ units: 10 }).apply(h) as tfjs.SymbolicTensor;
    return tf.model({ inputs: input, outputs: out });
  }

  return { lenetLayers, resnet20Layers };
}
