/**
 * Checkpoints: the tfjs weights-manifest format (read back here with tf.io.decodeWeights, as
 * another tool would), round trips of parameters, running statistics and optimizer state,
 * mismatch reports naming every difference, and atomic replacement.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetBuilder } from '../../models/builder';
import { convBn, dense, globalAvgPool } from '../../models/blocks';
import { loadCheckpoint, loadOptimizer, saveCheckpoint } from '../../models/checkpoint';
import { adam, sgd } from '../../models/optimizers';
import { trainStep } from '../../models/train';
import { failure, useWasm, values } from './helpers';

beforeAll(useWasm);
const root = mkdtempSync(join(tmpdir(), 'einnet-ckpt-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function smallNet(seed: number, width = 4) {
  const net = new NetBuilder({ X: [2, 6, 6, 1] });
  let h = net.add('c1', convBn({ out: width }), net.input('X'));
  h = net.add('g', globalAvgPool(), h);
  net.add('fc', dense({ out: 3 }), h);
  return net.build({ seed });
}

describe('save and load', () => {
  it('writes model.json + one weights file that tf.io.decodeWeights reads back by name', async () => {
    const m = smallNet(1);
    const dir = join(root, 'format');
    await saveCheckpoint(m, dir, { metadata: { epoch: 3 } });
    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toBe('model.json');
    expect(files[1]).toMatch(/^weights-[0-9a-f]{16}-[0-9a-f]{8}\.bin$/);
    const manifest = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(manifest.format).toBe('einnet-checkpoint');
    const group = manifest.weightsManifest[0];
    expect(group.paths).toEqual([files[1]]);
    const bytes = readFileSync(join(dir, files[1]));
    const decoded = tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length), group.weights);
    expect(Object.keys(decoded).sort()).toEqual([...m.namedVariables().keys()].sort());
    expect(values(decoded['c1.conv.W'])).toEqual(values(m.params.get('c1.conv.W')!));
    expect(decoded['c1.σ'].shape).toEqual([4]);
    expect(manifest.userDefinedMetadata.einnet.metadata).toEqual({ epoch: 3 });
    tf.dispose(Object.values(decoded));
    m.dispose();
  });

  it('round-trips parameters, running statistics and SGD momentum; training continues identically', async () => {
    const a = smallNet(1);
    const b = smallNet(2);
    const optA = sgd({ learningRate: 0.1, momentum: 0.9 });
    const x = tf.randomNormal([2, 6, 6, 1], 0, 1, 'float32', 5);
    const y = tf.tensor1d([0, 2], 'int32');
    const dir = join(root, 'roundtrip');
    try {
      trainStep(a, optA, x, y);
      trainStep(a, optA, x, y);
      await saveCheckpoint(a, dir, { optimizer: optA });
      expect(values(b.params.get('fc.W')!)).not.toEqual(values(a.params.get('fc.W')!));
      const optB = loadOptimizer(b, dir);
      const report = loadCheckpoint(b, dir, { optimizer: optB });
      expect(report.missing).toEqual([]);
      expect(optB.iterations).toBe(2);
      for (const [name, v] of a.namedVariables()) expect(values(b.namedVariables().get(name)!), name).toEqual(values(v));
      const la = trainStep(a, optA, x, y);
      const lb = trainStep(b, optB, x, y);
      expect(lb).toBeCloseTo(la, 6);
      expect(values(b.params.get('fc.W')!)).toEqual(values(a.params.get('fc.W')!));
      optB.dispose();
    } finally {
      tf.dispose([x, y]);
      optA.dispose();
      a.dispose();
      b.dispose();
    }
  });

  it('Adam state is restored too (m, v and the step count)', async () => {
    const a = smallNet(1);
    const opt = adam({ learningRate: 0.01 });
    const x = tf.randomNormal([2, 6, 6, 1], 0, 1, 'float32', 6);
    const y = tf.tensor1d([1, 2], 'int32');
    trainStep(a, opt, x, y);
    const dir = join(root, 'adam');
    await saveCheckpoint(a, dir, { optimizer: opt });
    const b = smallNet(9);
    const opt2 = adam({ learningRate: 0.01 });
    loadCheckpoint(b, dir, { optimizer: opt2 });
    expect(opt2.iterations).toBe(1);
    expect(values(opt2.state().get('fc.W/v')!)).toEqual(values(opt.state().get('fc.W/v')!));
    expect(failure(() => loadCheckpoint(b, dir, { optimizer: sgd({ learningRate: 1 }) })).message).toContain('holds adam state');
    tf.dispose([x, y]);
    [opt, opt2].forEach((o) => o.dispose());
    [a, b].forEach((m) => m.dispose());
  });

  it('a mismatched checkpoint lists every missing, unexpected and reshaped tensor (EIN4003)', async () => {
    const a = smallNet(1, 4);
    const dir = join(root, 'mismatch');
    await saveCheckpoint(a, dir);
    const wider = smallNet(1, 5);
    const e = failure(() => loadCheckpoint(wider, dir));
    expect(e.code).toBe('EIN4003');
    expect(e.message).toContain('c1.conv.W: model [3,3,1,5], checkpoint [3,3,1,4]');
    expect(e.message).toContain('fc.W: model [5,3], checkpoint [4,3]');
    expect(e.message).toContain('c1.μ: model [5], checkpoint [4]');
    // Nothing was loaded.
    expect(values(wider.params.get('fc.B')!)).toEqual([0, 0, 0]);
    const other = new NetBuilder({ X: [2, 6, 6, 1] });
    other.add('fc', dense({ out: 3 }), other.input('X'));
    const m2 = other.build();
    const f = failure(() => loadCheckpoint(m2, dir));
    expect(f.message).toMatch(/in the checkpoint but not in the model \(\d+\): c1\.conv\.W/);
    expect(f.message).toContain('fc.W: model [6,6,1,3], checkpoint [4,3]');
    // strict: false loads what matches and reports the rest.
    const r = loadCheckpoint(wider, dir, { strict: false });
    expect(r.loaded).toEqual(['fc.B']);
    expect(r.mismatched.map((x) => x.name)).toContain('fc.W');
    [a, wider, m2].forEach((m) => m.dispose());
  });

  it('missing, truncated or foreign files are EIN4004', async () => {
    const m = smallNet(1);
    expect(failure(() => loadCheckpoint(m, join(root, 'nowhere'))).code).toBe('EIN4004');
    const dir = join(root, 'truncated');
    await saveCheckpoint(m, dir);
    const bin = readdirSync(dir).find((f) => f.endsWith('.bin'))!;
    writeFileSync(join(dir, bin), readFileSync(join(dir, bin)).subarray(0, 10));
    const e = failure(() => loadCheckpoint(m, dir));
    expect(e.code).toBe('EIN4004');
    expect(e.message).toContain('hold 10 bytes');
    writeFileSync(join(dir, 'model.json'), '{"hello": 1}');
    expect(failure(() => loadCheckpoint(m, dir)).message).toContain('no weightsManifest');
    m.dispose();
  });

  it('an interrupted save leaves the previous checkpoint loadable; the next save cleans up', async () => {
    const a = smallNet(1);
    const dir = join(root, 'atomic');
    await saveCheckpoint(a, dir);
    const before = values(a.params.get('fc.W')!);
    // What a crash between the two renames, or during a write, leaves behind:
    writeFileSync(join(dir, 'weights-00000000deadbeef.bin'), Buffer.alloc(12));
    writeFileSync(join(dir, 'model.json.tmp-1-abcd'), '{"weightsMan');
    const b = smallNet(7);
    loadCheckpoint(b, dir);
    expect(values(b.params.get('fc.W')!)).toEqual(before);
    a.params.get('fc.W')!.assign(tf.zeros([4, 3]));
    await saveCheckpoint(a, dir);
    expect(existsSync(join(dir, 'weights-00000000deadbeef.bin'))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith('.bin'))).toHaveLength(1);
    loadCheckpoint(b, dir);
    expect(values(b.params.get('fc.W')!)).toEqual(Array(12).fill(0));
    a.dispose();
    b.dispose();
  });

  it('an unwritable destination is EIN4005 and leaves nothing behind', async () => {
    const m = smallNet(1);
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    const e = await saveCheckpoint(m, join(file, 'sub')).then(
      () => undefined,
      (err) => err,
    );
    expect(e.code).toBe('EIN4005');
    m.dispose();
  });
});
