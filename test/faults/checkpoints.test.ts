/**
 * Checkpoint faults: concurrent writers, killed writers, damaged weights files, malformed or
 * hostile manifests, partial loads and disposed models. Each `it` is one fault; the truth is the
 * writers' own models (built again here from their seeds) and literal expected errors.
 *
 * Two races are forced in one exact interleaving through `node:fs`, whose readFileSync runs a
 * hook after a read of a `model.json` when a test arms one (and is fs's own otherwise).
 */
import * as tf from '@tensorflow/tfjs';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadCheckpoint, loadOptimizer, saveCheckpoint } from '../../models/checkpoint';
import type { Model } from '../../models/model';
import { adam, sgd } from '../../models/optimizers';
import { trainStep } from '../../models/train';
import { failure, failureAsync, useWasm, values } from '../models/helpers';
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
const SAVER = join(__dirname, 'fixtures', 'save-checkpoints.ts');
const SAVE_ONCE = join(__dirname, 'fixtures', 'save-checkpoint-once.ts');

beforeAll(useWasm);
const root = mkdtempSync(join(tmpdir(), 'einnet-ckpt-faults-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every variable's values by name. */
function snapshot(m: Model): Map<string, number[]> {
  return new Map([...m.namedVariables()].map(([n, v]) => [n, values(v)]));
}

function sameValues(a: Map<string, number[]>, b: Map<string, number[]>): boolean {
  return a.size === b.size && [...a].every(([n, v]) => b.has(n) && v.every((x, k) => Object.is(x, b.get(n)![k])));
}

/** A pid that surely belongs to no running process: a child that has exited. */
function deadPid(): number {
  const run = spawnSync(process.execPath, ['-e', '']);
  return run.pid!;
}

function manifestOf(dir: string): Record<string, unknown> & { weightsManifest: Array<{ paths: string[]; weights: Array<Record<string, unknown>> }> } {
  return JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
}

describe('checkpoint faults: concurrent and killed writers', () => {
  it("three processes saving different models to one folder at once leave one complete checkpoint equal to one writer's model", async () => {
    const seeds = [11, 12, 13];
    const dir = join(root, 'shared');
    const sync = join(root, 'shared-sync');
    mkdirSync(sync);
    const expected = seeds.map((s) => {
      const m = checkpointModel(s);
      const snap = snapshot(m);
      m.dispose();
      return snap;
    });
    const children = seeds.map((seed) => {
      const child = spawn(TSX, [SAVER, dir, String(seed), sync, '2500'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      return new Promise<{ code: number | null; out: string }>((done) => child.on('close', (code) => done({ code, out })));
    });
    const readyBy = Date.now() + 90_000;
    while (!seeds.every((s) => existsSync(join(sync, `ready-${s}`))) && Date.now() < readyBy) await new Promise((r) => setTimeout(r, 20));
    writeFileSync(join(sync, 'go'), '');
    // Load while the writers save: every load is a complete checkpoint of one writer.
    const reader = checkpointModel(99);
    let finished = false;
    const all = Promise.all(children).finally(() => (finished = true));
    let loads = 0;
    let failures = 0;
    while (!finished) {
      await new Promise((r) => setTimeout(r, 10));
      if (!existsSync(join(dir, 'model.json'))) continue;
      try {
        loadCheckpoint(reader, dir);
        loads++;
        const got = snapshot(reader);
        expect(expected.some((e) => sameValues(e, got))).toBe(true);
      } catch (e) {
        failures++;
        throw e;
      }
    }
    const results = await all;
    for (const r of results) expect(r.code, r.out).toBe(0);
    // tfjs may print a banner on stdout; the count is on its own line.
    const saves = results.map((r) => Number(/saves=(\d+)/.exec(r.out)?.[1] ?? 0));
    expect(Math.min(...saves), saves.join()).toBeGreaterThan(5);
    expect(failures).toBe(0);
    expect(loads).toBeGreaterThan(0);
    // After the storm: exactly one weights file, no temporary files or markers, loads as one writer's model.
    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toBe('model.json');
    expect(files[1]).toMatch(/^weights-[0-9a-f]{16}-[0-9a-f]{8}\.bin$/);
    const report = loadCheckpoint(reader, dir);
    const winner = expected.findIndex((e) => sameValues(e, snapshot(reader)));
    expect(winner).toBeGreaterThanOrEqual(0);
    expect(report.metadata).toEqual({ seed: seeds[winner] });
    reader.dispose();
  }, 120_000);

  it("temporary files and save markers of dead writer processes are removed by the next save; a live process's are kept", async () => {
    const m = checkpointModel(1);
    const dir = join(root, 'killed');
    await saveCheckpoint(m, dir);
    const dead = deadPid();
    const live = process.ppid;
    const leftovers = [
      `weights-0123456789abcdef.bin.tmp-${dead}-1a2b3c4d`,
      `model.json.tmp-${dead}-0badf00d`,
      `weights-0123456789abcdef.bin.saving-${dead}-00c0ffee`,
    ];
    const inFlight = [`weights-fedcba9876543210.bin.tmp-${live}-1a2b3c4d`, `weights-fedcba9876543210.bin.saving-${live}-1a2b3c4d`];
    for (const f of [...leftovers, ...inFlight]) writeFileSync(join(dir, f), Buffer.alloc(64));
    // The weights file a live writer announced but has not committed yet must survive too.
    writeFileSync(join(dir, 'weights-fedcba9876543210.bin'), Buffer.alloc(64));
    await saveCheckpoint(m, dir);
    const after = readdirSync(dir);
    for (const f of leftovers) expect(after, f).not.toContain(f);
    for (const f of inFlight) expect(after, f).toContain(f);
    expect(after).toContain('weights-fedcba9876543210.bin');
    const other = checkpointModel(2);
    loadCheckpoint(other, dir);
    expect(sameValues(snapshot(other), snapshot(m))).toBe(true);
    [m, other].forEach((x) => x.dispose());
  });

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

describe('checkpoint faults: damaged and hostile files', () => {
  async function saved(name: string, seed = 1): Promise<{ dir: string; model: Model }> {
    const model = checkpointModel(seed);
    const dir = join(root, name);
    await saveCheckpoint(model, dir);
    return { dir, model };
  }

  it("a weights file with flipped bytes at the same size is EIN4004 (its name's SHA-256 does not match), no NaN weights loaded", async () => {
    const { dir, model } = await saved('flipped');
    const bin = readdirSync(dir).find((f) => f.endsWith('.bin'))!;
    const bytes = readFileSync(join(dir, bin));
    bytes.fill(0xff, 100, 140); // float32 0xffffffff is NaN
    writeFileSync(join(dir, bin), bytes);
    const target = checkpointModel(2);
    const before = snapshot(target);
    const e = failure(() => loadCheckpoint(target, dir));
    expect(e.code).toBe('EIN4004');
    expect(e.message).toContain(`${bin} is damaged: its SHA-256 begins`);
    expect(e.message).toContain(`its name says ${bin.slice(8, 24)}`);
    expect(sameValues(snapshot(target), before)).toBe(true);
    [model, target].forEach((x) => x.dispose());
  });

  it('loading with the wrong optimizer is EIN4003 and changes no parameter (all or nothing)', async () => {
    const model = checkpointModel(1);
    const opt = adam({ learningRate: 0.01 });
    const x = tf.randomNormal([2, 16], 0, 1, 'float32', 3);
    const y = tf.tensor1d([1, 4], 'int32');
    trainStep(model, opt, x, y);
    const dir = join(root, 'wrong-optimizer');
    await saveCheckpoint(model, dir, { optimizer: opt });
    const target = checkpointModel(2);
    const before = snapshot(target);
    const wrong = sgd({ learningRate: 0.1, momentum: 0.9 });
    const numTensors = tf.memory().numTensors;
    const e = failure(() => loadCheckpoint(target, dir, { optimizer: wrong }));
    expect(e.code).toBe('EIN4003');
    expect(e.message).toContain('holds adam state, the optimizer given is sgd');
    expect(sameValues(snapshot(target), before)).toBe(true);
    expect(tf.memory().numTensors).toBe(numTensors);
    // Without optimizer state in the checkpoint: the same, nothing assigned.
    const plain = join(root, 'no-optimizer');
    await saveCheckpoint(model, plain);
    expect(failure(() => loadCheckpoint(target, plain, { optimizer: wrong })).message).toContain('holds no optimizer state');
    expect(sameValues(snapshot(target), before)).toBe(true);
    tf.dispose([x, y]);
    [opt, wrong].forEach((o) => o.dispose());
    [model, target].forEach((m) => m.dispose());
  });

  it('a quantized manifest entry is EIN4004, not dequantized wrongly', async () => {
    const { dir, model } = await saved('quantized');
    const manifest = manifestOf(dir);
    manifest.weightsManifest[0].weights[0].quantization = { dtype: 'uint8', scale: 0.01, min: -1 };
    writeFileSync(join(dir, 'model.json'), JSON.stringify(manifest));
    const e = failure(() => loadCheckpoint(model, dir));
    expect(e.code).toBe('EIN4004');
    expect(e.message).toContain(`tensor ${String(manifest.weightsManifest[0].weights[0].name)} is quantized`);
    model.dispose();
  });

  const withOptimizer = (m: object, optimizer: object) => ({ ...m, userDefinedMetadata: { einnet: { optimizer } } });
  const malformed: Array<[string, (m: ReturnType<typeof manifestOf>) => unknown, string]> = [
    ['null', () => null, 'holds null, not a JSON object'],
    ['a number', () => 7, 'holds number, not a JSON object'],
    ['weights missing', (m) => ({ ...m, weightsManifest: [{ paths: m.weightsManifest[0].paths }] }), 'weightsManifest[0].weights is missing'],
    ['paths missing', (m) => ({ ...m, weightsManifest: [{ weights: m.weightsManifest[0].weights }] }), 'weightsManifest[0].paths is not'],
    ['a group that is null', (m) => ({ ...m, weightsManifest: [null] }), 'weightsManifest[0] is not an object'],
    ['a string shape', (m) => ((m.weightsManifest[0].weights[0].shape = '16,64'), m), 'has shape "16,64", not a list of non-negative integers'],
    ['a negative extent', (m) => ((m.weightsManifest[0].weights[0].shape = [-16, -64]), m), 'has shape [-16,-64]'],
    ['a fractional extent', (m) => ((m.weightsManifest[0].weights[0].shape = [16.5, 64]), m), 'has shape [16.5,64]'],
    ['an int32 dtype', (m) => ((m.weightsManifest[0].weights[0].dtype = 'int32'), m), 'has dtype "int32"; einnet checkpoints hold float32 tensors only'],
    ['an entry without a name', (m) => (delete m.weightsManifest[0].weights[0].name, m), 'holds an entry without a name'],
    ['optimizer config null', (m) => withOptimizer(m, { name: 'sgd', config: null, iterations: 1 }), 'optimizer.config is null'],
    ['optimizer iterations a string', (m) => withOptimizer(m, { name: 'sgd', config: {}, iterations: '3' }), 'iterations is "3"'],
    ['sizes that do not match the file', (m) => ((m.weightsManifest[0].weights[0].shape = [16, 65]), m), 'the manifest describes'],
  ];
  it.each(malformed)('a manifest with %s is EIN4004 saying what is wrong, not a TypeError', async (label, edit, says) => {
    const { dir, model } = await saved(`malformed-${label.replace(/\W+/g, '-')}`);
    writeFileSync(join(dir, 'model.json'), JSON.stringify(edit(manifestOf(dir))));
    const target = checkpointModel(2);
    const before = snapshot(target);
    const e = failure(() => loadCheckpoint(target, dir, { optimizer: sgd({ learningRate: 1 }) }));
    expect(e.code).toBe('EIN4004');
    expect(e.message).toContain(says);
    expect(sameValues(snapshot(target), before)).toBe(true);
    [model, target].forEach((m) => m.dispose());
  });

  it('manifest paths outside the checkpoint folder (../x, absolute) are EIN4004 and not read', async () => {
    const { dir, model } = await saved('escape');
    const bin = readdirSync(dir).find((f) => f.endsWith('.bin'))!;
    // A valid weights file outside the folder: it must not be read through the manifest.
    writeFileSync(join(root, bin), readFileSync(join(dir, bin)));
    for (const p of [`../${bin}`, join(root, bin), `sub/../../${bin}`, '.']) {
      const manifest = manifestOf(dir);
      manifest.weightsManifest[0].paths = [p];
      writeFileSync(join(dir, 'model.json'), JSON.stringify(manifest));
      const e = failure(() => loadCheckpoint(model, dir));
      expect(e.code, p).toBe('EIN4004');
      expect(e.message).toContain(`weights path ${JSON.stringify(p)} is outside the checkpoint folder`);
    }
    model.dispose();
  });

  it('saving a disposed model, or loading into one, is EIN4009', async () => {
    const { dir, model } = await saved('disposed');
    const gone = checkpointModel(3);
    gone.dispose();
    const s = await failureAsync(() => saveCheckpoint(gone, join(root, 'disposed-save')));
    expect(s.code).toBe('EIN4009');
    expect(s.message).toContain('saveCheckpoint: the model was disposed');
    expect(existsSync(join(root, 'disposed-save'))).toBe(false);
    expect(failure(() => loadCheckpoint(gone, dir)).code).toBe('EIN4009');
    expect(failure(() => loadOptimizer(gone, dir)).code).toBe('EIN4009');
    model.dispose();
  });
});
