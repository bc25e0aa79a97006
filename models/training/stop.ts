/**
 * Stopping a long call (`fit`, `evaluate`) at a batch boundary: an `AbortSignal` or the
 * process-wide request of core/interrupt.ts (a notebook kernel's interrupt). Between batches the
 * loop yields to the event loop now and then, so that the signal's handler or the kernel's message
 * can run at all during a loop that never waits otherwise.
 */
import { takeStopRequest } from '../../core/interrupt';

/** Resolves after the event loop has run pending callbacks and I/O (a macrotask, not a microtask). */
export function yieldToEventLoop(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (f: () => void) => unknown }).setImmediate;
  if (immediate !== undefined) return new Promise((resolve) => void immediate(resolve));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    // The browser's MessagePort (Node's typings describe Node's own, which has no onmessage).
    (channel.port1 as unknown as { onmessage: () => void }).onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(undefined);
  });
}

/** Milliseconds of work between two yields: short enough for a prompt stop, rare enough to cost nothing. */
export const YIELD_EVERY_MS = 25;

/** Polled between batches; once it has seen a stop, it stays stopped. */
export class StopCheck {
  private lastYield = performance.now();
  private seen = false;

  constructor(private readonly signal: AbortSignal | undefined) {}

  /** True once a stop was asked for; yields to the event loop first when it is time. */
  async requested(): Promise<boolean> {
    if (this.seen) return true;
    if (performance.now() - this.lastYield >= YIELD_EVERY_MS) {
      await yieldToEventLoop();
      this.lastYield = performance.now();
    }
    if (this.signal?.aborted === true || takeStopRequest()) this.seen = true;
    return this.seen;
  }

  /** Whether a stop has been seen (without polling). */
  get stopped(): boolean {
    return this.seen;
  }
}
