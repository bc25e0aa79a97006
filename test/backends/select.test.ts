/**
 * Backend selection (backends/select.ts): explicit choice, the EINNET_BACKEND override, the
 * preference order, and the messages for a backend that is not installed or not a backend.
 * The optional tfjs-node packages are not installed on these machines (their install downloads
 * libtensorflow), which is exactly the case the messages are for.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { BACKEND_ORDER, EinError, activeBackend, availableBackends, useBackend } from '../../index';
import { backendFromEnvironment } from '../../backends/select';

function failure(f: () => unknown): EinError {
  try {
    f();
  } catch (e) {
    return e as EinError;
  }
  throw new Error('expected an error');
}

async function asyncFailure(f: () => Promise<unknown>): Promise<EinError> {
  try {
    await f();
  } catch (e) {
    return e as EinError;
  }
  throw new Error('expected an error');
}

describe('backend selection', () => {
  afterAll(async () => {
    await useBackend('cpu');
  });

  it('activates the backend asked for and reports it', async () => {
    const wasm = await useBackend('wasm');
    expect(wasm).toMatchObject({ name: 'wasm', tfjsName: 'wasm', provider: '@tensorflow/tfjs-backend-wasm' });
    expect(tf.getBackend()).toBe('wasm');
    expect(activeBackend().name).toBe('wasm');
    const cpu = await useBackend('cpu');
    expect(cpu.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });

  it('prefers the first available backend of the documented order', async () => {
    // useBackend first: it loads backends/native with import(), which works under vitest, where
    // availableBackends' synchronous require of a TypeScript file does not (compiled, both do).
    const chosen = await useBackend();
    const available = availableBackends();
    expect(available).toContain('wasm');
    expect(available).toContain('cpu');
    // Order is preserved: the list is BACKEND_ORDER filtered.
    expect(available).toEqual(BACKEND_ORDER.filter((b) => available.includes(b)));
    expect(chosen.name).toBe(available[0]);
  });

  it('EINNET_BACKEND names the backend; an unknown name is EIN3001 listing the choices', () => {
    expect(backendFromEnvironment({ EINNET_BACKEND: 'WASM ' })).toBe('wasm');
    expect(backendFromEnvironment({})).toBeUndefined();
    const e = failure(() => backendFromEnvironment({ EINNET_BACKEND: 'tpu' }));
    expect(e).toBeInstanceOf(EinError);
    expect(e.code).toBe('EIN3001');
    expect(e.message).toContain('gpu, node, native, wasm, cpu');
  });

  it('a backend that is not installed is EIN3002 saying how to install it', async () => {
    for (const name of ['gpu', 'node'] as const) {
      if (availableBackends().includes(name)) continue;
      const e = await asyncFailure(() => useBackend(name));
      expect(e).toBeInstanceOf(EinError);
      expect(e.code).toBe('EIN3002');
      expect(e.message).toContain(`npm install @tensorflow/tfjs-${name === 'gpu' ? 'node-gpu' : 'node'}`);
    }
  });

  it('webgpu and webgl are EIN3002 in Node, pointing at the browser bundle', async () => {
    for (const name of ['webgpu', 'webgl'] as const) {
      const e = await asyncFailure(() => useBackend(name));
      expect(e.code).toBe('EIN3002');
      expect(e.message).toContain('docs/browser.md');
    }
  });

  it('an unknown name passed to useBackend is EIN3001', async () => {
    const e = await asyncFailure(() => useBackend('tpu' as never));
    expect(e.code).toBe('EIN3001');
  });
});
