/**
 * tfjs' engine as einnet uses it: kernels run directly, and the parts einnet reads or patches
 * beyond tfjs' public API, typed in this one place (tfjs-core 4.22, pinned in package.json): what
 * the gradient tapes are recording, the registry of tensor data, and the engine functions behind
 * tf.customGrad and the tape's clones.
 */
import * as tf from '@tensorflow/tfjs';

// Bound once, as in every module of ops/ and dsl/run/: each `tf.X` is a getter and a lookup among
// tfjs-core's exports, and after a kernel has swept the caches each costs microseconds
// (docs/performance.md, "Lowered layers against hand-written tfjs").
const { engine } = tf;

/**
 * Runs the kernel `name` on the active backend, on the tape with its registered gradient: what a
 * tfjs op runs after its argument checks, for callers whose operands are checked already.
 */
export function runKernel<T extends tf.Tensor | tf.Tensor[] = tf.Tensor>(name: string, inputs: tf.NamedTensorMap, attrs?: object): T {
  return engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as T;
}

/** A node of a gradient tape: the tensors its kernel saved for the backward pass. */
export interface TapeNode {
  saved?: tf.Tensor[];
}

export interface EngineInternals {
  state: {
    /** How many gradient tapes are recording (tf.grad and the like, nested). */
    gradientDepth: number;
    /** How many kernels' forward functions are running; a kernel run inside another is not taped. */
    kernelDepth: number;
    /** The tape being recorded, or left behind by a recording that threw; null when none. */
    activeTape: TapeNode[] | null;
    /** The backend holding each tensor's data, by data id. */
    tensorInfo: WeakMap<object, { backend: tf.KernelBackend }>;
  };
  backend: tf.KernelBackend;
  clone(x: tf.Tensor): tf.Tensor;
  makeTensorFromTensorInfo(info: { dataId: object; shape: number[]; dtype: tf.DataType }): tf.Tensor;
  /** What tf.customGrad runs: a forward function and, per input, a lazily called gradient. */
  runKernelFunc(params: {
    forwardFunc: (backend: unknown, save: tf.GradSaveFunc) => tf.Tensor;
    backwardsFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => Record<string, () => tf.Tensor>;
    inputs: tf.NamedTensorMap;
  }): tf.Tensor;
}

/** tfjs' engine with its internals visible. Check a member before relying on it where another tfjs may run. */
export function engineInternals(): EngineInternals {
  return engine() as unknown as EngineInternals;
}

/** How many gradient tapes are recording (tf.grad and the like, nested). */
export function gradientDepth(): number {
  return engineInternals().state.gradientDepth;
}

/**
 * Whether a kernel run now goes on a gradient tape: some tape records, and this is not inside
 * another kernel's forward function (which tfjs differentiates as a whole). Ops that give their
 * own gradient only need it then.
 */
export function tapeIsOn(): boolean {
  const { state } = engineInternals();
  return state.gradientDepth > 0 && state.kernelDepth === 0;
}

/**
 * When the function given to tf.variableGrads throws, tfjs leaves its gradient tape behind with
 * every tensor the kernels saved for the backward pass (the next tape replaces it without
 * disposing them). Disposes those, unless an outer tape is still recording and owns them.
 */
export function releaseAbandonedTape(): void {
  const { state } = engineInternals();
  if (state.gradientDepth !== 0 || !Array.isArray(state.activeTape)) return;
  for (const node of state.activeTape) for (const t of node.saved ?? []) t.dispose();
  state.activeTape = null;
}
