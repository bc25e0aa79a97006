/** PNG export of plots for the notebook runner and kernel: headless Chromium, in viz/png-render.ts. */
export { CHROMIUM_FLAGS, findChromium, openPngRenderer, type PngRenderer } from '../../viz/png-render';
