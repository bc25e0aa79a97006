/**
 * Which kernels ran on oneDNN and which fell back to the tfjs CPU kernel, and why.
 *
 * A fallback is never an error: shapes or attributes oneDNN cannot take (or that we chose not to
 * map) run on the CPU backend's own kernel, which gives the same answer more slowly. Set
 * `EINNET_DEBUG=1` to see each distinct fallback once on stderr; tests read the counters to make
 * sure the fast path really ran.
 */

/** How often each kernel ran natively or fell back since the last reset. */
export interface NativeKernelStats {
  readonly native: Readonly<Record<string, number>>;
  readonly fallback: Readonly<Record<string, number>>;
  /** Each distinct fallback reason, as `Kernel: reason`. */
  readonly reasons: readonly string[];
}

const nativeCounts = new Map<string, number>();
const fallbackCounts = new Map<string, number>();
const reasons = new Set<string>();

function debugEnabled(): boolean {
  const v = process.env.EINNET_DEBUG;
  return v !== undefined && v !== '' && v !== '0';
}

/** Records that `kernel` ran on oneDNN. @internal */
export function noteNative(kernel: string): void {
  nativeCounts.set(kernel, (nativeCounts.get(kernel) ?? 0) + 1);
}

/** Records that `kernel` fell back to the CPU kernel; logs the reason once when EINNET_DEBUG is set. @internal */
export function noteFallback(kernel: string, reason: string): void {
  fallbackCounts.set(kernel, (fallbackCounts.get(kernel) ?? 0) + 1);
  const line = `${kernel}: ${reason}`;
  if (!reasons.has(line)) {
    reasons.add(line);
    if (debugEnabled()) process.stderr.write(`einnet-native: ${kernel} runs on the tfjs cpu kernel: ${reason}\n`);
  }
}

/**
 * The counters since the last `resetNativeKernelStats()`.
 *
 * @example
 *   resetNativeKernelStats();
 *   tf.conv2d(x, w, 1, 'same');
 *   nativeKernelStats().native.Conv2D;   // 1
 */
export function nativeKernelStats(): NativeKernelStats {
  return { native: Object.fromEntries(nativeCounts), fallback: Object.fromEntries(fallbackCounts), reasons: [...reasons] };
}

/** Zeroes the counters and forgets the logged reasons. */
export function resetNativeKernelStats(): void {
  nativeCounts.clear();
  fallbackCounts.clear();
  reasons.clear();
}
