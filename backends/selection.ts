/**
 * Backend selection shared by Node and the browser: the names, the report, and `useBackend` /
 * `activeBackend` over a platform's candidate table. The table itself is registered by
 * backends/select.ts (Node: tfjs-node, the native addon, wasm, cpu) or backends/select-browser.ts
 * (a page: webgpu, webgl, wasm, cpu), so that neither platform's loaders reach the other's bundle.
 */
import * as tf from '@tensorflow/tfjs';
import { EinError } from '../core/diagnostics';
import { shareSavedTensors } from './saved-tensors';

export type BackendName = 'gpu' | 'node' | 'native' | 'webgpu' | 'webgl' | 'wasm' | 'cpu';

/** Every name `useBackend` knows, on any platform. */
export const ALL_BACKEND_NAMES: readonly BackendName[] = ['gpu', 'node', 'native', 'webgpu', 'webgl', 'wasm', 'cpu'];

/** The GPU adapter behind a browser backend, as far as the browser tells it. */
export interface AdapterInfo {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly renderer?: string;
}

/** What `useBackend` / `activeBackend` report. */
export interface BackendInfo {
  /** einnet's name for the backend. */
  readonly name: BackendName;
  /** The tfjs backend name it registers (`tensorflow`, `wasm`, `cpu`, `einnet-native`, `webgpu`, `webgl`). */
  readonly tfjsName: string;
  /** Where it came from, for humans: the package or addon that provides it. */
  readonly provider: string;
  /** The GPU adapter (webgpu, webgl) where the browser reports it. */
  readonly adapter?: AdapterInfo;
}

export interface BackendCandidate {
  readonly tfjsName: string;
  readonly provider: string;
  /** How to get the backend when it is missing (the fix line of EIN3002). */
  readonly install: string;
  /** Loads the provider so that it registers its tfjs backend; throws when it is not installed. */
  readonly load: () => void;
  /** Loads what `load` needs asynchronously first, where that works in more module systems. */
  readonly prepare?: () => Promise<void>;
  /**
   * Checks the initialised backend before it is used; throws an EinError when it would compute
   * wrongly (e.g. float16-only textures). Thrown for a named backend, skipped over otherwise.
   */
  readonly verify?: () => void;
  /** The adapter of the initialised backend, where the platform reports it. */
  readonly adapter?: () => AdapterInfo | undefined;
}

/** A platform's backends: the preference order and how to load each. */
export interface BackendPlatform {
  readonly order: readonly BackendName[];
  readonly candidates: Partial<Record<BackendName, BackendCandidate>>;
  /** Why a backend of another platform is not here, with what to use instead. */
  readonly elsewhere: (name: BackendName) => string;
}

let platform: BackendPlatform | undefined;
let active: BackendInfo | undefined;

/** Whether `useBackend` installs the shared saved tensors (backends/saved-tensors.ts). */
let sharedSavedTensors = true;

/** Registers the platform's candidates (backends/select.ts or backends/select-browser.ts). */
export function registerBackendPlatform(p: BackendPlatform): void {
  platform = p;
}

function currentPlatform(): BackendPlatform {
  if (platform === undefined) throw new EinError({ code: 'EIN3002', message: 'no backend platform is registered' });
  return platform;
}

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

export function isBackendName(s: string): s is BackendName {
  return (ALL_BACKEND_NAMES as readonly string[]).includes(s);
}

function unknownBackend(what: string): EinError {
  const order = currentPlatform().order;
  const others = ALL_BACKEND_NAMES.filter((n) => !order.includes(n));
  return new EinError({
    code: 'EIN3001',
    message: `${what}, which is not a backend`,
    expected: `one of ${order.join(', ')}${others.length > 0 ? ` (elsewhere: ${others.join(', ')})` : ''}`,
  });
}

/** Validates a backend name read from the environment (EINNET_BACKEND); undefined when unset. */
export function parseBackendName(raw: string | undefined, source: string): BackendName | undefined {
  const name = raw?.trim().toLowerCase();
  if (name === undefined || name === '') return undefined;
  if (!isBackendName(name)) throw unknownBackend(`${source} is '${raw}'`);
  return name;
}

/**
 * Makes `name` the active tfjs backend, or — without a name — the first available one of the
 * platform's order (`wanted` is the platform's default, e.g. EINNET_BACKEND on Node).
 * @throws EinError EIN3001 for an unknown name, EIN3002 when the named backend is not available
 *   here, saying what to do; the backend's own errors (EIN3101, EIN3102, EIN3103).
 */
export async function activateBackend(name: BackendName | undefined): Promise<BackendInfo> {
  const p = currentPlatform();
  if (name !== undefined) {
    if (!isBackendName(name)) throw unknownBackend(`'${String(name)}'`);
    const c = p.candidates[name];
    if (c === undefined) {
      throw new EinError({ code: 'EIN3002', message: `backend '${name}' is not available here`, hint: p.elsewhere(name) });
    }
    const error = await tryActivate(name, c, true);
    if (error !== undefined) {
      throw new EinError({
        code: 'EIN3002',
        message: `backend '${name}' (${c.provider}) is not available: ${error}`,
        hint: `${c.install}; or pick another of ${p.order.join('|')}`,
      });
    }
    return active!;
  }
  for (const candidate of p.order) {
    const c = p.candidates[candidate];
    if (c !== undefined && (await tryActivate(candidate, c, false)) === undefined) return active!;
  }
  // Unreachable in practice: the cpu backend always loads.
  throw new EinError({ code: 'EIN3002', message: 'no tfjs backend could be activated' });
}

/**
 * Tries to load and activate one backend; returns why it failed, or undefined on success. An
 * EinError from loading is the user's configuration (e.g. a bad EINNET_THREADS) and is thrown:
 * moving on to the next backend would hide it. So is a failed `verify` of a named backend.
 */
async function tryActivate(name: BackendName, c: BackendCandidate, named: boolean): Promise<string | undefined> {
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
  const previous = tf.getBackend();
  let ok: boolean;
  try {
    ok = await tf.setBackend(c.tfjsName);
    await tf.ready();
  } catch (e) {
    return firstLine(e);
  }
  if (!ok) return `tfjs could not initialise the '${c.tfjsName}' backend`;
  try {
    c.verify?.();
  } catch (e) {
    if (previous !== undefined && previous !== c.tfjsName) await tf.setBackend(previous);
    if (named || !(e instanceof EinError)) throw e;
    return e.message;
  }
  active = { name, tfjsName: c.tfjsName, provider: c.provider, ...adapterOf(c) };
  if (sharedSavedTensors) shareSavedTensors();
  return undefined;
}

function adapterOf(c: BackendCandidate): { adapter?: AdapterInfo } {
  const adapter = c.adapter?.();
  return adapter === undefined ? {} : { adapter };
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
  const candidates = currentPlatform().candidates;
  const name = (Object.keys(candidates) as BackendName[]).find((n) => candidates[n]!.tfjsName === current) ?? 'cpu';
  const c = candidates[name];
  return { name, tfjsName: current, provider: c?.provider ?? current, ...(c === undefined ? {} : adapterOf(c)) };
}

/** The backends that load on this platform, in preference order (loads each provider once). */
export function availableBackends(): BackendName[] {
  const p = currentPlatform();
  return p.order.filter((name) => {
    try {
      p.candidates[name]!.load();
      return true;
    } catch {
      return false;
    }
  });
}
