/**
 * Building a model from reusable blocks.
 *
 * ## Design
 * A block is a TypeScript function that writes statements in the notation. It gets the builder,
 * the tensor it reads (name and shape) and a namespace, and returns the tensor it produced:
 *
 *   type Block = (net: NetBuilder, x: TensorRef, ns: string) => TensorRef
 *
 * Primitive blocks (`conv`, `batchNorm`, `dropout`, …, in `blocks.ts`) call `net.emit(...)`
 * with a fragment of program text: what the training program says, what the evaluation program
 * says if different, and which names are running statistics or dropout masks. Composite blocks
 * (ResNet, DenseNet) call other blocks with sub-namespaces, so one definition is instantiated
 * many times with different widths and strides, each instance with its own names:
 * `stage2.block1.conv1.W`. Every name a block writes starts with its namespace, and the
 * tensor a block produces is named by the namespace itself (`stage2.block1`), so `summary()` rows
 * read like layer names.
 *
 * `emit` checks each fragment on its own with the shapes of the tensors it reads, so a block
 * learns its input's extents from the checker (to declare `x:32` for zero padding) and a
 * mistake is reported at the fragment that made it. `build()` joins the fragments into the two
 * programs of a `Model` (training and evaluation, see `model.ts`).
 *
 * Why functions and not a definition form in the language: the language has no abstraction by
 * design (a program is a list of tensor equations, LANGUAGE.md §3); TypeScript already has
 * functions, loops and types, and the notation stays visible in every block's source and in
 * `model.trainProgram.toString()`.
 */
import { ein } from '../dsl/program';
import type { Expr, IndexExpr, Program as Ast } from '../dsl/parse/ast';
import { EinError } from '../core/diagnostics';
import { Model, type ModelOptions, type RunningStatSpec } from './model';
import { modelError, rejectUnknownOptions } from './errors';

/** A tensor already in the network: its name and shape (batch axis first). */
export interface TensorRef {
  readonly name: string;
  readonly shape: readonly number[];
}

/** Program text a primitive block contributes. */
export interface Fragment {
  /** Statements of the training program. */
  readonly train: string;
  /** Statements of the evaluation program (default: `train`). */
  readonly eval?: string;
  /** The tensor the fragment produces. */
  readonly output: string;
  /** Names assigned in training and bound from running averages in evaluation. */
  readonly runningStats?: Readonly<Record<string, RunningStatSpec>>;
  /** Dropout mask names and their rates. */
  readonly dropout?: Readonly<Record<string, number>>;
}

export type Block = (net: NetBuilder, x: TensorRef, ns: string) => TensorRef;

const NAME = /^[\p{L}_][\p{L}\p{N}_']*(\.[\p{L}_][\p{L}\p{N}_']*)*$/u;

/** Every tensor name a program reads (accesses on right-hand sides). */
function readNames(ast: Ast): Set<string> {
  const out = new Set<string>();
  const walk = (e: Expr): void => {
    switch (e.kind) {
      case 'access':
        out.add(e.tensor);
        return;
      case 'binary':
        walk(e.left);
        walk(e.right);
        return;
      case 'negate':
      case 'paren':
        walk(e.arg);
        return;
      case 'call':
        e.args.forEach(walk);
        return;
      case 'aggregate':
        walk(e.body);
        return;
      default:
        return;
    }
  };
  for (const s of ast.statements) if (s.kind === 'assign') s.parts.forEach(walk);
  return out;
}

export interface BuildOptions {
  /** The tensor the model outputs (default: the last block's). */
  readonly output?: TensorRef | string;
  readonly seed?: number;
}

/**
 * Collects fragments into a model.
 *
 * @example
 *   const net = new NetBuilder({ X: [1, 32, 32, 3] });
 *   let h = net.input('X');
 *   h = net.add('stem', convBnRelu({ out: 16 }), h);
 *   for (let k = 1; k <= 3; k++) h = net.add(`stage1.block${k}`, resnetBasic({ out: 16 }), h);
 *   const model = net.build({ seed: 1 });
 */
export class NetBuilder {
  private readonly trainParts: string[] = [];
  private readonly evalParts: string[] = [];
  private readonly shapes = new Map<string, readonly number[]>();
  private readonly stats: Record<string, RunningStatSpec> = {};
  private readonly dropout: Record<string, number> = {};
  private readonly inputs: Record<string, readonly number[]>;
  private last?: TensorRef;

