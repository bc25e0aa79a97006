/**
 * A program's PyTorch module for any batch size.
 *
 * `Program.toPyTorch` writes a module for the shapes it is given, so the batch extent appears as
 * a number (`S4.reshape((37, 400))`, a mean's `1 / 37888`). The program is translated for two
 * batch sizes, A and B, and the two texts are compared: they must agree everywhere but in numbers,
 * and every number that differs must be `A·k` against `B·k` (written `(_einnet_batch * k)`) or
 * `1/(A·k)` against `1/(B·k)` (written `(1.0 / (_einnet_batch * k))`), where `_einnet_batch` is
 * read from the batch axis of an input at the top of `forward`. Anything else (a constant table
 * whose length follows the batch) means the program has no batch-free translation, and the export
 * says so. Comment and docstring lines show the batch as `b`.
 */
import type { Program } from '../../../dsl';
import { modelError } from '../../errors';

/** The two batch sizes compared: primes that are unlikely to be any other extent of a network. */
export const PROBE_BATCHES = [37, 41] as const;
const NUMBER = /\d+(?:\.\d+)?(?:e[-+]?\d+)?/g;
const BATCH = '_einnet_batch';

type Translate = (batch: number) => string;

/** `k` when `a = A·k` and `b = B·k` for an integer k, else undefined. */
function batchMultiple(a: number, b: number): number | undefined {
  const [A, B] = PROBE_BATCHES;
  const k = a / A;
  return Number.isInteger(k) && k > 0 && b === B * k ? k : undefined;
}

/** `k` when `a ≈ 1/(A·k)` and `b ≈ 1/(B·k)` for an integer k, else undefined. */
function batchReciprocal(a: number, b: number): number | undefined {
  const [A, B] = PROBE_BATCHES;
  if (!(a > 0 && b > 0)) return undefined;
  const k = Math.round(1 / (a * A));
  const close = (x: number, y: number) => Math.abs(x - y) <= 1e-6 * Math.abs(y);
  return k > 0 && close(a, 1 / (A * k)) && close(b, 1 / (B * k)) ? k : undefined;
}

function isComment(line: string, inDocstring: boolean): boolean {
  return inDocstring || /^\s*(#|""")/.test(line);
}

/** One line of the batch-free text from the two translations' lines (undefined: no such line). */
function mergeLine(a: string, b: string, comment: boolean): string | undefined {
  const partsA = a.split(NUMBER);
  const partsB = b.split(NUMBER);
  const numsA = a.match(NUMBER) ?? [];
  const numsB = b.match(NUMBER) ?? [];
  if (partsA.length !== partsB.length || partsA.some((p, k) => p !== partsB[k])) return undefined;
  let out = partsA[0];
  for (let k = 0; k < numsA.length; k++) {
    const [x, y] = [Number(numsA[k]), Number(numsB[k])];
    let text = numsA[k];
    if (numsA[k] !== numsB[k]) {
      const m = batchMultiple(x, y);
      const r = m === undefined ? batchReciprocal(x, y) : undefined;
      if (m === undefined && r === undefined) return undefined;
      if (comment) text = m === 1 ? 'b' : m !== undefined ? `b*${m}` : `1/(b*${r})`;
      else text = m === 1 ? BATCH : m !== undefined ? `(${BATCH} * ${m})` : `(1.0 / (${BATCH} * ${r}))`;
    }
    out += text + partsA[k + 1];
  }
  return out;
}

/**
 * The module source of `translate` made batch-free; `batchInput` is the Python expression of a
 * tensor with the batch on axis `batchAxis` (e.g. `tensors["X"]`).
 */
export function batchFreeModule(name: string, translate: Translate, batchInput: string, batchAxis: number): string {
  const [A, B] = PROBE_BATCHES.map(translate).map((t) => t.split('\n'));
  const fail = (line: number) =>
    modelError(
      'EIN7010',
      'exportPyTorch',
      `the ${name}'s PyTorch translation depends on the batch size in a way einnet cannot make general (line ${line + 1}: ${A[line]?.trim()})`,
      'export a model whose batch axis only scales shapes and means',
    );
  if (A.length !== B.length) throw fail(A.findIndex((l, k) => l !== B[k]));
  const out: string[] = [];
  let inDocstring = false;
  let usesBatch = false;
  for (let k = 0; k < A.length; k++) {
    const comment = isComment(A[k], inDocstring);
    const merged = A[k] === B[k] ? A[k] : mergeLine(A[k], B[k], comment);
    if (merged === undefined) throw fail(k);
    if (!comment && merged !== A[k]) usesBatch = true;
    out.push(merged);
    if ((A[k].match(/"""/g) ?? []).length % 2 === 1) inDocstring = !inDocstring;
  }
  if (!usesBatch) return out.join('\n');
  const at = out.findIndex((l) => /^\s*def forward\(self, \*\*tensors\):\s*$/.test(l));
  if (at < 0) throw fail(0);
  const indent = `${/^\s*/.exec(out[at])![0]}    `;
  out.splice(at + 1, 0, `${indent}${BATCH} = ${batchInput}.shape[${batchAxis}]`);
  return out.join('\n');
}

/** The shapes with the batch axis of every input set to `batch`. */
export function withBatch(shapes: Readonly<Record<string, readonly number[]>>, inputs: readonly string[], batchAxis: number, batch: number) {
  const out: Record<string, readonly number[]> = Object.create(null);
  for (const [name, shape] of Object.entries(shapes)) out[name] = inputs.includes(name) ? shape.map((d, k) => (k === batchAxis ? batch : d)) : shape;
  return out;
}

/** `program` as a batch-free module class. */
export function batchFreeProgram(
  program: Program,
  className: string,
  shapes: Readonly<Record<string, readonly number[]>>,
  inputs: readonly string[],
  batchAxis: number,
): string {
  const translate = (batch: number) => program.toPyTorch({ className, shapes: withBatch(shapes, inputs, batchAxis, batch) });
  return batchFreeModule(className, translate, `tensors[${JSON.stringify(inputs[0])}]`, batchAxis);
}
