/**
 * A trainable model made of einnet programs.
 *
 * ## Training and evaluation modes
 * A model holds two programs over the same names:
 * - the **training program** computes batch statistics itself (`bn.μ[j] = mean[b,x,y] …`) and
 *   multiplies by dropout masks (`Y[b,j] = X[b,j] · drop.M[b,j]`);
 * - the **evaluation program** is the same text without the statements that assign the running
 *   statistics, so `bn.μ`, `bn.σ` become bound inputs, fed from the running averages.
 * Running statistics are non-trainable variables updated after each training step:
 * `running = momentum·running + (1 − momentum)·batch` (momentum 0.9 by default, PyTorch's 0.1 the
 * other way round). Dropout masks are inputs the model supplies: Bernoulli(1 − p)/(1 − p) in
 * training (inverted dropout), 1 in evaluation. Blocks (`blocks.ts`) write both programs; for a
 * hand-written program the evaluation program is derived by dropping the statistic statements.
 *
 * Parameters are every tensor the training program reads, never assigns and is not given (inputs,
 * masks, statistics excepted); their shapes are the checker's inferred shapes and their values
 * come from the declared initializers (`init.ts`), seeded.
 */
import * as tf from '@tensorflow/tfjs';
import { ein, printProgram, Program, type CheckReport } from '../dsl';
import { EinError } from '../core/diagnostics';
import { seededRandom, type Random } from '../core/random';
import { movingAverages } from '../ops/update';
import { initialTensor } from './init';
import { modelError, rejectUnknownOptions, shapeText } from './errors';

/** A running statistic: assigned by the training program, bound in evaluation. */
export interface RunningStatSpec {
  /** Weight of the old value in the moving average (default 0.9). */
  readonly momentum?: number;
  /** Starting value (default 0; a standard deviation should start at 1). */
  readonly init?: number;
}

export interface ModelOptions {
  /** The training-mode program (text or `ein` Program). */
  readonly program: string | Program;
  /** The evaluation-mode program; default: `program` without the running-statistic statements. */
  readonly evalProgram?: string | Program;
  /** Example shape of every input, batch axis first (any batch size works later). */
  readonly inputs: Readonly<Record<string, readonly number[]>>;
  /** The tensor `apply` returns. */
  readonly output: string;
  readonly runningStats?: Readonly<Record<string, RunningStatSpec>>;
  /** Dropout masks: mask tensor name → drop rate p in [0, 1). */
  readonly dropout?: Readonly<Record<string, number>>;
  /** Seed for initial parameters and dropout masks (default 0). */
  readonly seed?: number;
  /** Which axis of the inputs is the batch (default 0); its extent may change between calls. */
  readonly batchAxis?: number;
}

export interface ApplyOptions {
  /** Training mode: batch statistics and dropout (default false). */
  readonly training?: boolean;
}

let nextModelId = 0;

/** What a model would be, found by checking only: no tensor is allocated (for VGG-sized nets). */
export interface ModelShape {
  /** Every tensor's shape for the example inputs. */
  readonly shapes: Readonly<Record<string, readonly number[]>>;
  readonly outputShape: readonly number[];
  /** Trainable parameter names (masks and running statistics excluded). */
  readonly params: readonly string[];
  readonly parameterCount: number;
}

/** Checks a model's training program for its example inputs and counts its parameters. */
export function describeModel(options: ModelOptions): ModelShape {
  const program = asProgram(options.program);
  const report = program.check(options.inputs);
  const masks = new Set(Object.keys(options.dropout ?? {}));
  const params = report.params.filter((p) => !masks.has(p));
  const parameterCount = params.reduce((n, p) => n + report.shapes[p].reduce((a, b) => a * b, 1), 0);
  const outputShape = report.shapes[options.output];
  if (outputShape === undefined) throw modelError('EIN4001', 'describeModel', `output ${options.output} is not a tensor of the program`);
  return { shapes: report.shapes, outputShape, params, parameterCount };
}

