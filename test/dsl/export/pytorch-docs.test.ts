/**
 * The example of docs/pytorch.md, section "Programs: p.toPyTorch()": its TypeScript block runs
 * (imports supplied, the file it writes caught), the forward() it lists is what toPyTorch writes,
 * and its Python block runs against that file with a Python that has torch (skipped, with the
 * reason in the name, where there is none).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findTorchPython } from '../../../core/python';
import { ein } from '../../../dsl';

const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'pytorch.md'), 'utf8');
const section = doc.slice(doc.indexOf('## Programs: p.toPyTorch()')).split(/\n## /)[0];
const blocks = [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], code: m[2] }));

/** Runs the TypeScript block with `ein` and a writeFileSync that records what it writes. */
function runTypeScriptBlock(): Record<string, string> {
  const written: Record<string, string> = {};
  const body = blocks[0].code.replace(/^import .*$/gm, '');
  new Function('ein', 'writeFileSync', body)(ein, (name: string, text: string) => (written[name] = text));
  return written;
}

describe('docs/pytorch.md: Programs: p.toPyTorch()', () => {
  it('has a TypeScript block, the forward() it writes and a Python block', () => {
    expect(blocks.map((b) => b.lang)).toEqual(['ts', 'python', 'python']);
  });

  it('lists the forward() that toPyTorch writes', () => {
    const written = runTypeScriptBlock();
    expect(Object.keys(written)).toEqual(['net.py']);
    expect(written['net.py']).toContain(blocks[1].code);
  });

  const python = findTorchPython();
  it.skipIf(python === undefined)('its Python block runs on the written file (needs a Python with torch, skipped without)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'einnet-doc-'));
    try {
      writeFileSync(join(dir, 'net.py'), runTypeScriptBlock()['net.py']);
      writeFileSync(join(dir, 'use.py'), blocks[2].code);
      const run = spawnSync(python!, ['use.py'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
      expect(run.stderr).toBe('');
      expect(run.stdout.trim()).toBe('torch.Size([14, 14, 8, 10])');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