  /** `inputs`: example shape of every input, batch axis first. */
  constructor(inputs: Readonly<Record<string, readonly number[]>>) {
    this.inputs = { ...inputs };
    for (const [name, shape] of Object.entries(inputs)) {
      if (!NAME.test(name)) throw modelError('EIN4001', 'NetBuilder', `input name '${name}' is not a tensor name`);
      this.shapes.set(name, shape);
    }
  }

  /** The reference of an input given to the constructor. */
  input(name: string): TensorRef {
    const shape = this.inputs[name];
    if (shape === undefined) throw modelError('EIN4012', 'NetBuilder.input', `no input ${name}`, undefined, Object.keys(this.inputs).join(', '));
    return { name, shape };
  }

  /** The shape of a tensor already emitted (or an input). */
  shapeOf(name: string): readonly number[] {
    const s = this.shapes.get(name);
    if (s === undefined) throw modelError('EIN4001', 'NetBuilder.shapeOf', `no tensor ${name} yet`);
    return s;
  }

  /** Instantiates `block` on `x` under namespace `ns`; returns the tensor it produced. */
  add(ns: string, block: Block, x: TensorRef): TensorRef {
    if (!NAME.test(ns)) {
      throw modelError(
        'EIN4008',
        'NetBuilder.add',
        `namespace '${ns}' is not a tensor name`,
        'use letters, digits and dots, each part starting with a letter: stage2.block1',
      );
    }
    return block(this, x, ns);
  }

  /**
   * Adds a fragment of program text, checks it with the shapes of what it reads, and returns its
   * output. Primitive blocks call this.
   */
  emit(fragment: Fragment): TensorRef {
    rejectUnknownOptions('EIN4008', 'NetBuilder.emit', fragment, ['train', 'eval', 'output', 'runningStats', 'dropout']);
    const program = ein(fragment.train);
    const bound: Record<string, readonly number[]> = {};
    for (const name of readNames(program.ast)) {
      const s = this.shapes.get(name);
      if (s !== undefined) bound[name] = s;
    }
    let report;
    try {
      report = program.check(bound);
    } catch (e) {
      if (e instanceof EinError) {
        throw new EinError({ code: e.code, message: `in the fragment producing ${fragment.output}:\n${e.message}` });
      }
      throw e;
    }
    for (const name of report.outputs) {
      if (this.shapes.has(name)) throw modelError('EIN4008', 'NetBuilder.emit', `${name} is assigned twice`, 'give each block instance its own namespace');
      this.shapes.set(name, report.shapes[name]);
    }
    if (!report.outputs.includes(fragment.output)) throw modelError('EIN4008', 'NetBuilder.emit', `the fragment does not assign its output ${fragment.output}`);
    this.trainParts.push(fragment.train.trim());
    this.evalParts.push((fragment.eval ?? fragment.train).trim());
    Object.assign(this.stats, fragment.runningStats ?? {});
    Object.assign(this.dropout, fragment.dropout ?? {});
    this.last = { name: fragment.output, shape: report.shapes[fragment.output] };
    return this.last;
  }

  /** The training (or evaluation) program text so far. */
  source(mode: 'train' | 'eval' = 'train'): string {
    return (mode === 'train' ? this.trainParts : this.evalParts).join('\n');
  }

  /** A `Model` of everything emitted (allocates and initializes the parameters). */
  build(options: BuildOptions = {}): Model {
    return new Model(this.spec(options));
  }

  /** The options `build` would give `Model`: programs and names, nothing allocated. */
  spec(options: BuildOptions = {}): ModelOptions {
    rejectUnknownOptions('EIN4001', 'NetBuilder.build', options, ['output', 'seed']);
    const out = options.output ?? this.last;
    if (out === undefined) throw modelError('EIN4001', 'NetBuilder.build', 'nothing was added', 'add blocks before build()');
    return {
      program: this.source('train'),
      evalProgram: this.source('eval'),
      inputs: this.inputs,
      output: typeof out === 'string' ? out : out.name,
      runningStats: this.stats,
      dropout: this.dropout,
      seed: options.seed,
    };
  }
}

/** Index names for a tensor of rank r in NHWC-style layout: [b, x, y, …, j]. */
export function axisNames(rank: number): string[] {
  if (rank === 2) return ['b', 'j'];
  if (rank === 3) return ['b', 'x', 'j'];
  if (rank === 4) return ['b', 'x', 'y', 'j'];
  if (rank === 5) return ['b', 'x', 'y', 'z', 'j'];
  throw modelError(
    'EIN4008',
    'block',
    `inputs of rank ${rank} are not supported by the built-in blocks`,
    'use rank 2 [b,j] to 5 [b,x,y,z,j], or write the statement yourself with net.emit',
  );
}

export type { IndexExpr };