function asProgram(p: string | Program): Program {
  return p instanceof Program ? p : ein(p);
}

/** The program without the statements that assign any of `names`. */
export function withoutStatements(program: Program, names: ReadonlySet<string>): Program {
  const statements = program.ast.statements.filter((s) => !(s.kind === 'assign' && names.has(s.target)));
  return ein(printProgram({ statements, source: '' }));
}

export class Model {
  readonly trainProgram: Program;
  readonly evalProgram: Program;
  readonly inputNames: readonly string[];
  readonly output: string;
  readonly seed: number;
  /** Trainable parameters by program name. */
  readonly params: ReadonlyMap<string, tf.Variable>;
  /** Running statistics by program name (not trainable; saved in checkpoints). */
  readonly stats: ReadonlyMap<string, tf.Variable>;
  readonly statSpecs: ReadonlyMap<string, Required<RunningStatSpec>>;
  readonly dropoutRates: ReadonlyMap<string, number>;
  /** The example input shapes the model was built with. */
  readonly inputShapes: Readonly<Record<string, readonly number[]>>;
  readonly batchAxis: number;
  private readonly noise: Random;
  private disposed = false;

  constructor(options: ModelOptions) {
    rejectUnknownOptions('EIN4001', 'Model', options, ['program', 'evalProgram', 'inputs', 'output', 'runningStats', 'dropout', 'seed', 'batchAxis']);
    if (options.program === undefined) throw modelError('EIN4001', 'Model', 'no program given', 'pass { program: ein`...` }');
    if (options.inputs === undefined || Object.keys(options.inputs).length === 0) {
      throw modelError('EIN4001', 'Model', 'no input shapes given', 'pass { inputs: { X: [1, 28, 28, 1] } } with an example shape per input');
    }
    this.trainProgram = asProgram(options.program);
    this.seed = options.seed ?? 0;
    this.batchAxis = options.batchAxis ?? 0;
    this.inputShapes = options.inputs;
    this.inputNames = Object.keys(options.inputs);
    this.output = options.output;
    this.noise = seededRandom((this.seed ^ 0x5bd1e995) >>> 0);
    const statSpecs = new Map<string, Required<RunningStatSpec>>();
    for (const [name, s] of Object.entries(options.runningStats ?? {})) {
      rejectUnknownOptions('EIN4001', `Model runningStats.${name}`, s, ['momentum', 'init']);
      const momentum = s.momentum ?? 0.9;
      if (!(momentum >= 0 && momentum < 1)) throw modelError('EIN4001', `Model runningStats.${name}`, `momentum ${momentum} is outside [0, 1)`);
      statSpecs.set(name, { momentum, init: s.init ?? 0 });
    }
    this.statSpecs = statSpecs;
    const rates = new Map<string, number>();
    for (const [name, p] of Object.entries(options.dropout ?? {})) {
      if (!(p >= 0 && p < 1))
        throw modelError('EIN4008', `dropout ${name}`, `rate ${p} is outside [0, 1)`, 'a rate is the fraction of units dropped, e.g. 0.5');
      rates.set(name, p);
    }
    this.dropoutRates = rates;
    this.evalProgram = options.evalProgram !== undefined ? asProgram(options.evalProgram) : withoutStatements(this.trainProgram, new Set(statSpecs.keys()));

    const report = this.trainProgram.check(this.inputShapes);
    if (!report.outputs.includes(this.output)) {
      throw modelError('EIN4001', 'Model', `output ${this.output} is not assigned by the program`, undefined, `one of ${report.outputs.join(', ')}`);
    }
    for (const name of statSpecs.keys()) {
      if (!report.outputs.includes(name))
        throw modelError(
          'EIN4001',
          'Model',
          `running statistic ${name} is not assigned by the training program`,
          'name a tensor the program computes, e.g. bn.μ',
        );
    }
    for (const name of rates.keys()) {
      if (!report.params.includes(name))
        throw modelError(
          'EIN4001',
          'Model',
          `dropout mask ${name} is not read by the training program (or is assigned)`,
          'multiply by it: Y[b,j] = X[b,j] · drop.M[b,j]',
        );
    }
    const id = nextModelId++;
    const params = new Map<string, tf.Variable>();
    for (const name of report.params) {
      if (rates.has(name)) continue;
      params.set(
        name,
        tf.tidy(() => tf.variable(initialTensor(report.checked, name, this.seed), true, `einnet${id}/${name}`)),
      );
    }
    this.params = params;
    const stats = new Map<string, tf.Variable>();
    for (const [name, spec] of statSpecs) {
      const shape = report.shapes[name];
      stats.set(
        name,
        tf.tidy(() => tf.variable(tf.fill([...shape], spec.init), false, `einnet${id}/${name}`)),
      );
    }
    this.stats = stats;

    // The evaluation program must read the same parameters; it may or may not read the masks.
    const evalShapes: Record<string, readonly number[]> = Object.assign(Object.create(null), this.inputShapes);
    for (const [name, v] of stats) evalShapes[name] = v.shape;
    const evalReport = this.evalProgram.check(evalShapes);
    if (!evalReport.outputs.includes(this.output)) throw modelError('EIN4001', 'Model', `the evaluation program does not assign the output ${this.output}`);
    const strange = evalReport.params.filter((p) => !params.has(p) && !rates.has(p));
    if (strange.length > 0) {
      throw modelError(
        'EIN4001',
        'Model',
        `the evaluation program reads ${strange.join(', ')}, which the training program does not have as parameters`,
        'both programs must use the same parameter names',
      );
    }
    this.evalMasks = new Set(evalReport.params.filter((p) => rates.has(p)));
  }

