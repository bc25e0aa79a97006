/**
 * einnet — neural-network layers in Einstein index notation, lowered to TensorFlow.js.
 * This file is the public API; everything else is internal.
 */
// The language: parse → check → lower → run.
export { ein, Program } from './dsl';
export type { CheckReport, RunOptions, CheckedProgram, TensorInfo, IndexRange, Provenance } from './dsl';
export { EinError, EinErrors, DIAGNOSTIC_CODES } from './core/diagnostics';
export type { Span, ExtentSource, DiagnosticCode } from './core/diagnostics';
// Backends.
export { useBackend, activeBackend, availableBackends, setSharedSavedTensors, BACKEND_ORDER } from './backends/select';
export type { BackendName, BackendInfo } from './backends/select';
// The native backend's settings (these modules load nothing until called).
export { setNativeThreads } from './backends/native/threads';
export { setNativeWinograd } from './backends/native/winograd';
// Data, display and plots.
export * from './datasets';
export * from './viz';
export * from './models';
