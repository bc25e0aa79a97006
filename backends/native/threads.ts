/**
 * How many threads oneDNN uses. Default: every core (`os.availableParallelism()`); the
 * environment variable `EINNET_THREADS` or `setNativeThreads(n)` override it.
 */
import * as os from 'os';
import { EinError } from '../../core/diagnostics';
import { requireAddon } from './addon';

/** The thread count `EINNET_THREADS` asks for, or undefined when unset. @throws EinError EIN3101 when it is not a positive integer. */
export function threadsFromEnvironment(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env.EINNET_THREADS?.trim();
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new EinError({
      code: 'EIN3101',
      message: `EINNET_THREADS is '${env.EINNET_THREADS}', which is not a thread count`,
      expected: `a whole number from 1 to about ${os.availableParallelism()} (this machine's cores)`,
      hint: 'unset EINNET_THREADS to use every core',
    });
  }
  return n;
}

/** The thread count used when nothing is configured: one per core. */
export function defaultThreads(): number {
  return os.availableParallelism();
}

/**
 * Sets how many threads oneDNN's kernels use, and returns the count now in force.
 *
 * @example
 *   setNativeThreads(1);   // single-threaded, e.g. to compare with a one-thread baseline
 * Limitations: with an oneDNN built on TBB or a thread pool (not OpenMP) the count cannot be
 * changed from here and -1 is returned.
 * @throws EinError EIN3101 for a count that is not a positive integer; EIN3100 when the native
 *   backend is not available.
 */
export function setNativeThreads(n: number): number {
  if (!Number.isInteger(n) || n < 1) {
    throw new EinError({
      code: 'EIN3101',
      message: `setNativeThreads(${n}): the thread count must be a positive whole number`,
      hint: `pass 1 to ${os.availableParallelism()}`,
    });
  }
  return requireAddon().setThreads(n);
}
