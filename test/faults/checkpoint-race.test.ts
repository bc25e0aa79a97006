/**
 * A checkpoint save racing another process's save, in one exact interleaving: the first save's
 * cleanup has read `model.json` (its own commit) when the other process saves a model whose bytes
 * are already in the folder, commits, and exits; then the first cleanup deletes what it found
 * unreferenced. The interleaving is forced by running the other process's whole save (a child,
 * synchronously) inside the first save's read of `model.json`. The truth: the last commit, the
 * other process's, loads complete and equals its model. And a load that finds `model.json`
 * replaced after every read gives up after 100 commits with an error that says so.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadCheckpoint, saveCheckpoint } from '../../models/checkpoint';
import type { Model } from '../../models/model';
import { useWasm, values } from '../models/helpers';
import { checkpointModel } from './fixtures/checkpoint-model';

/** Runs inside each read of a `model.json`, after the read, until it returns something but true. */
const hook = vi.hoisted(() => ({ afterManifestRead: undefined as (() => boolean | void) | undefined }));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const readFileSync = ((path: Parameters<typeof fs.readFileSync>[0], ...rest: unknown[]) => {
    const text = (fs.readFileSync as (...args: unknown[]) => unknown)(path, ...rest);
    const then = hook.afterManifestRead;
    if (then !== undefined && String(path).endsWith('model.json')) {
      hook.afterManifestRead = undefined; // the hook's own reads run it not again
      if (then() === true) hook.afterManifestRead = then;
    }
    return text;
  }) as typeof fs.readFileSync;
  return { ...fs, default: { ...fs, readFileSync }, readFileSync };
});

const ROOT = resolve(__dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const SAVE_ONCE = join(__dirname, 'fixtures', 'save-checkpoint-once.ts');

beforeAll(useWasm);
const root = mkdtempSync(join(tmpdir(), 'einnet-ckpt-race-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function snapshot(m: Model): Map<string, number[]> {
  return new Map([...m.namedVariables()].map(([n, v]) => [n, values(v)]));
}

describe('checkpoint saves racing', () => {
  it("a save's cleanup keeps the weights another process committed meanwhile, though their bytes were in the folder before", async () => {
    const dir = join(root, 'race');
    const first = checkpointModel(11);
    await saveCheckpoint(first, dir);
    const other = checkpointModel(12);
    hook.afterManifestRead = () => {
      // The first model again, saved by another process between this cleanup's read and its deletions.
      const run = spawnSync(TSX, [SAVE_ONCE, dir, '11'], { cwd: ROOT, encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
    };
    await saveCheckpoint(other, dir);
    expect(hook.afterManifestRead).toBeUndefined();
    const reader = checkpointModel(99);
    loadCheckpoint(reader, dir);
    expect(snapshot(reader)).toEqual(snapshot(first));
    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toBe('model.json');
    for (const m of [first, other, reader]) m.dispose();
  }, 60_000);

  it('a load starved by saves that never pause stops after 100 newer commits, with EIN4004 saying so', async () => {
    const dir = join(root, 'starved');
    const m = checkpointModel(11);
    await saveCheckpoint(m, dir);
    const [weights] = readdirSync(dir).filter((f) => f.startsWith('weights-'));
    rmSync(join(dir, weights));
    // Every read finds model.json replaced since (a new commit whose weights are gone again).
    let commits = 0;
    hook.afterManifestRead = () => {
      const manifest = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
      manifest.userDefinedMetadata.einnet.metadata = { commit: ++commits };
      writeFileSync(join(dir, 'model.json'), JSON.stringify(manifest));
      return true;
    };
    try {
      expect(() => loadCheckpoint(m, dir)).toThrow(
        /^EIN4004: load: .*model\.json was replaced 100 times while it was read: other processes save to .* without pause\nfix: load once the saves stop/,
      );
    } finally {
      hook.afterManifestRead = undefined;
    }
    expect(commits).toBeGreaterThanOrEqual(100);
    m.dispose();
  });
});
