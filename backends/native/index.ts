/**
 * einnet's native CPU backend on oneDNN. The selector (`backends/select.ts`) loads this module
 * when it considers the native backend; importing it registers nothing, and the addon is loaded
 * only when the backend is registered.
 *
 * @example
 *   await useBackend('native');   // EinError EIN3002 with install advice if oneDNN is absent
 */
import { NativeAddonUnavailable } from './addon';
import { registerNativeBackend } from './backend';

export { NativeAddonUnavailable, findAddon, loadAddon, type NativeAddonInfo } from './addon';
export { NATIVE_KERNELS, NativeBackend, nativeBackendInfo, registerNativeBackend } from './backend';
export { NATIVE_BACKEND_NAME } from './kernel';
export { nativeKernelStats, resetNativeKernelStats, type NativeKernelStats } from './stats';
export { defaultThreads, setNativeThreads, threadsFromEnvironment } from './threads';
export { setNativeWinograd, winogradFromEnvironment } from './winograd';

let warned = false;

/**
 * The selector's loader: registers the backend, or throws a one-line reason. An addon that
 * exists but does not load (libdnnl missing or of another version) is unexpected, so it is
 * also reported once on stderr before the selector moves on to the next backend.
 * @internal
 */
export function loadNativeBackend(): void {
  try {
    registerNativeBackend();
  } catch (e) {
    if (e instanceof NativeAddonUnavailable && e.broken && !warned) {
      warned = true;
      process.stderr.write(`einnet: native backend unavailable, using the next one: ${e.message}\n`);
    }
    throw e;
  }
}
