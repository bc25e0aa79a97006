/**
 * Builds einnet for web pages: browser.ts → dist/browser/einnet.mjs, one ES module with no bare
 * imports (tfjs and its webgpu, webgl, wasm and cpu backends inside), and the tfjs wasm binaries
 * copied beside it, where the bundle looks for them. Fails when anything the bundle reaches
 * imports a Node built-in (fs, path, crypto, …): the browser path must not.
 *
 *   node scripts/build-browser.mjs                  # the library bundle
 *   node scripts/build-browser.mjs --tests          # also the test pages (test/browser/pages, bench/browser-page.ts)
 *   node scripts/build-browser.mjs --out DIR        # into DIR instead (each test session its own)
 */
import { build } from 'esbuild';
import { builtinModules } from 'node:module';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const outFlag = process.argv.indexOf('--out');
const OUT = outFlag >= 0 ? resolve(process.argv[outFlag + 1]) : join(ROOT, 'dist', 'browser');
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/**
 * Refuses any Node built-in imported by einnet's own code, naming the file. Packages in
 * node_modules (tfjs' optional file sources, seedrandom's crypto) guard theirs at run time and map
 * them away in their package.json `browser` field, which esbuild applies.
 */
const noNodeBuiltins = {
  name: 'no-node-builtins',
  setup(b) {
    b.onResolve({ filter: /^(node:)?[a-z_]+(\/[a-z_]+)?$/ }, (args) => {
      if (!BUILTINS.has(args.path) || args.importer.includes('/node_modules/')) return undefined;
      return {
        errors: [{ text: `'${args.path}' is a Node built-in, imported by ${args.importer.replace(ROOT + '/', '')}: the browser bundle cannot use it` }],
      };
    });
  },
};

/**
 * viz/display.ts writes rich output to a Jupyter kernel (fit's live progress and curves in a
 * notebook) and needs Node's fs and crypto. A page has no kernel (`richOutputAvailable()` is false
 * there, so fit never makes a DisplayHandle): the bundle carries a DisplayHandle that says so.
 */
const notebookOnly = {
  name: 'notebook-only',
  setup(b) {
    b.onResolve({ filter: /(^|\/)display$/ }, (args) => {
      if (resolve(args.resolveDir, args.path) !== join(ROOT, 'viz', 'display')) return undefined;
      return { path: 'display', namespace: 'notebook-only' };
    });
    b.onLoad({ filter: /.*/, namespace: 'notebook-only' }, () => ({
      contents: "export class DisplayHandle { constructor() { throw new Error('notebook display: there is no Jupyter kernel in a web page'); } }",
      loader: 'js',
    }));
  },
};

/**
 * Modules the test bundles stub out: the native backend (test/dsl/lower/harness.ts asks whether
 * its addon is built, which in a page it never is, and loads it only then).
 */
const testStubs = {
  name: 'test-stubs',
  setup(b) {
    b.onResolve({ filter: /backends\/native(\/addon)?$/ }, () => ({ path: 'native-stub', namespace: 'stub' }));
    b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
      contents: [
        'export function findAddon() { return undefined; }',
        "export function registerNativeBackend() { throw new Error('no native backend in a page'); }",
        'export function setNativeThreads() {}',
      ].join('\n'),
      loader: 'js',
    }));
  },
};

/**
 * A page-side test module imports einnet as `../../../browser` (typed by browser.ts); in the page
 * that import is the built bundle itself, `../einnet.mjs`, so those tests drive what `npm run
 * build` ships. Test helpers they import (the Node suites' harness) are bundled in.
 */
const builtBundle = {
  name: 'built-bundle',
  setup(b) {
    b.onResolve({ filter: /browser$/ }, (args) => {
      if (resolve(args.resolveDir, args.path) !== join(ROOT, 'browser')) return undefined;
      return { path: '../einnet.mjs', external: true };
    });
  },
};

/** Options shared by every bundle: ESM for the browser, tfjs' ESM builds, the wasm folder. */
function common(wasmBase) {
  return {
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    mainFields: ['module', 'browser', 'main'],
    define: { 'process.env.NODE_ENV': '"production"' },
    banner: { js: `const EINNET_WASM_BASE = new URL(${JSON.stringify(wasmBase)}, import.meta.url).href;` },
    logLevel: 'warning',
    legalComments: 'none',
    sourcemap: true,
  };
}

mkdirSync(OUT, { recursive: true });
await build({
  ...common('./'),
  entryPoints: [join(ROOT, 'browser.ts')],
  outfile: join(OUT, 'einnet.mjs'),
  plugins: [notebookOnly, noNodeBuiltins],
});
const wasmDir = join(ROOT, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
for (const f of readdirSync(wasmDir).filter((n) => n.endsWith('.wasm'))) copyFileSync(join(wasmDir, f), join(OUT, f));

if (process.argv.includes('--tests')) {
  // Page-side test modules written in plain JS import '../einnet.mjs': the bundle under test.
  const pages = join(ROOT, 'test', 'browser', 'pages');
  mkdirSync(join(OUT, 'tests'), { recursive: true });
  for (const f of readdirSync(pages).filter((n) => n.endsWith('.mjs'))) copyFileSync(join(pages, f), join(OUT, 'tests', f));
  for (const f of readdirSync(pages).filter((n) => n.endsWith('.ts'))) {
    await build({
      ...common('../'),
      entryPoints: [join(pages, f)],
      outfile: join(OUT, 'tests', f.replace(/\.ts$/, '.mjs')),
      plugins: [builtBundle, notebookOnly, testStubs, noNodeBuiltins],
    });
  }
  // The page of `npm run bench:browser` (bench/browser.ts).
  await build({
    ...common('../'),
    entryPoints: [join(ROOT, 'bench', 'browser-page.ts')],
    outfile: join(OUT, 'tests', 'bench.mjs'),
    plugins: [builtBundle, notebookOnly, noNodeBuiltins],
  });
}
