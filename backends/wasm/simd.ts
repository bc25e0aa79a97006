/**
 * einnet's SIMD loops (backends/wasm/kernels.wat, assembled into kernels-wasm.ts) instantiated
 * on the memory of tfjs' WebAssembly backend, so that they read and write its tensors in place.
 * One instance per memory; none where the engine lacks WebAssembly SIMD or the backend does not
 * show its memory, and then the JavaScript loops (loops.ts) run.
 */
import { KERNELS_WASM_BASE64 } from './kernels-wasm';

/** The exports of kernels.wat; pointers are byte offsets into tfjs-wasm's memory. */
export interface SimdLoops {
  reluBiasGrad(dy: number, y: number, dz: number, acc: number, n: number, period: number): void;
  adamUpdate(
    w: number,
    g: number,
    m: number,
    v: number,
    wOut: number,
    mOut: number,
    vOut: number,
    n: number,
    lr: number,
    beta1: number,
    beta2: number,
    epsilon: number,
    weightDecay: number,
    c1: number,
    c2: number,
    oneMinusBeta1: number,
    oneMinusBeta2: number,
    lrWeightDecay: number,
    l2: number,
    decay: number,
  ): void;
  sgdUpdate(
    w: number,
    g: number,
    v: number,
    wOut: number,
    vOut: number,
    n: number,
    lr: number,
    mu: number,
    wd: number,
    decay: number,
    momentum: number,
    nesterov: number,
  ): void;
  movingAverage(v: number, b: number, out: number, n: number, m: number, k: number): void;
  col2Im(
    cols: number,
    dx: number,
    n: number,
    h: number,
    w: number,
    c: number,
    oh: number,
    ow: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    dh: number,
    dw: number,
    top: number,
    left: number,
  ): void;
  convFilterGrad(
    x: number,
    dz: number,
    dw: number,
    n: number,
    h: number,
    w: number,
    c: number,
    oh: number,
    ow: number,
    o: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    dh: number,
    dwl: number,
    top: number,
    left: number,
  ): void;
  maxPoolNaN(x: number, y: number, n: number, h: number, w: number, c: number, oh: number, ow: number, kh: number, kw: number, sh: number, sw: number): void;
  maxPoolGrad(
    x: number,
    dy: number,
    dx: number,
    n: number,
    h: number,
    w: number,
    c: number,
    oh: number,
    ow: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
  ): void;
}

/** The part of the WebAssembly JavaScript API used here (the project's type libraries lack it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  Memory: abstract new (...args: never[]) => object;
  validate(bytes: Uint8Array): boolean;
}
const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

let compiledModule: object | null | undefined;
const instances = new WeakMap<object, SimdLoops>();
let enabled = true;

/**
 * Whether einnet's wasm kernels may use the SIMD loops (the default); off, they run the
 * JavaScript loops. For tests and benchmarks that compare the two.
 */
export function useSimdLoops(on: boolean): void {
  enabled = on;
}

function compiled(): object | null {
  if (compiledModule === undefined) {
    try {
      const bytes = Uint8Array.from(atob(KERNELS_WASM_BASE64), (ch) => ch.charCodeAt(0));
      compiledModule = wasmApi !== undefined && wasmApi.validate(bytes) ? new wasmApi.Module(bytes) : null;
    } catch {
      // No WebAssembly SIMD, or a page that refuses to compile synchronously.
      compiledModule = null;
    }
  }
  return compiledModule;
}

/** The SIMD loops on the heap of tfjs-wasm backend `backend`, or undefined (see above). */
export function simdLoops(backend: unknown): SimdLoops | undefined {
  if (!enabled) return undefined;
  const memory = (backend as { wasm?: { asm?: { memory?: unknown } } }).wasm?.asm?.memory;
  if (wasmApi === undefined || !(memory instanceof wasmApi.Memory)) return undefined;
  let loops = instances.get(memory);
  if (loops === undefined) {
    const m = compiled();
    if (m === null) return undefined;
    loops = new wasmApi.Instance(m, { env: { memory } }).exports as unknown as SimdLoops;
    instances.set(memory, loops);
  }
  return loops;
}
