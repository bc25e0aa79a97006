/**
 * The playground page in headless Chromium (WebGPU and WebGL on SwiftShader), one page for all
 * checks: it loads; a typed program shows the right shapes and LaTeX; a typed error shows its
 * code, the caret at the right column and a link into the error docs; the seed example runs to the
 * lecture's table; 100 training steps make the loss fall; Stop stops at the next batch; a shared
 * link reproduces the page. No console error or uncaught exception along the way. Writes the
 * screenshot docs/images/playground.png. Also type-checks the page's code (playground/tsconfig.json).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONV_VALID } from '../../playground/course-tables';
import { EXAMPLES } from '../../playground/examples';
import { serveFolder } from '../../scripts/playground';
import { buildPlayground } from '../../scripts/playground-build';
import { CHROMIUM, CHROMIUM_FLAGS, SKIP_REASON } from '../browser/browser';

const ROOT = join(__dirname, '..', '..');

/** `tsc` on the page's code (DOM types), started at once and awaited by the last test. */
function typeCheckPage(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const tsc = spawn(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', join(ROOT, 'playground', 'tsconfig.json')]);
    let output = '';
    tsc.stdout.on('data', (d) => (output += d));
    tsc.stderr.on('data', (d) => (output += d));
    tsc.on('close', (code) => resolve({ code, output }));
  });
}

