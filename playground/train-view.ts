/**
 * The Train panel: model choice, steps, batch size and learning rate; a progress bar, live loss and
 * accuracy curves, a Stop button (stops at the next batch); after training the test accuracy, a
 * confusion matrix, and the filters and activations of a chosen layer for a chosen test image.
 */
import { EinError, sgd, type Model, type Optimizer } from '../browser';
import { draw } from './plotly';
import { heatmapCanvas } from './tables';
import { activationsOf, lenetModel, loadMnist, predict, programWithHead, train, type Mnist } from './trainer';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export interface ProgramSource {
  readonly source: string;
  readonly shapes?: Readonly<Record<string, readonly number[]>>;
}

export class TrainPanel {
  private mnist?: Promise<Mnist>;
  private model?: Model;
  private optimizer?: Optimizer;
  private controller?: AbortController;
  private activations?: Record<string, { shape: number[]; data: Float32Array }>;
  private stepsDone = 0;
  /** The test image whose activations are shown. */
  private image?: { index: number; label: number };

  constructor(private readonly current: () => ProgramSource) {
    $('train').addEventListener('click', () => void this.start());
    $('stop').addEventListener('click', () => {
      if (this.controller === undefined) return;
      // The step that was running when Stop was pressed: training ends after it.
      $('train-status').dataset.stopRequestedAt = String(this.stepsDone);
      this.controller.abort();
    });
    $('inspect-layer').addEventListener('change', () => this.showLayer());
    $('inspect-image').addEventListener('change', () => void this.inspect());
  }

  /** Starts loading the MNIST subset. */
  preload(): void {
    this.mnist ??= loadMnist();
    // A failure is reported when training awaits it, not as an unhandled rejection now.
    this.mnist.catch(() => undefined);
  }

  get running(): boolean {
    return this.controller !== undefined;
  }

  private status(text: string): void {
    $('train-status').textContent = text;
  }

  private build(batch: number): Model {
    if ($<HTMLSelectElement>('train-model').value === 'lenet') return lenetModel(batch);
    const { source, shapes } = this.current();
    return programWithHead(source, shapes ?? {}, batch);
  }

  async start(): Promise<void> {
    if (this.running) return;
    const steps = Math.max(1, Math.floor(Number($<HTMLInputElement>('train-steps').value) || 100));
    const batch = Math.max(1, Math.floor(Number($<HTMLInputElement>('train-batch').value) || 32));
    const lr = Number($<HTMLInputElement>('train-lr').value) || 0.05;
    this.controller = new AbortController();
    $<HTMLButtonElement>('train').disabled = true;
    $<HTMLButtonElement>('stop').disabled = false;
    $<HTMLProgressElement>('train-progress').value = 0;
    $('train-status').dataset.state = 'running';
    this.stepsDone = 0;
    try {
      this.status('loading the MNIST subset…');
      this.mnist ??= loadMnist();
      const data = await this.mnist;
      this.model?.dispose();
      this.optimizer?.dispose();
      this.model = this.build(batch);
      this.optimizer = sgd({ learningRate: lr, momentum: 0.9 });
      const losses: number[] = [];
      const accuracies: number[] = [];
      const testPoints: [number, number][] = [];
      const t0 = performance.now();
      const done = await train(this.model, this.optimizer, data.train, {
        steps,
        batchSize: batch,
        signal: this.controller.signal,
        onStep: async (info) => {
          this.stepsDone = info.step;
          losses.push(info.loss);
          accuracies.push(info.batchAccuracy);
          $<HTMLProgressElement>('train-progress').value = (100 * info.step) / info.steps;
          const seconds = (performance.now() - t0) / 1000;
          const accuracy = `${(100 * info.batchAccuracy).toFixed(0)}%`;
          this.status(`step ${info.step}/${info.steps} · loss ${info.loss.toFixed(4)} · batch accuracy ${accuracy} · ${seconds.toFixed(1)} s`);
          $('train-status').dataset.losses = JSON.stringify(losses);
          if (info.step % 50 === 0) testPoints.push([info.step, await this.testAccuracy(data)]);
          if (info.step % 20 === 0 || info.step === info.steps) await this.curves(losses, accuracies, testPoints);
        },
      });
      const stopped = this.controller.signal.aborted;
      const predicted = await predict(this.model, data.test);
      const accuracy = predicted.reduce((n, p, i) => n + (p === data.test.labels[i] ? 1 : 0), 0) / predicted.length;
      testPoints.push([done, accuracy]);
      await this.curves(losses, accuracies, testPoints);
      const seconds = (performance.now() - t0) / 1000;
      this.status(
        `${stopped ? `stopped at step ${done}` : `done: ${done} steps`} in ${seconds.toFixed(1)} s · last loss ${losses.at(-1)?.toFixed(4) ?? '–'} · ` +
          `test accuracy ${(100 * accuracy).toFixed(1)}% on ${predicted.length} images`,
      );
      await this.confusion(predicted, data.test.labels);
      this.controller = undefined;
      await this.inspect();
      $('train-status').dataset.steps = String(done);
      $('train-status').dataset.state = stopped ? 'stopped' : 'done';
    } catch (e) {
      $('train-status').dataset.state = 'error';
      this.status(e instanceof EinError ? `${e.code}: ${e.summary}${e.hint ? ` — fix: ${e.hint}` : ''}` : `training failed: ${String(e)}`);
    } finally {
      this.controller = undefined;
      $<HTMLButtonElement>('train').disabled = false;
      $<HTMLButtonElement>('stop').disabled = true;
    }
  }

