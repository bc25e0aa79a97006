/** Shared by the notebook tests: running the runner CLI, and judging PNGs. */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PNG } from 'pngjs';

export const ROOT = path.resolve(__dirname, '..', '..');

/** Runs `tsx <script> ...args` in the project; returns exit status and all output. */
export function runScript(
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 300_000,
): { status: number | null; output: string } {
  const tsxCli = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  const r = spawnSync(process.execPath, [tsxCli, path.join(ROOT, script), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** A fresh temporary folder, removed by the caller. */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `einnet-${prefix}-`));
}

/** Writes an nbformat-4 notebook; strings starting with 'md:' become markdown cells. */
export function writeNotebook(file: string, cells: readonly string[]): void {
  const nb = {
    cells: cells.map((c) =>
      c.startsWith('md:')
        ? { cell_type: 'markdown', metadata: {}, source: c.slice(3) }
        : { cell_type: 'code', metadata: {}, source: c, outputs: [], execution_count: null },
    ),
    metadata: {},
    nbformat: 4,
    nbformat_minor: 5,
  };
  fs.writeFileSync(file, JSON.stringify(nb, null, 1));
}

/** Decodes a PNG and counts pixels that differ clearly from its top-left (background) pixel. */
export function pngStats(png: Buffer): { width: number; height: number; foreground: number; distinctColours: number } {
  const img = PNG.sync.read(png);
  const bg = [img.data[0], img.data[1], img.data[2]];
  let foreground = 0;
  const colours = new Set<number>();
  for (let i = 0; i < img.data.length; i += 4) {
    const [r, g, b] = [img.data[i], img.data[i + 1], img.data[i + 2]];
    if (Math.abs(r - bg[0]) + Math.abs(g - bg[1]) + Math.abs(b - bg[2]) > 30) foreground++;
    colours.add((r << 16) | (g << 8) | b);
  }
  return { width: img.width, height: img.height, foreground, distinctColours: colours.size };
}
