/**
 * einnet — neural-network layers in Einstein index notation, lowered to TensorFlow.js.
 * This file is the public API; everything else is internal.
 */
export { EinError, EinErrors, DIAGNOSTIC_CODES } from './dsl/diagnostics';
export type { Span, ExtentSource, DiagnosticCode } from './dsl/diagnostics';
export { useBackend, activeBackend, availableBackends, BACKEND_ORDER } from './kernels/backend';
export type { BackendName, BackendInfo } from './kernels/backend';
export * from './viz';
