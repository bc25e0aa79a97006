/**
 * Loading einnet's oneDNN addon (`backends/native/build/Release/einnet_native.node`) and the
 * shape of what it exports. The addon is optional: it exists only where `npm install` found
 * oneDNN's headers (scripts/build-native.js). Everything here reports absence as an `Error`
 * with a one-line message; the backend selector turns that into "use the next backend".
 */
import * as fs from 'fs';
import * as path from 'path';
import { EinError } from '../../core/diagnostics';

/** Activation codes understood by `convForward` and `matmul` (src/params.h, `PostOp`). */
export const ACTIVATION_CODES = { linear: 0, relu: 1, leakyrelu: 2, relu6: 3, elu: 4, sigmoid: 5 } as const;

/** Pooling algorithm codes (src/params.h, `PoolAlgorithm`). */
export const POOL_MAX = 0;
export const POOL_AVG = 1;

/** What the compiled addon exports. All arrays are used in place; outputs are written, not returned. */
export interface NativeAddon {
  convForward(params: Int32Array, x: Float32Array, w: Float32Array, bias: Float32Array | null, y: Float32Array, activation: number, alpha: number): void;
  convBackwardData(params: Int32Array, dy: Float32Array, w: Float32Array, dx: Float32Array): void;
  convBackwardWeights(params: Int32Array, x: Float32Array, dy: Float32Array, dw: Float32Array): void;
  matmul(params: Int32Array, a: Float32Array, b: Float32Array, bias: Float32Array | null, c: Float32Array, activation: number, alpha: number): void;
  poolForward(params: Int32Array, x: Float32Array, y: Float32Array, algorithm: number): void;
  poolBackward(params: Int32Array, dy: Float32Array, x: Float32Array | null, dx: Float32Array, algorithm: number): void;
  /**
   * An uninitialised Float32Array of n elements from the addon's buffer pool. `report`: count it
   * towards V8's external memory now (for blocks that will only return through GC).
   */
  alloc(n: number, report?: boolean): Float32Array;
  /** The block behind `values` will return through GC only: V8 starts counting its memory. */
  escaped(values: Float32Array): void;
  /**
   * Returns a block from `alloc` to the pool now (false, doing nothing, for any other array). The
   * caller must never touch the array again: see recycle.ts.
   */
  release(values: Float32Array): boolean;
  /** Sum (op 0) or mean (op 1): params [op, rank, srcDims, dstDims] with dst extents 1 on reduced axes. */
  reduce(params: Int32Array, x: Float32Array, y: Float32Array): void;
  /** max(x, 0), capped at `cap` when cap > 0; NaN stays NaN. */
  relu(n: number, cap: number, x: Float32Array, y: Float32Array): void;
  /** Unary element-wise op on a flat array: params [op, n]; see backends/native/elementwise.ts. */
  eltwise(params: Int32Array, alpha: number, beta: number, x: Float32Array, y: Float32Array): void;
  /** Broadcasting binary op: params [op, rank, aDims, bDims]; c has a's shape. */
  binary(params: Int32Array, a: Float32Array, b: Float32Array, c: Float32Array): void;
  /**
   * einnet's own loops (src/loops.cc). Strided copy: params [elemBytes, rank, n[rank], srcOffset,
   * srcStrides[rank], dstOffset, dstStrides[rank]] over any typed arrays of that element size.
   */
  stridedCopy(params: Int32Array, src: ArrayBufferView, dst: ArrayBufferView): void;
  /** params [op, rank, n[rank], aStrides[rank], bStrides[rank]]; out Uint8Array for comparisons (op ≥ 10). */
  broadcastBinary(params: Int32Array, a: Float32Array, b: Float32Array, out: Float32Array | Uint8Array): void;
  /** params [elemBytes (1 or 4), n]: out[i] = condition[i] === 1 ? a[i] : b[i]. */
  select(params: Int32Array, condition: Uint8Array, a: ArrayBufferView, b: ArrayBufferView, out: ArrayBufferView): void;
  /** params [op (0 sum, 1 mean, 2 max, 3 min, 4 prod), rank, n[rank], outStrides[rank] (0 = reduced)]. */
  reduceAxes(params: Int32Array, x: Float32Array, y: Float32Array): void;
  /** params [isMin, outer, n, inner]: index of the best x[o, ·, i] into out[o, i]. */
  argReduce(params: Int32Array, x: Float32Array, out: Int32Array): void;
  /** params [op (0 step, 1 neg, 2 isFinite, 3 logicalNot), n]. */
  unary(params: Int32Array, alpha: number, x: Float32Array | Uint8Array, y: Float32Array | Uint8Array): void;
  /** tfjs' FusedBatchNorm: params [n, meanLen, varianceLen, offsetLen (0: none), scaleLen (0: none)]. */
  batchNorm(
    params: Int32Array,
    epsilon: number,
    x: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    offset: Float32Array | null,
    scale: Float32Array | null,
    out: Float32Array,
  ): void;
  /**
   * Batch normalization over the leading axis of x [rows, C] (src/normalize.cc): statistics
   * [2, C] = μ and sqrt(var + ε); their gradient; (x − μ)/σ·γ + β (+ relu); its gradient.
   * params [rows, C] for the first two, [rows, C, relu, hasScale, hasOffset] and
   * [rows, C, relu, hasScale] for the others.
   */
  batchStats(params: Int32Array, epsilon: number, x: Float32Array, out: Float32Array): void;
  batchStatsGrad(params: Int32Array, dstats: Float32Array, x: Float32Array, stats: Float32Array, dx: Float32Array): void;
  batchNormalize(params: Int32Array, x: Float32Array, stats: Float32Array, scale: Float32Array | null, offset: Float32Array | null, y: Float32Array): void;
  batchNormalizeGrad(
    params: Int32Array,
    dy: Float32Array,
    x: Float32Array,
    y: Float32Array | null,
    stats: Float32Array,
    scale: Float32Array | null,
    dx: Float32Array,
    dscale: Float32Array,
    doffset: Float32Array,
  ): void;
  /**
   * One SGD step (src/update.cc): params [n, momentum, nesterov], hyper [lr, μ, weightDecay];
   * writes wOut (and vOut with momentum).
   */
  sgdUpdate(
    params: Int32Array,
    hyper: Float64Array,
    w: Float32Array,
    g: Float32Array,
    v: Float32Array | null,
    wOut: Float32Array,
    vOut: Float32Array | null,
  ): void;
  /**
   * One Adam step (src/update.cc): params [n, decoupled], hyper [lr, β1, β2, ε, weightDecay, c1, c2,
   * 1 − β1, 1 − β2, lr·weightDecay] (c1, c2 the bias corrections 1 − β^t); writes wOut, mOut, vOut.
   */
  adamUpdate(
    params: Int32Array,
    hyper: Float64Array,
    w: Float32Array,
    g: Float32Array,
    m: Float32Array,
    v: Float32Array,
    wOut: Float32Array,
    mOut: Float32Array,
    vOut: Float32Array,
  ): void;
  /**
   * Softmax cross-entropy of scores z against targets y, both [rows, classes] (params), and its
   * gradient (src/loss.cc): writes the mean loss to loss[0] and d loss/d z to dz.
   */
  softmaxCrossEntropy(params: Int32Array, z: Float32Array, y: Float32Array, loss: Float32Array, dz: Float32Array): void;
  /** Average-pooling gradient, 2-D channels last, stride = window, no padding: params [N, H, W, C, kh, kw, OH, OW] (src/fused.cc). */
  avgPoolTileGrad(params: Int32Array, dy: Float32Array, dx: Float32Array): void;
  /** params [op (0 tanh, 1 sigmoid), n]: dx = dy·(1 − y²) or dy·y·(1 − y) from the activation's output y (src/fused.cc). */
  activationGrad(params: Int32Array, dy: Float32Array, y: Float32Array, dx: Float32Array): void;
  /** y = max(a + b, 0) over n elements (src/fused.cc). */
  addRelu(n: number, a: Float32Array, b: Float32Array, y: Float32Array): void;
  /**
   * 2-D max pooling, channels last, 'valid': params [N, H, W, C, kh, kw, sh, sw]; a window holding a NaN gives NaN (src/max_pool_nan.cc).
   */
  maxPoolNaN(params: Int32Array, x: Float32Array, y: Float32Array): void;
  /**
   * The gradient of 2-D max pooling, channels last: params [N, H, W, C, kh, kw, sh, sw, padTop,
   * padLeft, OH, OW]; each window's dy goes to its first maximum, as tfjs' CPU kernel picks it (src/max_pool_grad.cc).
   */
  maxPoolGrad(params: Int32Array, x: Float32Array, dy: Float32Array, dx: Float32Array): void;
  /** dx = dy where y > 0, else 0, over n elements (src/fused.cc). */
  reluGrad(n: number, dy: Float32Array, y: Float32Array, dx: Float32Array): void;
  /** out = v·momentum + batch·(1 − momentum) over n elements (src/update.cc). */
  movingAverage(n: number, momentum: number, v: Float32Array, batch: Float32Array, out: Float32Array): void;
  /** Sets oneDNN's thread count (OpenMP); returns the count now in force (-1: not controllable). */
  setThreads(n: number): number;
  threads(): number;
  /** Allows or forbids Winograd convolutions (default: allowed; registerNativeBackend applies EINNET_WINOGRAD); returns the previous setting. */
  setWinograd(on: boolean): boolean;
  info(): NativeAddonInfo;
  clearCache(): void;
}

