/**
 * Plotly, loaded from the page's own copy the first time a chart is drawn (it is large: the page
 * paints without it).
 */

export interface PlotlyApi {
  react(target: HTMLElement, data: unknown[], layout: Record<string, unknown>, config?: Record<string, unknown>): Promise<unknown>;
}

let loading: Promise<PlotlyApi> | undefined;

export function plotly(): Promise<PlotlyApi> {
  loading ??= new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = 'plotly.min.js';
    script.onload = () => resolve((window as unknown as { Plotly: PlotlyApi }).Plotly);
    script.onerror = () => reject(new Error('plotly.min.js did not load'));
    document.head.appendChild(script);
  });
  return loading;
}

/** Draws `data` into `target` (replacing what was there), without Plotly's mode bar. */
export async function draw(target: HTMLElement, data: unknown[], layout: Record<string, unknown>): Promise<void> {
  const api = await plotly();
  await api.react(target, data, { margin: { l: 50, r: 20, t: 40, b: 40 }, height: 260, ...layout }, { displayModeBar: false, responsive: true });
}
