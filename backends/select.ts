/**
 * Backend selection: which tfjs backend einnet computes on.
 *
 * Preference order (first that loads wins):
 *   gpu    — `@tensorflow/tfjs-node-gpu` (libtensorflow with CUDA)
 *   node   — `@tensorflow/tfjs-node` (libtensorflow on CPU)
 *   native — einnet's own oneDNN addon (`backends/native`), when it was built
 *   wasm   — `@tensorflow/tfjs-backend-wasm`, the embedded default
 *   cpu    — tfjs' pure-JS backend, always present
 *
 * The environment variable `EINNET_BACKEND=gpu|node|native|wasm|cpu` overrides the order.
 * The optional packages are never dependencies of einnet: they download libtensorflow at install
 * time, which must not make `npm install` fail on a machine without internet. They are detected
 * at run time with `require`. The selection itself (shared with the browser) is backends/selection.ts;
 * `webgpu` and `webgl` are the browser bundle's (backends/select-browser.ts).
 */
import * as tf from '@tensorflow/tfjs';
import {
  activateBackend,
  activeBackend,
  availableBackends,
  parseBackendName,
  registerBackendPlatform,
  setSharedSavedTensors,
  type BackendCandidate,
  type BackendInfo,
  type BackendName,
} from './selection';

export { activeBackend, availableBackends, setSharedSavedTensors };
export type { BackendName, BackendInfo };
export type { AdapterInfo } from './selection';

export const BACKEND_ORDER: readonly BackendName[] = ['gpu', 'node', 'native', 'wasm', 'cpu'];

type NativeModule = typeof import('./native');

/**
 * backends/native, loaded on first need: the selector depends on it, never the reverse. `import()`
 * where the caller can wait (useBackend), `require` where it cannot (availableBackends).
 */
let nativeModule: NativeModule | undefined;

async function importNative(): Promise<void> {
  try {
    nativeModule ??= await import('./native');
  } catch {
    /* not loadable here: the synchronous load below says why */
  }
}

function nativeLoad(): void {
  nativeModule ??= require('./native') as NativeModule;
  nativeModule.loadNativeBackend();
}

const CANDIDATES: Partial<Record<BackendName, BackendCandidate>> = {
  gpu: {
    tfjsName: 'tensorflow',
    provider: '@tensorflow/tfjs-node-gpu',
    install: 'install it with: npm install @tensorflow/tfjs-node-gpu@4.22.0 (needs CUDA and internet access at install time)',
    load: () => requireOptional('@tensorflow/tfjs-node-gpu'),
  },
  node: {
    tfjsName: 'tensorflow',
    provider: '@tensorflow/tfjs-node',
    install: 'install it with: npm install @tensorflow/tfjs-node@4.22.0 (needs internet access at install time)',
    load: () => requireOptional('@tensorflow/tfjs-node'),
  },
  native: {
    tfjsName: 'einnet-native',
    provider: 'einnet oneDNN addon (backends/native)',
    install: 'install it with: apt-get install libdnnl-dev (macOS: brew install onednn), then npm run build:native (see docs/native-backend.md)',
    load: nativeLoad,
    prepare: importNative,
  },
  wasm: {
    tfjsName: 'wasm',
    provider: '@tensorflow/tfjs-backend-wasm',
    install: 'install it with: npm install @tensorflow/tfjs-backend-wasm@4.22.0',
    load: () => requireOptional('@tensorflow/tfjs-backend-wasm'),
  },
  cpu: {
    tfjsName: 'cpu',
    provider: '@tensorflow/tfjs-backend-cpu',
    install: 'install it with: npm install @tensorflow/tfjs',
    load: () => undefined,
  },
};

function requireOptional(pkg: string): void {
  require(pkg);
}

/**
 * tfjs' cpu backend prints a banner recommending tfjs-node on its first use in Node. einnet picks
 * its backend itself (and says which with `activeBackend()`), so the banner is only noise.
 */
function quietCpuBanner(): void {
  try {
    const cpu = tf.findBackend('cpu') as { firstUse?: boolean } | null;
    if (cpu !== null && 'firstUse' in cpu) cpu.firstUse = false;
  } catch {
    /* no cpu backend: nothing to quiet */
  }
}
quietCpuBanner();

registerBackendPlatform({
  order: BACKEND_ORDER,
  candidates: CANDIDATES,
  elsewhere: (name) =>
    name === 'webgpu' || name === 'webgl'
      ? `${name === 'webgpu' ? 'WebGPU' : 'WebGL'} runs in a web page (dist/browser/einnet.mjs, docs/browser.md); ` +
        `in Node pick one of ${BACKEND_ORDER.join('|')}`
      : `pick one of ${BACKEND_ORDER.join('|')}`,
});

/** Reads and validates `EINNET_BACKEND`; undefined when unset. */
export function backendFromEnvironment(env: NodeJS.ProcessEnv = process.env): BackendName | undefined {
  return parseBackendName(env.EINNET_BACKEND, 'EINNET_BACKEND');
}

/**
 * Makes `name` the active tfjs backend, or — without a name — the first available one in
 * `BACKEND_ORDER` (or the one `EINNET_BACKEND` names).
 *
 * @example
 *   await useBackend('wasm');           // the embedded default
 *   (await useBackend()).name;          // 'wasm' on a machine without tfjs-node
 *
 * Also installs the sharing of tensors saved for the backward pass, unless switched off with
 * `setSharedSavedTensors(false)`.
 *
 * Limitations: tfjs allows one active backend per process; tensors created on another backend
 * are moved lazily by tfjs when used. `webgpu` and `webgl` exist in the browser bundle only.
 * @throws EinError EIN3001 for a name that is not a backend; EIN3002 when the named backend is
 *   not installed, saying how to install it; the backend's own configuration errors (EIN3101,
 *   EIN3102 for the native backend's variables).
 */
export async function useBackend(name?: BackendName): Promise<BackendInfo> {
  return activateBackend(name ?? backendFromEnvironment());
}
