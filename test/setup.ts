/**
 * Yield to the event loop before every test. Most tests here are synchronous tfjs work; without
 * a macrotask boundary a whole file runs without the worker reading vitest's RPC replies, and on a
 * loaded 2-core machine a file can pass vitest's fixed 60 s RPC timeout ("Timeout calling
 * onTaskUpdate") although every test passed.
 */
import { beforeEach } from 'vitest';

beforeEach(async () => {
  await new Promise<void>((resolve) => setImmediate(resolve));
});