  /** Dropout masks the evaluation program still reads (bound to 1 there). */
  private readonly evalMasks: ReadonlySet<string>;

  /** The trainable variables, in the order the program first reads them. */
  get trainableVariables(): tf.Variable[] {
    return [...this.params.values()];
  }

  /** Number of trainable scalars (running statistics and masks not counted). */
  get parameterCount(): number {
    let n = 0;
    for (const v of this.params.values()) n += v.size;
    return n;
  }

  /** Shapes of every tensor of the training program for the given input shapes (default: the example shapes). */
  check(shapes: Readonly<Record<string, readonly number[]>> = this.inputShapes): CheckReport {
    return this.trainProgram.check(shapes);
  }

  private assertAlive(where: string): void {
    if (this.disposed) throw modelError('EIN4009', where, 'the model was disposed', 'build the model again');
  }

  /** Checks the given inputs against the example shapes; every extent but the batch must match. */
  private checkInputs(inputs: Readonly<Record<string, tf.Tensor>>, where: string): void {
    for (const name of this.inputNames) {
      if (!(inputs[name] instanceof tf.Tensor)) {
        throw modelError(
          'EIN4012',
          where,
          `no tensor for input ${name}`,
          `pass { ${this.inputNames.map((n) => `${n}: tf.Tensor${shapeText(this.inputShapes[n])}`).join(', ')} } (any batch size)`,
        );
      }
      const got = inputs[name].shape;
      const want = this.inputShapes[name];
      const ok = got.length === want.length && want.every((d, k) => k === this.batchAxis || d === got[k]);
      if (!ok) {
        const shown = want.map((d, k) => (k === this.batchAxis ? null : d));
        throw modelError(
          'EIN4006',
          where,
          `input ${name} has shape ${shapeText(got)}`,
          `reshape or resize it; axis ${this.batchAxis} (the batch) may have any extent`,
          shapeText(shown),
        );
      }
    }
    for (const name of Object.keys(inputs)) {
      if (!this.inputNames.includes(name))
        throw modelError('EIN4012', where, `the model has no input ${name}`, undefined, `inputs ${this.inputNames.join(', ')}`);
    }
  }

