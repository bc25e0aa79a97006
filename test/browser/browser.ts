/**
 * The browser tests' machinery: builds dist/browser (the bundle and the test bundles) so that a
 * broken bundle fails the tests, serves it (and docs/examples) from 127.0.0.1 on an ephemeral port (WebGPU needs a
 * secure context; localhost is one), and drives headless Chromium with playwright-core, WebGPU and
 * WebGL on SwiftShader (software: the same on every machine, slow), or on the GPU with
 * EINNET_BROWSER_GPU=1.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.EINNET_CHROMIUM ?? '/usr/bin/chromium';
/**
 * EINNET_BROWSER_GPU=1: Chromium uses the machine's GPU (WebGPU and WebGL through Vulkan, the GPU
 * blocklist ignored) instead of SwiftShader, its software renderer. For real timings from
 * `npm run bench:browser`; the tests pass either way.
 */
export const USE_GPU = process.env.EINNET_BROWSER_GPU === '1';
const SWIFTSHADER_FLAGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-webgpu-adapter=swiftshader',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--no-sandbox',
];
const GPU_FLAGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-angle=vulkan', '--ignore-gpu-blocklist', '--enable-gpu', '--no-sandbox'];
/** Chromium's flags for WebGPU and WebGL: SwiftShader, or the machine's GPU with EINNET_BROWSER_GPU=1. */
export const CHROMIUM_FLAGS = USE_GPU ? GPU_FLAGS : SWIFTSHADER_FLAGS;

/** Why the browser suites are skipped here, or undefined when they run. */
export const SKIP_REASON = existsSync(CHROMIUM)
  ? undefined
  : `no Chromium at ${CHROMIUM} (apt-get install chromium, as .ci/system-packages does, or set EINNET_CHROMIUM)`;

const ROOT = join(__dirname, '..', '..');
/** Served beside the bundle: the HTML examples of docs/browser.md. */
const EXAMPLES = join(ROOT, 'docs', 'examples');

const TYPES: Record<string, string> = {
  '.mjs': 'text/javascript',
  '.js': 'text/javascript',
  '.html': 'text/html',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
};

/**
 * Builds einnet.mjs and the test bundles (esbuild: a few seconds) with the build of `npm run
 * build`, into a folder of this session's own (test files run in parallel).
 */
export function buildBundles(): string {
  const out = mkdtempSync(join(tmpdir(), 'einnet-browser-'));
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-browser.mjs'), '--tests', '--out', out], { cwd: ROOT, stdio: 'pipe' });
  return out;
}

function serve(dist: string, extra: Readonly<Record<string, string>>): Promise<Server> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = Object.hasOwn(extra, path)
      ? extra[path]
      : [join(dist, path), join(EXAMPLES, path)].find(
          (f) => (f.startsWith(dist + sep) || f.startsWith(EXAMPLES + sep)) && existsSync(f) && statSync(f).isFile(),
        );
    if (path === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    if (path === '/blank.html' || file === undefined) {
      res.writeHead(path === '/blank.html' ? 200 : 404, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>einnet</title>');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

export interface BrowserSession {
  readonly browser: Browser;
  readonly page: Page;
  readonly origin: string;
  /** Console errors and page errors seen so far. */
  readonly errors: string[];
  /** Imports the module at `url` (served path) in the page and calls its export `fn` with `args`. */
  call<T>(url: string, fn: string, ...args: unknown[]): Promise<T>;
  close(): Promise<void>;
}

export interface SessionOptions {
  /** More files to serve: URL path (e.g. `/data/t10k-labels-idx1-ubyte`) → file on disk. */
  readonly files?: Readonly<Record<string, string>>;
}

/** Builds, serves and opens a page at `path` (default an empty page on the server's origin). */
export async function openSession(path = '/blank.html', options: SessionOptions = {}): Promise<BrowserSession> {
  const dist = buildBundles();
  const server = await serve(dist, options.files ?? {});
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(origin + path);
  return {
    browser,
    page,
    origin,
    errors,
    // A string, not a function: vitest rewrites `import()` inside functions it transforms.
    call: <T>(url: string, fn: string, ...args: unknown[]) =>
      page.evaluate(`import(${JSON.stringify(url)}).then((m) => m[${JSON.stringify(fn)}](...${JSON.stringify(args)}))`) as Promise<T>,
    async close() {
      await browser.close();
      await new Promise((resolve) => server.close(resolve));
      rmSync(dist, { recursive: true, force: true });
    },
  };
}
