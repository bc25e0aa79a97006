/**
 * Whether convolutions may use the Winograd algorithm: oneDNN's on CPUs with AVX-512 (3x3
 * windows at stride 1 with 32 or more channels, multiples of 16, and even padding;
 * src/conv_geometry.h, `ConvGeometry::WinogradCandidate`), and einnet's own F(2x2, 3x3) on CPUs
 * with AVX2 and no AVX-512 (3x3 windows at stride 1, 16 to 256 channels in multiples of 8;
 * src/winograd.h, `ConvGeometry::OwnWinogradCandidate`).
 * Either is faster (a ResNet-20 step's convolutions take ~18 % less time with oneDNN's, and the
 * step 0.76× against 0.96× PyTorch's with einnet's) and its results differ from the direct
 * algorithm's in the last bits (~1e-6 of the largest output), as any two summation orders do.
 * Default: allowed; the environment variable `EINNET_WINOGRAD=0` or `setNativeWinograd(false)`
 * forbid both, e.g. for results that do not depend on the CPU.
 */
import { EinError } from '../../core/diagnostics';
import { requireAddon } from './addon';

/** What `EINNET_WINOGRAD` asks for, or undefined when unset. @throws EinError EIN3102 for anything but 0 or 1. */
export function winogradFromEnvironment(env: NodeJS.ProcessEnv = process.env): boolean | undefined {
  const raw = env.EINNET_WINOGRAD?.trim();
  if (raw === undefined || raw === '') return undefined;
  if (raw === '0' || raw === '1') return raw === '1';
  throw new EinError({
    code: 'EIN3102',
    message: `EINNET_WINOGRAD is '${env.EINNET_WINOGRAD}', which is neither 0 nor 1`,
    hint: 'EINNET_WINOGRAD=0 forbids Winograd convolutions; unset it (or 1) allows them',
  });
}

/**
 * Allows or forbids Winograd convolutions on the native backend from now on, and returns the
 * previous setting. Compiled primitives are dropped when the setting changes (the next call of
 * each layer compiles anew).
 *
 * @example
 *   const was = setNativeWinograd(false);   // direct convolutions only
 *   ...
 *   setNativeWinograd(was);
 * @throws EinError EIN3102 for anything but a boolean; EIN3100 when the native backend is not available.
 */
export function setNativeWinograd(on: boolean): boolean {
  if (typeof on !== 'boolean') {
    throw new EinError({
      code: 'EIN3102',
      message: `setNativeWinograd(${String(on)}): the setting must be true or false`,
      hint: 'pass false for direct convolutions only, true to allow Winograd',
    });
  }
  return requireAddon().setWinograd(on);
}
