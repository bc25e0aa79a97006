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
 * at run time with `require`.
 */
import * as tf from '@tensorflow/tfjs';
import { EinError } from '../core/diagnostics';
import { shareSavedTensors } from './saved-tensors';

export type BackendName = 'gpu' | 'node' | 'native' | 'wasm' | 'cpu';

/** What `useBackend` / `activeBackend` report. */
export interface BackendInfo {
  /** einnet's name for the backend. */
  readonly name: BackendName;
  /** The tfjs backend name it registers (`tensorflow`, `wasm`, `cpu`, `einnet-native`). */
  readonly tfjsName: string;
  /** Where it came from, for humans: the package or addon that provides it. */
  readonly provider: string;
}

export const BACKEND_ORDER: readonly BackendName[] = ['gpu', 'node', 'native', 'wasm', 'cpu'];

interface BackendCandidate {
  readonly tfjsName: string;
  readonly provider: string;
  readonly install: string;
  /** Loads the provider so that it registers its tfjs backend; throws when it is not installed. */
  readonly load: () => void;
  /** Loads what `load` needs asynchronously first, where that works in more module systems. */
  readonly prepare?: () => Promise<void>;
}

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

const CANDIDATES: Record<BackendName, BackendCandidate> = {
  gpu: {
    tfjsName: 'tensorflow',
    provider: '@tensorflow/tfjs-node-gpu',
    install: 'npm install @tensorflow/tfjs-node-gpu@4.22.0 (needs CUDA and internet access at install time)',
    load: () => requireOptional('@tensorflow/tfjs-node-gpu'),
  },
  node: {
    tfjsName: 'tensorflow',
    provider: '@tensorflow/tfjs-node',
    install: 'npm install @tensorflow/tfjs-node@4.22.0 (needs internet access at install time)',
    load: () => requireOptional('@tensorflow/tfjs-node'),
  },
  native: {
    tfjsName: 'einnet-native',
    provider: 'einnet oneDNN addon (backends/native)',
    install: 'apt-get install libdnnl-dev (macOS: brew install onednn), then npm run build:native (see docs/native-backend.md)',
    load: nativeLoad,
    prepare: importNative,
  },
  wasm: {
    tfjsName: 'wasm',
    provider: '@tensorflow/tfjs-backend-wasm',
    install: 'npm install @tensorflow/tfjs-backend-wasm@4.22.0',
    load: () => requireOptional('@tensorflow/tfjs-backend-wasm'),
  },
  cpu: {
    tfjsName: 'cpu',
    provider: '@tensorflow/tfjs-backend-cpu',
    install: 'npm install @tensorflow/tfjs',
    load: () => undefined,
  },
};

function requireOptional(pkg: string): void {
  require(pkg);
}

let active: BackendInfo | undefined;

/** Whether `useBackend` installs the shared saved tensors (backends/saved-tensors.ts). */
let sharedSavedTensors = true;

/**
 * Switches the sharing of tensors saved for the backward pass (backends/saved-tensors.ts; 43 %
 * fewer kernel calls in a training step) on or off, process-wide, at once and for later
 * `useBackend` calls, which install it while it is on (the default).
 *
 * @example
 *   setSharedSavedTensors(false);   // tfjs' own clone for every saved tensor again
 * @returns whether sharing is active afterwards (false when off, or when tfjs' engine lacks the
 *   internals it relies on).
 */
export function setSharedSavedTensors(on: boolean): boolean {
  sharedSavedTensors = on;
  return shareSavedTensors(on);
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

function isBackendName(s: string): s is BackendName {
  return (BACKEND_ORDER as readonly string[]).includes(s);
}

/** Reads and validates `EINNET_BACKEND`; undefined when unset. */
export function backendFromEnvironment(env: NodeJS.ProcessEnv = process.env): BackendName | undefined {
  const raw = env.EINNET_BACKEND?.trim().toLowerCase();
  if (raw === undefined || raw === '') return undefined;
  if (!isBackendName(raw)) {
    throw new EinError({
      code: 'EIN3001',
      message: `EINNET_BACKEND is '${env.EINNET_BACKEND}', which is not a backend`,
      expected: `one of ${BACKEND_ORDER.join(', ')}`,
    });
  }
  return raw;
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
 * are moved lazily by tfjs when used.
 * @throws EinError EIN3002 when the named backend is not installed, saying how to install it;
 *   the backend's own configuration errors (EIN3101, EIN3102 for the native backend's variables).
 */
export async function useBackend(name?: BackendName): Promise<BackendInfo> {
  const wanted = name ?? backendFromEnvironment();
  if (wanted !== undefined) {
    if (!isBackendName(wanted)) {
      throw new EinError({
        code: 'EIN3001',
        message: `'${String(wanted)}' is not a backend`,
        expected: `one of ${BACKEND_ORDER.join(', ')}`,
      });
    }
    const error = await tryActivate(wanted);
    if (error !== undefined) {
      const c = CANDIDATES[wanted];
      throw new EinError({
        code: 'EIN3002',
        message: `backend '${wanted}' (${c.provider}) is not available: ${error}`,
        hint: `install it with: ${c.install}; or pick another with EINNET_BACKEND=${availableHint()}`,
      });
    }
    return active!;
  }
  for (const candidate of BACKEND_ORDER) {
    if ((await tryActivate(candidate)) === undefined) return active!;
  }
  // Unreachable in practice: the cpu backend always loads.
  throw new EinError({ code: 'EIN3002', message: 'no tfjs backend could be activated' });
}

function availableHint(): string {
  return BACKEND_ORDER.join('|');
}

/**
 * Tries to load and activate one backend; returns why it failed, or undefined on success. An
 * EinError from loading is the user's configuration (e.g. a bad EINNET_THREADS) and is thrown:
 * moving on to the next backend would hide it.
 */
async function tryActivate(name: BackendName): Promise<string | undefined> {
  const c = CANDIDATES[name];
  try {
    await c.prepare?.();
    c.load();
  } catch (e) {
    if (e instanceof EinError) throw e;
    return firstLine(e);
  }
  if (tf.findBackendFactory(c.tfjsName) === null && tf.findBackend(c.tfjsName) === null) {
    return `the package loaded but registered no '${c.tfjsName}' backend`;
  }
  let ok: boolean;
  try {
    ok = await tf.setBackend(c.tfjsName);
    await tf.ready();
  } catch (e) {
    return firstLine(e);
  }
  if (!ok) return `tfjs could not initialise the '${c.tfjsName}' backend`;
  active = { name, tfjsName: c.tfjsName, provider: c.provider };
  if (sharedSavedTensors) shareSavedTensors();
  return undefined;
}

function firstLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split('\n')[0];
}

/**
 * The backend einnet computes on now. Before any `useBackend` call this reports tfjs' current
 * backend (tfjs picks `cpu` in Node when nothing else was chosen).
 */
export function activeBackend(): BackendInfo {
  const current = tf.getBackend();
  if (active !== undefined && active.tfjsName === current) return active;
  const name = (Object.keys(CANDIDATES) as BackendName[]).find((n) => CANDIDATES[n].tfjsName === current) ?? 'cpu';
  return { name, tfjsName: current, provider: CANDIDATES[name].provider };
}

/** The backends that load on this machine, in preference order (loads each provider once). */
export function availableBackends(): BackendName[] {
  return BACKEND_ORDER.filter((name) => {
    try {
      CANDIDATES[name].load();
      return true;
    } catch {
      return false;
    }
  });
}
