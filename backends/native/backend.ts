/**
 * The `einnet-native` tfjs backend: tfjs' CPU backend (same tensor storage, every kernel) with
 * the hot kernels replaced by oneDNN primitives. Tensors live in the CPU backend's typed arrays;
 * the oneDNN kernels read and write those arrays in place.
 */
import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { loadAddon, type NativeAddonInfo } from './addon';
import { BATCH_NORM_KERNELS } from './batchnorm';
import { CONV_KERNELS } from './conv';
import { ELEMENTWISE_KERNELS } from './elementwise';
import { FUSED_KERNELS } from './fused';
import { registerNativeGradients } from './gradients';
import { NATIVE_BACKEND_NAME } from './kernel';
import { MATMUL_KERNELS } from './matmul';
import { MOVEMENT_KERNELS } from './movement';
import { POOL_KERNELS } from './pool';
import { SHARING_KERNELS, escape, escapeInputs, forgetRecyclable, idleBytes, recycle } from './recycle';
import { REDUCTION_KERNELS } from './reduce';
import { UPDATE_KERNELS } from './update';
import { defaultThreads, threadsFromEnvironment } from './threads';
import { winogradFromEnvironment } from './winograd';

/** The kernels computed by oneDNN or the addon's own loops (every other kernel is the CPU backend's). */
export const NATIVE_KERNELS: readonly tf.KernelConfig[] = [
  ...CONV_KERNELS,
  ...MATMUL_KERNELS,
  ...POOL_KERNELS,
  ...ELEMENTWISE_KERNELS,
  ...REDUCTION_KERNELS,
  ...MOVEMENT_KERNELS,
  ...BATCH_NORM_KERNELS,
  ...UPDATE_KERNELS,
  ...FUSED_KERNELS,
];

/** tfjs' CPU backend under another name; a class of its own so `instanceof` tells them apart. */
export class NativeBackend extends MathBackendCPU {
  constructor() {
    super();
    // The CPU backend prints "install our node backend" on first use; on this backend that advice
    // is wrong (we are the fast path), so mark the warning as already given.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  /** The caller gets the very array: it escapes early reuse (recycle.ts). */
  override readSync(dataId: tf.DataId): tf.backend_util.BackendValues {
    escape(this, dataId);
    return super.readSync(dataId);
  }

  override dispose(): void {
    forgetRecyclable();
    super.dispose();
  }

  /** Disposal returns a pooled output that never escaped to the pool at once (recycle.ts). */
  override disposeData(dataId: tf.DataId, force = false): boolean {
    const entry = this.data.get(dataId);
    const released = super.disposeData(dataId, force);
    if (entry !== undefined && !this.data.has(dataId)) recycle(loadAddon(), entry.values);
    return released;
  }
}

/** A CPU kernel under the native backend's name; its inputs escape early reuse unless it only shares them. */
function cpuKernel(config: tf.KernelConfig): tf.KernelConfig {
  if (SHARING_KERNELS.has(config.kernelName)) return { ...config, backendName: NATIVE_BACKEND_NAME };
  const run = config.kernelFunc;
  const kernelFunc = (args: Parameters<tf.KernelFunc>[0]) => {
    escapeInputs(args.backend as MathBackendCPU, args.inputs);
    return run(args);
  };
  return { ...config, backendName: NATIVE_BACKEND_NAME, kernelFunc: kernelFunc as tf.KernelFunc };
}

let registered = false;

/**
 * Registers the `einnet-native` backend and its kernels with tfjs (once), after loading the
 * addon and setting its thread count (`EINNET_THREADS`, else one per core) and whether
 * convolutions may use Winograd (`EINNET_WINOGRAD`, else yes).
 *
 * @example
 *   registerNativeBackend();
 *   await tf.setBackend('einnet-native');
 * Limitations: float32 only on the oneDNN path; other dtypes and shapes oneDNN cannot take run
 * on the CPU kernels (see `nativeKernelStats`).
 * @throws NativeAddonUnavailable (one-line message) when the addon is not built or fails to load;
 *   EinError EIN3101 / EIN3102 for a bad EINNET_THREADS / EINNET_WINOGRAD.
 */
export function registerNativeBackend(): NativeAddonInfo {
  const addon = loadAddon();
  if (!registered) {
    addon.setThreads(threadsFromEnvironment() ?? defaultThreads());
    const winograd = winogradFromEnvironment();
    if (winograd !== undefined) addon.setWinograd(winograd);
    const overridden = new Set(NATIVE_KERNELS.map((k) => k.kernelName));
    for (const config of tf.getKernelsForBackend('cpu')) {
      if (!overridden.has(config.kernelName)) tf.registerKernel(cpuKernel(config));
    }
    for (const config of NATIVE_KERNELS) tf.registerKernel(config);
    registerNativeGradients();
    // Priority 0: registering must never make tfjs pick this backend on its own; the selector
    // (backends/select.ts) or the user chooses it.
    tf.registerBackend(NATIVE_BACKEND_NAME, () => new NativeBackend(), 0);
    registered = true;
  }
  return nativeBackendInfo();
}

/**
 * The addon's version, thread count and primitive-cache counters; `pooledBytes` counts the
 * addon's idle blocks and the disposed outputs kept for reuse (recycle.ts).
 * @throws NativeAddonUnavailable
 */
export function nativeBackendInfo(): NativeAddonInfo {
  const info = loadAddon().info();
  return { ...info, pooledBytes: info.pooledBytes + idleBytes() };
}
