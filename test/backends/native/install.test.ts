/**
 * Installation and configuration of the native backend: the install-time build script never
 * fails `npm install`, and thread counts are validated with einnet's own errors.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { EinError } from '../../../core/diagnostics';
import { setNativeThreads, threadsFromEnvironment } from '../../../backends/native/threads';
import { setNativeWinograd, winogradFromEnvironment } from '../../../backends/native/winograd';
import { ADDON_BUILT, SKIP_REASON } from './compare';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const SCRIPT = path.join(ROOT, 'scripts', 'build-native.js');

describe('scripts/build-native.js', () => {
  // --dry-run: a real build here would replace the addon other test files are loading.
  it('finds oneDNN where it is installed, exits 0 and prints one line (it is part of npm install)', () => {
    const run = spawnSync(process.execPath, [SCRIPT, '--dry-run'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
    const lines = run.stdout.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    if (ADDON_BUILT) expect(lines[0]).toMatch(/^einnet: (the native CPU backend is up to date|would build the native CPU backend)/);
  });

  it('on a machine without oneDNN: one quiet line, exit 0', () => {
    const env = { ...process.env, EINNET_DNNL_PREFIX: path.join(ROOT, 'no-such-onednn') };
    const run = spawnSync(process.execPath, [SCRIPT, '--force'], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('einnet: oneDNN not found, skipping the native CPU backend (optional; see docs/native-backend.md)\n');
  });

  it('does nothing at all with EINNET_SKIP_NATIVE=1', () => {
    const run = spawnSync(process.execPath, [SCRIPT, '--force'], { cwd: ROOT, env: { ...process.env, EINNET_SKIP_NATIVE: '1' }, encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout + run.stderr).toBe('');
  });
});

describe('Winograd setting', () => {
  it('EINNET_WINOGRAD is 0 or 1 (EIN3102)', () => {
    expect(winogradFromEnvironment({})).toBeUndefined();
    expect(winogradFromEnvironment({ EINNET_WINOGRAD: '0' })).toBe(false);
    expect(winogradFromEnvironment({ EINNET_WINOGRAD: ' 1 ' })).toBe(true);
    for (const bad of ['off', 'no', '2', 'false']) {
      expect(() => winogradFromEnvironment({ EINNET_WINOGRAD: bad })).toThrow(new RegExp(`EIN3102: EINNET_WINOGRAD is '${bad}', which is neither 0 nor 1`));
    }
  });

  it("setNativeWinograd and setNativeThreads are part of einnet's public API", async () => {
    const einnet = await import('../../../index');
    expect(einnet.setNativeWinograd).toBe(setNativeWinograd);
    expect(einnet.setNativeThreads).toBe(setNativeThreads);
  });

  it('setNativeWinograd takes only true or false (EIN3102)', () => {
    expect(() => setNativeWinograd('no' as unknown as boolean)).toThrow(/EIN3102: setNativeWinograd\(no\): the setting must be true or false/);
  });
});

describe('native thread count', () => {
  it('EINNET_THREADS must be a positive whole number (EIN3101)', () => {
    expect(threadsFromEnvironment({})).toBeUndefined();
    expect(threadsFromEnvironment({ EINNET_THREADS: ' 3 ' })).toBe(3);
    for (const bad of ['0', '-2', '1.5', 'many']) {
      let caught: unknown;
      try {
        threadsFromEnvironment({ EINNET_THREADS: bad });
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(EinError);
      expect((caught as EinError).code).toBe('EIN3101');
      expect((caught as EinError).message).toContain(`EINNET_THREADS is '${bad}'`);
    }
  });

  it('setNativeThreads rejects non-positive counts (EIN3101)', () => {
    expect(() => setNativeThreads(0)).toThrow(/EIN3101: setNativeThreads\(0\)/);
  });

  it.skipIf(!ADDON_BUILT)(`setNativeThreads sets oneDNN's OpenMP thread count${SKIP_REASON}`, () => {
    expect(setNativeThreads(1)).toBe(1);
    expect(setNativeThreads(2)).toBe(2);
  });
});
