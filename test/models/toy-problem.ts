/** The toy problem of the fit tests: two classes a linear model separates, class = [x0 > x1]. */
import * as tf from '@tensorflow/tfjs';
import { Model } from '../../models/model';

export function toyData(n: number, seed: number): { images: tf.Tensor; labels: tf.Tensor } {
  return tf.tidy(() => {
    const images = tf.randomUniform([n, 2], -1, 1, 'float32', seed);
    const labels = images
      .slice([0, 0], [n, 1])
      .greater(images.slice([0, 1], [n, 1]))
      .reshape([n])
      .cast('int32');
    return { images, labels };
  });
}

export const linearModel = (seed = 1) => new Model({ program: 'Y[b,k:2] = W[i,k] · X[b,i] + B[k]', inputs: { X: [1, 2] }, output: 'Y', seed });
