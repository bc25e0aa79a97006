/**
 * Backend selection in a web page (the browser bundle, browser.ts): WebGPU, then WebGL, then
 * WebAssembly, then tfjs' pure-JS cpu backend. The providers are imported statically: a page has
 * no `require`, and the bundle carries them all. The wasm binaries are found next to the bundle
 * (scripts/build-browser.mjs copies them there and defines `EINNET_WASM_BASE`), or where
 * `setWasmLocation` says.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { EinError } from '../core/diagnostics';
import {
  activateBackend,
  activeBackend,
  availableBackends,
  registerBackendPlatform,
  setSharedSavedTensors,
  type AdapterInfo,
  type BackendCandidate,
  type BackendInfo,
  type BackendName,
} from './selection';

export { activeBackend, availableBackends, setSharedSavedTensors };
export type { AdapterInfo, BackendName, BackendInfo };

export const BACKEND_ORDER: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

/** The folder of the bundle, defined by the bundler (scripts/build-browser.mjs). */
declare const EINNET_WASM_BASE: string | undefined;

let wasmLocation: string | undefined = typeof EINNET_WASM_BASE === 'string' ? EINNET_WASM_BASE : undefined;

/**
 * Where the tfjs wasm binaries (`tfjs-backend-wasm*.wasm`) are served from: a URL ending in `/`.
 * By default the folder of einnet.mjs. Call before `useBackend('wasm')`.
 */
export function setWasmLocation(prefix: string): void {
  wasmLocation = prefix;
}

function hasWebGpu(): boolean {
  return (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu !== undefined;
}

/** The part of a WebGL context read for the adapter (the DOM types are not in this build's lib). */
interface GlContext {
  readonly VENDOR: number;
  readonly RENDERER: number;
  getParameter(p: number): unknown;
  getExtension(name: 'WEBGL_debug_renderer_info'): { UNMASKED_VENDOR_WEBGL: number; UNMASKED_RENDERER_WEBGL: number } | null;
}

function webgpuAdapter(): AdapterInfo | undefined {
  const info = (tf.findBackend('webgpu') as { adapterInfo?: { vendor?: string; architecture?: string } } | null)?.adapterInfo;
  if (info === undefined) return undefined;
  return { vendor: info.vendor, architecture: info.architecture };
}

function webglAdapter(): AdapterInfo | undefined {
  const gl = (tf.findBackend('webgl') as { gpgpu?: { gl?: GlContext } } | null)?.gpgpu?.gl;
  if (gl === undefined) return undefined;
  const debug = gl.getExtension('WEBGL_debug_renderer_info');
  if (debug === null) return { vendor: String(gl.getParameter(gl.VENDOR)), renderer: String(gl.getParameter(gl.RENDERER)) };
  return { vendor: String(gl.getParameter(debug.UNMASKED_VENDOR_WEBGL)), renderer: String(gl.getParameter(debug.UNMASKED_RENDERER_WEBGL)) };
}

/**
 * A WebGL device that renders float16 textures only would store every activation and gradient
 * in half precision: training would go wrong without any error. Refused with EIN3103.
 */
function verifyWebglFloat32(): void {
  if (tf.env().getBool('WEBGL_RENDER_FLOAT32_CAPABLE') && tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED')) return;
  throw new EinError({
    code: 'EIN3103',
    message: 'this WebGL device renders float16 textures only: einnet would train in half precision',
    hint: "use useBackend('webgpu') (Chrome 113+), useBackend('wasm'), or a device with float32 render targets (EXT_color_buffer_float)",
  });
}

const CANDIDATES: Partial<Record<BackendName, BackendCandidate>> = {
  webgpu: {
    tfjsName: 'webgpu',
    provider: '@tensorflow/tfjs-backend-webgpu',
    install: "use Chrome or Edge 113+ (WebGPU), served over https or from localhost, or pass 'webgl'",
    load: () => {
      if (!hasWebGpu()) throw new Error('WebGPU is not available in this browser (no navigator.gpu)');
    },
    adapter: webgpuAdapter,
  },
  webgl: {
    tfjsName: 'webgl',
    provider: '@tensorflow/tfjs-backend-webgl',
    install: "use a browser with WebGL 2 (any current one) and hardware acceleration switched on, or pass 'wasm'",
    // Shapes as shader uniforms: one compiled shader per op and rank rather than per shape (every
    // step of a plan has its own shapes; compiling is most of a first run's time).
    load: () => tf.env().set('WEBGL_USE_SHAPES_UNIFORMS', true),
    verify: verifyWebglFloat32,
    adapter: webglAdapter,
  },
  wasm: {
    tfjsName: 'wasm',
    provider: '@tensorflow/tfjs-backend-wasm',
    install: "serve tfjs-backend-wasm*.wasm next to einnet.mjs (or call setWasmLocation), or pass 'cpu'",
    load: () => {
      if (wasmLocation !== undefined) setWasmPaths(wasmLocation);
    },
  },
  cpu: {
    tfjsName: 'cpu',
    provider: '@tensorflow/tfjs-backend-cpu',
    install: 'it is part of @tensorflow/tfjs',
    load: () => undefined,
  },
};

registerBackendPlatform({
  order: BACKEND_ORDER,
  candidates: CANDIDATES,
  elsewhere: (name) => `'${name}' runs in Node only (import 'einnet' there); in a page pick one of ${BACKEND_ORDER.join('|')}`,
});

/**
 * Makes `name` the active tfjs backend, or — without a name — the first of webgpu, webgl, wasm,
 * cpu that starts (a float16-only WebGL device is skipped over).
 *
 * @example
 *   await useBackend();                 // webgpu in Chrome 113+
 *   (await useBackend('webgl')).adapter // { vendor, renderer } where the browser tells them
 * @throws EinError EIN3001 for a name that is not a backend; EIN3002 when the named backend
 *   cannot start here, saying what to use instead; EIN3103 for `webgl` on a float16-only device.
 */
export async function useBackend(name?: BackendName): Promise<BackendInfo> {
  return activateBackend(name);
}