  /** Shapes of the dropout masks for these input shapes (masks are parameters of an unbound check). */
  private maskShapes(inputs: Readonly<Record<string, tf.Tensor>>): Map<string, number[]> {
    const shapes: Record<string, number[]> = Object.create(null);
    for (const n of this.inputNames) shapes[n] = inputs[n].shape;
    const report = this.trainProgram.check(shapes);
    const out = new Map<string, number[]>();
    for (const name of this.dropoutRates.keys()) out.set(name, [...report.shapes[name]]);
    return out;
  }

  /**
   * Runs the model and returns every tensor the program assigns (the caller owns them).
   * In training mode the running statistics are not updated here (see `updateRunningStats`).
   */
  forward(inputs: Readonly<Record<string, tf.Tensor>>, options: ApplyOptions = {}): Record<string, tf.Tensor> {
    return this.runProgram('Model.forward', inputs, options);
  }

  /** Runs the program of the mode `options` asks for; `outputs`: the assigned tensors returned (default all). */
  private runProgram(
    where: string,
    inputs: Readonly<Record<string, tf.Tensor>>,
    options: ApplyOptions,
    outputs?: readonly string[],
  ): Record<string, tf.Tensor> {
    this.assertAlive(where);
    rejectUnknownOptions('EIN4001', 'Model.apply', options, ['training']);
    this.checkInputs(inputs, options.training ? 'Model.apply (training)' : 'Model.apply');
    const training = options.training ?? false;
    // Null prototype: a parameter may be called `constructor` or `__proto__`.
    const bindings: Record<string, tf.Tensor> = Object.assign(Object.create(null), inputs);
    for (const [name, v] of this.params) bindings[name] = v;
    const made: tf.Tensor[] = [];
    if (this.dropoutRates.size > 0) {
      for (const [name, shape] of this.maskShapes(inputs)) {
        if (!training && !this.evalMasks.has(name)) continue;
        const rate = this.dropoutRates.get(name)!;
        const mask = training
          ? tf.tidy(() =>
              tf
                .randomUniform(shape, 0, 1, 'float32', Math.floor(this.noise.next() * 2 ** 31))
                .greaterEqual(rate)
                .cast('float32')
                .div(1 - rate),
            )
          : tf.ones(shape);
        made.push(mask);
        bindings[name] = mask;
      }
    }
    if (!training) for (const [name, v] of this.stats) bindings[name] = v;
    const program = training ? this.trainProgram : this.evalProgram;
    try {
      return program.run(bindings, { outputs });
    } finally {
      for (const t of made) t.dispose();
    }
  }

  /**
   * The model's output for `inputs` (a new tensor the caller owns).
   *
   * @example
   *   const logits = model.apply({ X: images });            // evaluation mode
   *   const train = model.apply({ X: images }, { training: true });
   */
  apply(inputs: Readonly<Record<string, tf.Tensor>>, options: ApplyOptions = {}): tf.Tensor {
    // Only the output is asked for: in evaluation each layer's activations go once the next has read them.
    return this.runProgram('Model.apply', inputs, options, [this.output])[this.output];
  }

  /** Moves each running statistic toward its batch value in `outputs` (a training-mode forward). */
  updateRunningStats(outputs: Readonly<Record<string, tf.Tensor>>): void {
    tf.tidy(() => {
      const items: { v: tf.Variable; batch: tf.Tensor; momentum: number }[] = [];
      for (const [name, v] of this.stats) {
        const batch = outputs[name];
        if (batch !== undefined) items.push({ v, batch, momentum: this.statSpecs.get(name)!.momentum });
      }
      movingAverages(items).forEach((next, i) => items[i].v.assign(next));
    });
  }

  /** Every variable to save, by program name: parameters, then running statistics. */
  namedVariables(): Map<string, tf.Variable> {
    return new Map([...this.params, ...this.stats]);
  }

  /** Releases the variables and the programs' cached plans. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.params.values()) v.dispose();
    for (const v of this.stats.values()) v.dispose();
    this.trainProgram.dispose();
    this.evalProgram.dispose();
  }

  get isDisposed(): boolean {
    return this.disposed;
  }
}

export { EinError };
