/**
 * The backend selector and the native backend: EINNET_BACKEND=native picks it; an addon that is
 * missing or fails to load never stops einnet — the selector moves on to wasm, with one line
 * on stderr when a built addon fails to load (a missing or mismatched libdnnl) — but a bad
 * setting of the native backend's variables is the user's error, reported as such.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { ADDON_BUILT, SKIP_REASON } from './compare';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const FIXTURE = path.join(__dirname, 'fixtures', 'select-backend.ts');

/** Runs the fixture with `env` on top of ours (minus EINNET_* settings); returns stdout and stderr lines. */
function select(env: Record<string, string>): { stdout: string; stderr: string[] } {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EINNET_')));
  const run = spawnSync(TSX, [FIXTURE], { cwd: ROOT, env: { ...base, ...env }, encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  // tfjs' own banners are not ours to judge; keep only einnet's lines.
  return { stdout: run.stdout.trim(), stderr: run.stderr.split('\n').filter((l) => l.startsWith('einnet')) };
}

describe('backend selection with the native addon', () => {
  afterEach(() => {
    delete process.env.EINNET_BACKEND;
  });

  it.skipIf(!ADDON_BUILT)(`EINNET_BACKEND=native selects the oneDNN backend${SKIP_REASON}`, async () => {
    const { useBackend, activeBackend } = await import('../../../backends/select');
    process.env.EINNET_BACKEND = 'native';
    const info = await useBackend();
    expect(info).toEqual({ name: 'native', tfjsName: 'einnet-native', provider: 'einnet oneDNN addon (backends/native)' });
    expect(tf.getBackend()).toBe('einnet-native');
    expect(activeBackend().name).toBe('native');
  });

  it('an addon that fails to load gives one line on stderr and the next backend (wasm)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'einnet-addon-'));
    const bogus = path.join(dir, 'einnet_native.node');
    fs.writeFileSync(bogus, 'not a shared library');
    try {
      const { stdout, stderr } = select({ EINNET_NATIVE_ADDON: bogus });
      expect(JSON.parse(stdout).name).toBe('wasm');
      expect(stderr).toHaveLength(1);
      expect(stderr[0]).toMatch(/^einnet: native backend unavailable, using the next one: the oneDNN addon .*einnet_native\.node failed to load: /);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an addon that was never built is skipped quietly, and asking for it by name says how to get it', () => {
    const missing = path.join(os.tmpdir(), 'einnet-no-such-dir', 'einnet_native.node');
    const auto = select({ EINNET_NATIVE_ADDON: missing });
    expect(JSON.parse(auto.stdout).name).toBe('wasm');
    expect(auto.stderr).toEqual([]);
    const named = select({ EINNET_NATIVE_ADDON: missing, EINNET_BACKEND: 'native' });
    expect(named.stdout).toBe(
      "ERROR EIN3002: backend 'native' (einnet oneDNN addon (backends/native)) is not available: " +
        'the oneDNN addon is not built (install oneDNN, e.g. apt-get install libdnnl-dev, then run npm run build:native)',
    );
  });

  it.skipIf(!ADDON_BUILT)(`a bad EINNET_THREADS or EINNET_WINOGRAD is an error, not a silent move to wasm${SKIP_REASON}`, () => {
    expect(select({ EINNET_WINOGRAD: 'off' }).stdout).toBe("ERROR EIN3102: EINNET_WINOGRAD is 'off', which is neither 0 nor 1");
    expect(select({ EINNET_THREADS: 'many' }).stdout).toBe("ERROR EIN3101: EINNET_THREADS is 'many', which is not a thread count");
    expect(JSON.parse(select({ EINNET_WINOGRAD: '0', EINNET_THREADS: '1' }).stdout).name).toBe('native');
  });
});
