/**
 * `npm run playground`: builds the playground page into dist/playground/ and serves it on
 * 127.0.0.1 (WebGPU needs a secure context; localhost is one), printing the address.
 *
 *   npm run playground                   # build, serve on port 4173
 *   npm run playground -- --port 8080    # another port (0: any free one)
 *   npm run playground -- --build-only   # build, do not serve
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { EinError } from '../index';
import { buildPlayground } from './playground-build';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.idx': 'application/octet-stream',
  '.png': 'image/png',
};

/** Serves the files of `dir` on 127.0.0.1:`port` (0: a free port). */
export function serveFolder(dir: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    let path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (path.endsWith('/')) path += 'index.html';
    const file = join(dir, path);
    if (!file.startsWith(dir + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new EinError({
          code: 'EIN6020',
          message: `cannot serve the playground on port ${port}: ${e.code === 'EADDRINUSE' ? 'the port is in use' : e.message}`,
          hint: 'pass another port with --port N (0 picks a free one)',
        }),
      ),
    );
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function portOption(argv: readonly string[]): number {
  const k = argv.indexOf('--port');
  if (k < 0) return 4173;
  const port = Number(argv[k + 1]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new EinError({ code: 'EIN6020', message: `--port must be a port number 0–65535, got ${String(argv[k + 1])}`, hint: 'e.g. --port 8080' });
  }
  return port;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const port = portOption(argv);
  const t0 = performance.now();
  const dir = await buildPlayground();
  console.log(`built ${dir} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (argv.includes('--build-only')) return;
  const server = await serveFolder(dir, port);
  console.log(`einnet playground: http://127.0.0.1:${(server.address() as AddressInfo).port}/  (Ctrl+C stops)`);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
