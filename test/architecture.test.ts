/**
 * The structure of the code, checked from its own imports: no import cycle, folders import only
 * the folders beneath them, the rest of the package reaches dsl/ through dsl/index.ts only, only
 * backends/ names a backend, no source file over 500 lines, no line over 160 characters.
 * Layers, lowest first (docs/architecture.md explains them):
 *   core → dsl (parse, check, derive, lower, reference) → backends → ops → dsl/run, dsl/program
 *   → datasets, viz → models → index.ts, browser.ts; scripts/ and bench/ stand on top.
 */
import { readFileSync, readdirSync, statSync } from 'fs';
import { dirname, join, normalize, relative } from 'path';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..');
const SOURCE_FOLDERS = ['core', 'dsl', 'ops', 'backends', 'datasets', 'viz', 'models', 'scripts', 'bench', 'playground'];

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'build' || name === 'dist') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(relative(ROOT, p));
  }
  return out;
}

const files = [...SOURCE_FOLDERS.flatMap((d) => walk(join(ROOT, d))), 'index.ts', 'browser.ts'];
const tsFiles = files.filter((f) => /\.ts$/.test(f) && !f.endsWith('.d.ts'));
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]*)['"]/gm;

function resolveImport(from: string, spec: string): string | undefined {
  const base = normalize(join(dirname(from), spec));
  return [`${base}.ts`, join(base, 'index.ts'), base].find((c) => tsFiles.includes(c));
}

/** file → the project files it imports (type-only imports included: they are arrows too). */
const graph = new Map<string, string[]>(
  tsFiles.map((f) => {
    const text = readFileSync(join(ROOT, f), 'utf8');
    const targets = [...text.matchAll(IMPORT)].map((m) => resolveImport(f, m[1])).filter((t): t is string => t !== undefined);
    return [f, [...new Set(targets)]];
  }),
);

/** Strongly connected components with more than one file (Tarjan). */
function cycles(): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    indices.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!));
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const f of graph.keys()) if (!indices.has(f)) visit(f);
  return found;
}

/** The layer of a file: a file may import its own layer and the ones below. */
function layer(file: string): number {
  const parts = file.split('/');
  if (parts[0] === 'dsl') return parts[1] === 'run' || parts[1] === 'program.ts' || parts[1] === 'index.ts' ? 4 : 1;
  const layers: Record<string, number> = {
    core: 0,
    backends: 2,
    ops: 3,
    datasets: 5,
    viz: 5,
    models: 6,
    'index.ts': 7,
    'browser.ts': 7,
    scripts: 8,
    bench: 8,
    playground: 8,
  };
  return layers[parts[0]];
}

describe('the structure of the code', () => {
  it('has no import cycle', () => {
    expect(cycles()).toEqual([]);
  });

  it('imports only downwards: core → dsl (parse…lower) → backends → ops → dsl/run → datasets, viz → models → index', () => {
    const upward: string[] = [];
    for (const [from, targets] of graph) {
      for (const to of targets) if (layer(to) > layer(from)) upward.push(`${from} → ${to}`);
    }
    expect(upward).toEqual([]);
  });

  it('reaches the language only through dsl/index.ts from outside dsl/', () => {
    const inside: string[] = [];
    for (const [from, targets] of graph) {
      if (from.startsWith('dsl/')) continue;
      for (const to of targets) if (to.startsWith('dsl/') && to !== 'dsl/index.ts') inside.push(`${from} → ${to}`);
    }
    expect(inside).toEqual([]);
  });

  it('builds the playground page on the browser bundle alone: playground/ imports only browser.ts', () => {
    const other: string[] = [];
    for (const [from, targets] of graph) {
      if (from.startsWith('playground/'))
        other.push(...targets.filter((to) => !to.startsWith('playground/') && to !== 'browser.ts').map((to) => `${from} → ${to}`));
    }
    expect(other).toEqual([]);
  });

  it('names a backend only inside backends/ (the rest asks backends/ what the active backend can do)', () => {
    const named: string[] = [];
    const backendName = /(['"`])(wasm|cpu|webgl|webgpu|tensorflow|einnet-native)\1|\bgetBackend\s*\(/;
    for (const f of tsFiles) {
      if (!/^(core|dsl|ops|datasets|viz|models)\//.test(f)) continue;
      readFileSync(join(ROOT, f), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          const code = line.replace(/\/\/.*$/, '').replace(/^\s*\*.*$/, '');
          if (backendName.test(code)) named.push(`${f}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(named).toEqual([]);
  });

  it('has no line over 160 characters, tests included (Prettier wraps code; comments and strings are wrapped by hand)', () => {
    const long: string[] = [];
    for (const f of [...files, ...walk(join(ROOT, 'test'))].filter((name) => /\.(ts|js|cc|h)$/.test(name))) {
      readFileSync(join(ROOT, f), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if ([...line].length > 160) long.push(`${f}:${i + 1}`);
        });
    }
    expect(long).toEqual([]);
  });

  it('has no source file over 500 lines', () => {
    const long = files
      .filter((f) => /\.(ts|js|cc|h)$/.test(f))
      .map((f) => ({ f, lines: readFileSync(join(ROOT, f), 'utf8').split('\n').length }))
      .filter(({ lines }) => lines > 500)
      .map(({ f, lines }) => `${f}: ${lines}`);
    expect(long).toEqual([]);
  });
});