  private async testAccuracy(data: Mnist): Promise<number> {
    const predicted = await predict(this.model!, data.test);
    return predicted.reduce((n, p, i) => n + (p === data.test.labels[i] ? 1 : 0), 0) / predicted.length;
  }

  private async curves(losses: number[], accuracies: number[], testPoints: [number, number][]): Promise<void> {
    const steps = losses.map((_, i) => i + 1);
    const smooth = accuracies.map((_, i) => {
      const window = accuracies.slice(Math.max(0, i - 9), i + 1);
      return window.reduce((a, b) => a + b, 0) / window.length;
    });
    await draw($('loss-chart'), [{ x: steps, y: losses, mode: 'lines', name: 'batch loss' }], {
      title: { text: 'training loss' },
      xaxis: { title: { text: 'step' } },
    });
    await draw(
      $('accuracy-chart'),
      [
        { x: steps, y: smooth, mode: 'lines', name: 'batch (last 10)' },
        { x: testPoints.map((p) => p[0]), y: testPoints.map((p) => p[1]), mode: 'lines+markers', name: 'test' },
      ],
      { title: { text: 'accuracy' }, xaxis: { title: { text: 'step' } }, yaxis: { range: [0, 1] } },
    );
  }

  private async confusion(predicted: Int32Array, labels: Int32Array): Promise<void> {
    const matrix = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
    predicted.forEach((p, i) => matrix[labels[i]][p]++);
    $('confusion').dataset.matrix = JSON.stringify(matrix);
    const digits = matrix.map((_, k) => String(k));
    await draw(
      $('confusion'),
      [
        {
          type: 'heatmap',
          z: matrix,
          x: digits,
          y: digits,
          colorscale: [
            [0, '#f7fbff'],
            [1, '#08306b'],
          ],
          texttemplate: '%{z}',
          showscale: false,
        },
      ],
      {
        title: { text: 'confusion matrix (test)' },
        xaxis: { title: { text: 'predicted' } },
        yaxis: { title: { text: 'true' }, autorange: 'reversed' },
        height: 360,
      },
    );
  }

  /** Reads the activations of the chosen test image and lists the layers. */
  private async inspect(): Promise<void> {
    if (this.model === undefined || this.running) return;
    const data = await this.mnist!;
    const index = Math.min(Math.max(0, Math.floor(Number($<HTMLInputElement>('inspect-image').value) || 0)), data.test.count - 1);
    this.activations = await activationsOf(this.model, data.test, index);
    const select = $<HTMLSelectElement>('inspect-layer');
    const previous = select.value;
    const layers = Object.keys(this.activations).filter((n) => this.activations![n].shape.length === 4 && n !== this.model!.inputNames[0]);
    select.replaceChildren(...layers.map((n) => new Option(n, n)));
    if (layers.includes(previous)) select.value = previous;
    this.image = { index, label: data.test.labels[index] };
    this.showLayer();
  }

  private showLayer(): void {
    const model = this.model;
    const acts = this.activations;
    if (model === undefined || acts === undefined) return;
    const layer = $<HTMLSelectElement>('inspect-layer').value;
    const target = $('inspect');
    target.replaceChildren();
    const image = acts[model.inputNames[0]];
    const row = (title: string, maps: HTMLElement[]) => {
      const h = document.createElement('div');
      h.textContent = title;
      const box = document.createElement('div');
      box.className = 'maps';
      box.append(...maps);
      target.append(h, box);
    };
    const figure = (canvas: HTMLCanvasElement, caption: string) => {
      const f = document.createElement('figure');
      const c = document.createElement('figcaption');
      c.textContent = caption;
      f.append(canvas, c);
      return f;
    };
    row(`test image ${this.image?.index} (label ${this.image?.label})`, [figure(heatmapCanvas(image.data, 28, 28, { gray: true, scale: 3 }), 'input')]);
    const a = acts[layer];
    if (a === undefined) return;
    const [, h, w, c] = a.shape;
    const channel = (j: number) => {
      const values = new Float32Array(h * w);
      for (let k = 0; k < h * w; k++) values[k] = a.data[k * c + j];
      return values;
    };
    row(
      `activations of ${layer} ${JSON.stringify(a.shape)}`,
      Array.from({ length: Math.min(c, 32) }, (_, j) => figure(heatmapCanvas(channel(j), h, w, { scale: Math.max(2, Math.floor(84 / h)) }), `${j}`)),
    );
    const filters = [...model.params].find(([name, v]) => name.startsWith(`${layer}.`) && v.shape.length === 4);
    if (filters !== undefined) void this.showFilters(filters[0], filters[1].data() as Promise<Float32Array>, filters[1].shape, row, figure);
  }

  private async showFilters(
    name: string,
    values: Promise<Float32Array>,
    shape: number[],
    row: (title: string, maps: HTMLElement[]) => void,
    figure: (c: HTMLCanvasElement, caption: string) => HTMLElement,
  ): Promise<void> {
    const data = await values;
    const [kh, kw, cin, cout] = shape;
    const filter = (j: number) => Float32Array.from({ length: kh * kw }, (_, k) => data[k * cin * cout + j]);
    row(
      `filters ${name} ${JSON.stringify(shape)} (input channel 0)`,
      Array.from({ length: Math.min(cout, 32) }, (_, j) => figure(heatmapCanvas(filter(j), kh, kw, { scale: 10 }), `${j}`)),
    );
  }
}