describe.skipIf(SKIP_REASON !== undefined)(`the playground page in Chromium${SKIP_REASON ? ` (skipped: ${SKIP_REASON})` : ''}`, () => {
  let dir: string;
  let server: Server;
  let browser: Browser;
  let page: Page;
  let origin: string;
  const errors: string[] = [];
  let typeCheck: Promise<{ code: number | null; output: string }>;

  /** Replaces a field's text as typing would (input events, the page's completions). */
  async function typeInto(selector: string, text: string): Promise<void> {
    await page.fill(selector, '');
    await page.focus(selector);
    await page.keyboard.type(text);
  }

  /** Waits for the debounced analysis of what was typed. */
  const settle = () => page.waitForTimeout(600);

  beforeAll(async () => {
    typeCheck = typeCheckPage();
    dir = await buildPlayground(mkdtempSync(join(tmpdir(), 'einnet-playground-')));
    server = await serveFolder(dir, 0);
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: CHROMIUM_FLAGS,
    });
    page = await browser.newPage({ viewport: { width: 1366, height: 860 } });
    // The machine may be shared with other work: SwiftShader is slow, waits are generous.
    page.setDefaultTimeout(90_000);
    page.on('pageerror', (e) => errors.push(`uncaught: ${String(e)}`));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    // Offline: any request that leaves the page's own server fails the test.
    await page.route(
      (url) => !url.href.startsWith(origin) && !url.href.startsWith('data:'),
      (route) => {
        errors.push(`request outside the build: ${route.request().url()}`);
        return route.abort();
      },
    );
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loads, runs the seed example 5×5 ⊛ 3×3 and shows the lecture table beside the computed one', async () => {
    await page.goto(`${origin}/`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    await page.waitForSelector('#run-status[data-done="true"]', { timeout: 60_000 });
    expect(await page.getAttribute('#backend-status', 'data-backend')).toBe('webgpu');
    const values = JSON.parse((await page.getAttribute('#outputs [data-tensor="L1"]', 'data-values'))!);
    // The lecture's table: [[12, 12, 17], [10, 17, 19], [9, 6, 14]].
    expect(values).toEqual(CONV_VALID);
    expect(await page.textContent('#expected .match')).toContain('the same as the lecture');
    expect(await page.locator('#latex .katex').count()).toBe(1);
    mkdirSync(join(ROOT, 'docs', 'images'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'docs', 'images', 'playground.png') });
  }, 150_000);

  it('shows the shapes with each axis’ provenance, and the LaTeX, of a typed program (\\cdot and Dx completed)', async () => {
    await typeInto('#program', 'Y[b,j:4] = W[I,j] \\cdot X[b,I] + B[j]\nZ[b,k:3] = V[Dx:2,k] · Y[b,Dx+1]');
    await typeInto('#shapes', 'X: [2, 3]');
    await settle();
    expect(await page.inputValue('#program')).toBe('Y[b,j:4] = W[I,j] · X[b,I] + B[j]\nZ[b,k:3] = V[Δx:2,k] · Y[b,Δx+1]');
    const row = (name: string) => page.locator(`#panel-shapes tr[data-tensor="${name}"] td`).allInnerTexts();
    expect((await row('W'))[2]).toBe('[3, 4]');
    expect((await row('Y'))[2]).toBe('[2, 4]');
    expect((await row('Z'))[2]).toBe('[2, 3]');
    expect((await row('V'))[2]).toBe('[2, 3]');
    expect((await row('X'))[3]).toBe('2 ← bound X: [2,3]; 3 ← bound X: [2,3]');
    expect((await row('W'))[3]).toBe('3 ← range of I: X axis 1 (bound X: [2,3]) at 1:21; 4 ← range of j: annotation j:4 at 1:5');
    const latex = (await page.getAttribute('#latex', 'data-latex'))!;
    expect(latex).toContain('\\Delta x');
    expect(latex).toContain('\\cdot');
    expect(await page.locator('#latex .katex-error').count()).toBe(0);
    expect(await page.locator('#diagnostics .error').count()).toBe(0);
    expect(await page.textContent('#backward')).toMatch(/dW\[I,\s*j\]/);
    expect(await page.textContent('#explain')).toContain('on webgpu');
  }, 120_000);

  it('shows a typed error: its code, message, the span underlined at the right column, the fix line and the docs link', async () => {
    const source = 'Y[b,j:4] = W[I,j] · X[b,I]\nZ[b,k] = V[Δx:3,k] · Y[b,Δx]';
    await typeInto('#program', source);
    await settle();
    const error = page.locator('#diagnostics .error').first();
    expect(await error.getAttribute('data-code')).toBe('EIN2004');
    expect(await error.getAttribute('data-line')).toBe('2');
    // The second Δx, the read of Y's axis of extent 4, is where the ranges disagree.
    const column = source.split('\n')[1].lastIndexOf('Δx') + 1;
    expect(await error.getAttribute('data-column')).toBe(String(column));
    expect(await error.innerText()).toMatch(/two different ranges: 3 and 4[\s\S]*fix: /);
    const excerpt = (await error.locator('pre.excerpt').innerText()).split('\n');
    const caretLine = excerpt[excerpt.length - 1];
    const sourceLine = excerpt[excerpt.length - 2];
    expect(caretLine.indexOf('^') - sourceLine.indexOf('Z[')).toBe(column - 1);
    // The overlay underlines exactly the span: the text before it ends where the span starts.
    // (Page code as a string: the test is type-checked without DOM types.)
    const marked = await page.evaluate(`(() => {
      const mark = document.querySelector('#program-highlight .err-span');
      const range = document.createRange();
      range.setStart(document.getElementById('program-highlight'), 0);
      range.setEndBefore(mark);
      return { before: range.toString().length, text: mark.textContent };
    })()`);
    expect(marked).toEqual({ before: source.lastIndexOf('Δx'), text: 'Δx' });
    const href = (await error.locator('a.code').getAttribute('href'))!;
    expect(href).toBe('errors.html#ein2004');
    const docs = await page.evaluate((h) => fetch(h).then((r) => r.text()), href);
    expect(docs).toMatch(/<h3 id="ein2004">EIN2004 — extent conflict<\/h3>/);
    // A line of the shapes field that is not a shape: EIN6021, that line underlined.
    await typeInto('#shapes', 'X: [2, 3]\nW: [3, four]');
    await settle();
    const shapeError = page.locator('#diagnostics .error').first();
    expect(await shapeError.getAttribute('data-code')).toBe('EIN6021');
    expect(await shapeError.getAttribute('data-line')).toBe('2');
    expect(await page.locator('#shapes-highlight .err-span').innerText()).toBe('W: [3, four]');
    expect(await page.locator('#program-highlight .err-span').count()).toBe(0);
  }, 120_000);

  it('trains the typed program with a classifier head for 100 steps on the MNIST subset: the loss falls', async () => {
    await page.selectOption('#backend', 'wasm');
    await page.waitForSelector('#backend-status[data-backend="wasm"]', { timeout: 30_000 });
    await typeInto('#program', 'C[b,x,y,j:4] = relu(C.W[Dx:5,Dy:5,I,j] · L0[b,2*x+Dx,2*y+Dy,I] + C.B[j])');
    await typeInto('#shapes', 'L0: [1, 28, 28, 1]');
    await settle();
    await page.click('#tab-train');
    await page.selectOption('#train-model', 'program');
    await page.fill('#train-steps', '100');
    await page.fill('#train-batch', '16');
    await page.click('#train');
    await page.waitForSelector('#train-status[data-state="done"]', { timeout: 150_000 });
    const losses: number[] = JSON.parse((await page.getAttribute('#train-status', 'data-losses'))!);
    expect(losses).toHaveLength(100);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(0, 10))).toBeGreaterThan(1.5);
    expect(mean(losses.slice(-20))).toBeLessThan(0.7 * mean(losses.slice(0, 10)));
    const matrix: number[][] = JSON.parse((await page.getAttribute('#confusion', 'data-matrix'))!);
    expect(matrix.flat().reduce((a, b) => a + b, 0)).toBe(500);
    // The layer's four activation maps and four 5×5 filters, beside the test image.
    expect(await page.inputValue('#inspect-layer')).toBe('C');
    expect(await page.locator('#inspect canvas').count()).toBe(1 + 4 + 4);
    expect(await page.locator('#loss-chart .main-svg').count()).toBeGreaterThan(0);
  }, 180_000);

  it('stops LeNet-5 training after the batch that runs when Stop is pressed', async () => {
    await page.selectOption('#train-model', 'lenet');
    await page.fill('#train-steps', '5000');
    await page.fill('#train-batch', '8');
    await page.click('#train');
    await page.waitForFunction(`JSON.parse(document.getElementById('train-status').dataset.losses ?? '[]').length >= 3`, undefined, { timeout: 60_000 });
    await page.click('#stop');
    await page.waitForSelector('#train-status[data-state="stopped"]', { timeout: 60_000 });
    const requestedAt = Number(await page.getAttribute('#train-status', 'data-stop-requested-at'));
    const done = Number(await page.getAttribute('#train-status', 'data-steps'));
    expect(requestedAt).toBeGreaterThanOrEqual(3);
    // The batch running when Stop was pressed finishes; no other starts.
    expect(done).toBeGreaterThanOrEqual(requestedAt);
    expect(done).toBeLessThanOrEqual(requestedAt + 1);
    expect(await page.textContent('#train-status')).toContain(`stopped at step ${done}`);
    expect(await page.isDisabled('#stop')).toBe(true);
    // LeNet's layers, and C1's six activation maps and six filters.
    await page.selectOption('#inspect-layer', 'C1');
    expect(await page.locator('#inspect canvas').count()).toBe(1 + 6 + 6);
  }, 120_000);

  it('reproduces program, shapes and backend from a shared link', async () => {
    await typeInto('#program', 'P[x,y] = max[Δx:2,Δy:2] X[2*x+Δx, 2*y+Δy]');
    await typeInto('#shapes', 'X: [6, 8]');
    await settle();
    const link = page.url();
    await page.goto('about:blank');
    await page.goto(link, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    expect(await page.inputValue('#program')).toBe('P[x,y] = max[Δx:2,Δy:2] X[2*x+Δx, 2*y+Δy]');
    expect(await page.inputValue('#shapes')).toBe('X: [6, 8]');
    expect((await page.locator('#panel-shapes tr[data-tensor="P"] td').allInnerTexts())[2]).toBe('[3, 4]');
    await page.waitForSelector('#backend-status[data-backend="wasm"]', { timeout: 30_000 });
  }, 120_000);

  it('shows every course example’s lecture table beside the computed one, and they agree', async () => {
    const ids = ((await page.evaluate(`[...document.querySelectorAll('#example option')].map((o) => o.value)`)) as string[]).filter(Boolean);
    expect(ids).toEqual(EXAMPLES.map((e) => e.id));
    for (const example of EXAMPLES) {
      await page.selectOption('#example', example.id);
      await page.waitForSelector('#expected .match, #expected .mismatch', { timeout: 90_000 });
      expect(await page.textContent('#expected'), example.title).toContain('the same as the lecture');
      expect(await page.inputValue('#program')).toBe(example.program);
    }
    // Random tensors, run from the keyboard: a 28×28 output is drawn as a heatmap.
    await page.selectOption('#example', 'grouping');
    await page.selectOption('#bind-mode', 'random');
    await page.focus('#program');
    await page.keyboard.press('Control+Enter');
    await page.waitForSelector('#run-status[data-done="true"]', { timeout: 90_000 });
    expect(await page.textContent('#run-status')).toMatch(/^wasm: [0-9.]+ ms .*random: L0, W$/);
    expect(await page.locator('#outputs [data-tensor="L1"] canvas').count()).toBe(1);
  }, 240_000);

  it('saw no console error or uncaught exception, and no request outside the build', () => {
    expect(errors).toEqual([]);
  });

  it('type-checks the page code (playground/tsconfig.json: DOM types)', async () => {
    const { code, output } = await typeCheck;
    expect(output).toBe('');
    expect(code).toBe(0);
  }, 120_000);
});