export interface NativeAddonInfo {
  readonly version: string;
  readonly cpuRuntime: string;
  readonly threads: number;
  readonly cachedPrimitives: number;
  readonly cacheHits: number;
  readonly cacheMisses: number;
  /** Convolution primitives made so far with oneDNN's Winograd algorithm (3x3, stride 1, 32+ channels). */
  readonly winogradPrimitives: number;
  /**
   * Convolution primitives made so far from oneDNN's reference loops: its fallback when no
   * optimised kernel takes a geometry on this CPU, hundreds of times slower.
   */
  readonly referenceConvolutions: number;
  /**
   * Convolution passes (forward and both gradients) run so far by einnet's own Winograd F(2x2, 3x3)
   * kernel (src/winograd.h), which takes 3x3 stride-1 convolutions where oneDNN has no Winograd.
   */
  readonly ownWinogradPasses: number;
  /** Whether that kernel runs here: AVX2 with FMA and no AVX-512 (with AVX-512, oneDNN's Winograd and direct kernels run). */
  readonly ownWinogradAvailable: boolean;
  /** The instruction set oneDNN's kernels use ('avx2', 'avx512_core', …); Winograd needs an avx512 one. */
  readonly cpuIsa: string;
  /** Bytes of idle output buffers kept for reuse. */
  readonly pooledBytes: number;
}

