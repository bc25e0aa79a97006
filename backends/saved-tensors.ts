/**
 * Tensors saved for the backward pass share their data without a kernel call.
 *
 * While tfjs records a gradient tape, every kernel saves the inputs and outputs its gradient
 * needs, and it saves each through `Engine.clone`: a full `Identity` kernel call plus a tape node
 * of its own. A ResNet-20 training step saved 217 tensors that way, 43 % of its kernel calls, and
 * the extra tape nodes are walked again when tfjs filters the tape. The clone only has to keep
 * the data alive after the caller disposes the original — a new tensor on the same data, with the
 * backend's reference count raised, does exactly that.
 *
 * The clone's tape node matters only for higher-order gradients (an outer tape differentiating
 * through the inner gradient's use of a saved tensor), so tfjs' own clone still runs whenever
 * more than one tape is recording, for data that lives on another backend or is not a plain
 * numeric tensor, and on a backend without reference counts. Relies on tfjs-core 4.22's engine
 * internals (`state`, `backend`, `makeTensorFromTensorInfo`; the version is pinned in
 * package.json); if they are not there, nothing is changed.
 *
 * `useBackend` installs it (on by default; `setSharedSavedTensors(false)` removes it).
 */
import * as tf from '@tensorflow/tfjs';
import { engineInternals, type EngineInternals } from './engine-internals';

/** tfjs' own clone while the sharing clone is installed (Symbol.for: one per process, whichever copy of einnet installed it). */
const tfjsCloneKey = Symbol.for('einnet.sharedSavedTensors.tfjsClone');

type EnginePrototype = EngineInternals & { [tfjsCloneKey]?: EngineInternals['clone'] };

/**
 * Installs (`on`, the default) or removes the sharing clone on tfjs' engine, process-wide;
 * installing twice changes nothing. Returns whether sharing is active afterwards: false when
 * switched off, or when this tfjs lacks the engine internals it relies on.
 * `useBackend` calls it (backends/select.ts, `setSharedSavedTensors`).
 */
export function shareSavedTensors(on = true): boolean {
  const engine = engineInternals();
  const proto = Object.getPrototypeOf(engine) as EnginePrototype;
  const tfjsClone = proto[tfjsCloneKey];
  if (!on) {
    if (tfjsClone !== undefined) {
      proto.clone = tfjsClone;
      delete proto[tfjsCloneKey];
    }
    return false;
  }
  if (tfjsClone !== undefined) return true;
  if (typeof proto.clone !== 'function' || typeof proto.makeTensorFromTensorInfo !== 'function') return false;
  if (typeof engine.state?.gradientDepth !== 'number' || typeof engine.state.tensorInfo?.get !== 'function') return false;
  const original = proto.clone;
  proto.clone = function (this: EngineInternals, x: tf.Tensor): tf.Tensor {
    const info = this.state.tensorInfo.get(x.dataId);
    const shareable =
      this.state.gradientDepth === 1 &&
      info !== undefined &&
      info.backend === this.backend &&
      this.backend.incRef !== tf.KernelBackend.prototype.incRef &&
      x.dtype !== 'complex64' &&
      x.dtype !== 'string';
    if (!shareable) return original.call(this, x);
    this.backend.incRef(x.dataId);
    return this.makeTensorFromTensorInfo({ dataId: x.dataId, shape: x.shape, dtype: x.dtype });
  };
  proto[tfjsCloneKey] = original;
  return true;
}
