/**
 * What tfjs' engine is recording, read from its state (tfjs-core 4.22): ops that give their own
 * gradient only need it while a tape records them.
 */
import * as tf from '@tensorflow/tfjs';

interface EngineState {
  state: { gradientDepth: number; kernelDepth: number };
}

/** How many gradient tapes are recording (tf.grad and the like, nested). */
export function gradientDepth(): number {
  return (tf.engine() as unknown as EngineState).state.gradientDepth;
}

/**
 * Whether a kernel run now goes on a gradient tape: some tape records, and this is not inside
 * another kernel's forward function (which tfjs differentiates as a whole).
 */
export function tapeIsOn(): boolean {
  const { state } = tf.engine() as unknown as EngineState;
  return state.gradientDepth > 0 && state.kernelDepth === 0;
}