const ADDON_FILE = 'einnet_native.node';

/**
 * Where the addon may be: `EINNET_NATIVE_ADDON` (a path, for tests and unusual builds), else the
 * node-gyp output next to the sources — seen from `backends/native/` when run from TypeScript and
 * from `dist/backends/native/` when run compiled.
 */
export function addonCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.EINNET_NATIVE_ADDON !== undefined && env.EINNET_NATIVE_ADDON !== '') return [path.resolve(env.EINNET_NATIVE_ADDON)];
  return [path.join(__dirname, 'build', 'Release', ADDON_FILE), path.join(__dirname, '..', '..', '..', 'backends', 'native', 'build', 'Release', ADDON_FILE)];
}

/** The addon file that exists, or undefined when it was never built. */
export function findAddon(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return addonCandidates(env).find((p) => fs.existsSync(p));
}

/** Thrown when the addon is absent or cannot be loaded; `message` is one line. */
export class NativeAddonUnavailable extends Error {
  /** True when the file exists but failed to load (a mismatched or missing shared library). */
  readonly broken: boolean;
  constructor(message: string, broken: boolean) {
    super(message);
    this.name = 'NativeAddonUnavailable';
    this.broken = broken;
  }
}

let loaded: NativeAddon | undefined;

/**
 * Loads the addon once and returns it.
 *
 * @example
 *   const addon = loadAddon();   // throws NativeAddonUnavailable on a machine without oneDNN
 *   addon.info().version;        // '2.6.3'
 * @throws NativeAddonUnavailable with a one-line reason: not built, or the shared library
 *   (libdnnl) is missing or does not match.
 */
export function loadAddon(): NativeAddon {
  if (loaded !== undefined) return loaded;
  const file = findAddon();
  if (file === undefined) {
    throw new NativeAddonUnavailable('the oneDNN addon is not built (install oneDNN, e.g. apt-get install libdnnl-dev, then run npm run build:native)', false);
  }
  // OpenMP's idle workers keep libgomp's default: they spin up to 300,000 times (GOMP_SPINCOUNT)
  // before they sleep — the same as PyTorch's. Workers that sleep at once (OMP_WAIT_POLICY=passive)
  // make every parallel region wake the second thread through the kernel: measured, a 0.35 ms
  // convolution takes 0.7 ms, and a ResNet-20 step is no faster on two threads than on one. With
  // 30,000 spins, a quarter of the steps still pay ~20 ms of wake-ups. On a machine shared with
  // other busy processes, OMP_WAIT_POLICY=passive may still be the better choice; the user's
  // environment is libgomp's to read.
  let mod: NativeAddon;
  try {
    mod = require(file) as NativeAddon;
  } catch (e) {
    const reason = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    throw new NativeAddonUnavailable(`the oneDNN addon ${file} failed to load: ${reason}`, true);
  }
  if (
    typeof mod.convForward !== 'function' ||
    typeof mod.info !== 'function' ||
    typeof mod.stridedCopy !== 'function' ||
    typeof mod.release !== 'function' ||
    typeof mod.escaped !== 'function'
  ) {
    throw new NativeAddonUnavailable(`${file} is not einnet's oneDNN addon (rebuild with npm run build:native)`, true);
  }
  loaded = mod;
  return mod;
}

/**
 * `loadAddon()` for the public setters (`setNativeThreads`, `setNativeWinograd`): an absent or
 * broken addon is the user's EinError EIN3100, not an internal exception.
 * @throws EinError EIN3100
 */
export function requireAddon(): NativeAddon {
  try {
    return loadAddon();
  } catch (e) {
    throw new EinError({
      code: 'EIN3100',
      message: `the native backend is not available: ${(e as Error).message}`,
      hint: 'see docs/native-backend.md',
    });
  }
}
