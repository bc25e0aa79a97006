/**
 * Static export of plots: renders plotly figures to PNG in headless Chromium (Debian package
 * `chromium`), through playwright-core, which drives an installed browser and downloads none.
 * plotly.js renders the figure itself (`Plotly.toImage`), so the PNG is what the notebook shows;
 * it is then stored as a palette image (viz/png-palette.ts).
 */
import * as fs from 'fs';
import { EinError } from '../core/diagnostics';
import type { Figure } from './figure';
import { plotlyLibraryPath } from './plotly-html';
import { compactPng } from './png-palette';

/** Renders figures to PNG; `close` ends the browser. */
export interface PngRenderer {
  render(figure: Figure): Promise<Buffer>;
  close(): Promise<void>;
}

/**
 * Where a Chromium is: `EINNET_CHROMIUM`, else the usual Debian/Ubuntu/Chrome paths; undefined if
 * none, or when `EINNET_CHROMIUM=none` (turns PNG export off).
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.EINNET_CHROMIUM === 'none') return undefined;
  const candidates = [env.EINNET_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];
  return candidates.find((p): p is string => p !== undefined && p !== '' && fs.existsSync(p));
}

/** Flags for a quiet, sandbox-free headless browser that never reaches the network on its own. */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Starts headless Chromium with plotly.js loaded in one page; figures are rendered one by one.
 * playwright gives the browser a fresh temporary profile (user data dir) and removes it on close.
 * @throws EinError EIN6008 when no Chromium is found or it does not start.
 */
export async function openPngRenderer(executablePath: string | undefined = findChromium()): Promise<PngRenderer> {
  if (executablePath === undefined) {
    throw new EinError({
      code: 'EIN6008',
      message: 'no Chromium found to render plots to PNG',
      hint: 'install it (Debian/Ubuntu: apt-get install chromium) or set EINNET_CHROMIUM=/path/to/chrome',
    });
  }
  // A dev dependency, loaded only when exporting.
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  let browser: import('playwright-core').Browser;
  try {
    browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_FLAGS });
  } catch (e) {
    throw new EinError({
      code: 'EIN6008',
      message: `Chromium at ${executablePath} did not start: ${String((e as Error).message).split('\n')[0]}`,
      hint: 'check that it runs: chromium --headless --no-sandbox --dump-dom about:blank',
    });
  }
  const page = await browser.newPage();
  await page.setContent('<!doctype html><html><body></body></html>');
  await page.addScriptTag({ path: plotlyLibraryPath() });
  return {
    async render(figure: Figure): Promise<Buffer> {
      const width = typeof figure.layout.width === 'number' ? figure.layout.width : 700;
      const height = typeof figure.layout.height === 'number' ? figure.layout.height : 450;
      const url = await page.evaluate(
        ({ fig, w, h }) => {
          const plotly = (globalThis as unknown as { Plotly: { toImage(f: unknown, o: unknown): Promise<string> } }).Plotly;
          return plotly.toImage(fig, { format: 'png', width: w, height: h });
        },
        { fig: { data: figure.data, layout: figure.layout, config: figure.config ?? {} }, w: width, h: height },
      );
      return compactPng(Buffer.from(url.slice(url.indexOf(',') + 1), 'base64'));
    },
    async close(): Promise<void> {
      await browser.close();
    },
  };
}
