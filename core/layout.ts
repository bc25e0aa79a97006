/**
 * Row-major layout arithmetic shared by the reference evaluator and lowering.
 */

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    strides[k] = s;
    s *= shape[k];
  }
  return strides;
}

/**
 * Calls `f` for every combination of values of indices with these extents, in row-major order:
 * `values[j]` is the value of index j, `flat` the combination's row-major number.
 */
export function forEachCombination(extents: readonly number[], f: (values: Int32Array, flat: number) => void): void {
  const total = sizeOf(extents);
  const values = new Int32Array(extents.length);
  for (let flat = 0; flat < total; flat++) {
    let rest = flat;
    for (let j = extents.length - 1; j >= 0; j--) {
      values[j] = rest % extents[j];
      rest = Math.floor(rest / extents[j]);
    }
    f(values, flat);
  }
}
