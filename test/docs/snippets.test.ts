/**
 * Every TypeScript/JavaScript snippet of README.md and docs/*.md runs: each fenced ```ts,
 * ```typescript, ```js or ```javascript block is run on the cpu backend, in a temporary working
 * directory (files a snippet writes land there; a `photo.png` is put there for docs/datasets.md).
 * A block preceded by `<!-- continues the block above -->` runs in one scope with the blocks
 * before it, like notebook cells. A block preceded by `<!-- not run: reason -->` is skipped and
 * listed; the reason says which other test runs it or why it cannot run in Node. A block that is
 * neither run nor marked fails, named by file:line. Other kinds (```ein is run by
 * test/dsl/check/docs-examples.test.ts; ```sh, ```python, ```html) are not run here.
 *
 * Imports of 'einnet' resolve to the package's source entry (index.ts); other imports are
 * ordinary Node imports. TypeScript is stripped with esbuild; `console` output is captured.
 */
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transform } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../index';

process.env.EINNET_BACKEND = 'cpu';

const root = join(__dirname, '..', '..');
const files = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const CODE = /^(ts|typescript|js|javascript)$/;

interface Block {
  file: string;
  line: number;
  code: string;
  notRun?: string;
  continues: boolean;
}

function blocksOf(file: string): Block[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]);
    if (!open) continue;
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    if (CODE.test(open[1])) {
      let prev = i - 1;
      while (prev >= 0 && lines[prev].trim() === '') prev--;
      const marker = prev >= 0 ? lines[prev].trim() : '';
      const notRun = /^<!-- not run: (.*\S) -->$/.exec(marker)?.[1];
      out.push({ file, line: i + 1, code: lines.slice(i + 1, end).join('\n'), notRun, continues: marker === '<!-- continues the block above -->' });
    }
    i = end;
  }
  return out;
}

/** `import … from 'm'` → `const … = await __import('m')`, so the snippet runs as a function body. */
function rewriteImports(js: string): string {
  return js.replace(/^import\s+([\s\S]*?)\s+from\s+['"]([^'"]+)['"];?$/gm, (_, what: string, from: string) => {
    const mod = `await __import(${JSON.stringify(from)})`;
    if (what.startsWith('* as ')) return `const ${what.slice(5)} = ${mod};`;
    if (what.startsWith('{')) return `const ${what.replace(/\s+as\s+/g, ': ')} = ${mod};`;
    return `const ${what} = (${mod}).default;`;
  });
}

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<void>;

async function importFor(from: string): Promise<unknown> {
  if (from === 'einnet') return import('../../index');
  return import(from);
}

async function run(blocks: Block[], logged: string[]): Promise<void> {
  const ts = blocks.map((b) => b.code).join('\n');
  const { code } = await transform(ts, { loader: 'ts', format: 'esm', target: 'es2022' });
  const fakeConsole = { ...console, log: (...a: unknown[]) => logged.push(a.map(String).join(' ')) };
  await new AsyncFunction('__import', 'console', rewriteImports(code))(importFor, fakeConsole);
}

const all = files.flatMap(blocksOf);
let cwd = '';
let dir = '';

beforeAll(() => {
  cwd = process.cwd();
  dir = mkdtempSync(join(tmpdir(), 'einnet-snippets-'));
  copyFileSync(join(root, 'datasets', 'images', 'chelsea.png'), join(dir, 'photo.png'));
  process.chdir(dir);
});

// A snippet may pick another backend (docs/native-backend.md); the next one starts on cpu again.
afterEach(async () => {
  await useBackend('cpu');
});

afterAll(() => {
  process.chdir(cwd);
  rmSync(dir, { recursive: true, force: true });
});

describe('README and docs snippets', () => {
  it('finds the snippets, and every block not run states why', () => {
    expect(all.length).toBeGreaterThan(15);
    for (const b of all) if (b.notRun !== undefined) expect(b.notRun.length, `${b.file}:${b.line}`).toBeGreaterThan(10);
  });

  all.forEach((block, k) => {
    const where = `${block.file}:${block.line}`;
    if (block.notRun !== undefined) {
      it.skip(`${where} (not run: ${block.notRun})`, () => {});
      return;
    }
    it(`${where} runs`, async () => {
      const cells: Block[] = [block];
      for (let j = k; all[j].continues && j > 0 && all[j - 1].file === block.file; j--) cells.unshift(all[j - 1]);
      const logged: string[] = [];
      await run(cells, logged);
    }, 180_000);
  });
});
