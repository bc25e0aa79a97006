/**
 * The course's worked tables, typed in from the lecture notes (not computed): the 5×5 input and
 * 3×3 filter with their convolution and pooling tables, and the receptive-field table of a stack
 * of eight 3×3 layers. The playground shows them beside what einnet computes, and
 * test/dsl/reference/worked-tables.test.ts checks the reference evaluator against them.
 */

/** The worked 5×5 input ("no padding, unit strides"), also the pooling tables' input. */
export const INPUT_5x5 = [
  [3, 3, 2, 1, 0],
  [0, 0, 1, 3, 1],
  [3, 1, 2, 2, 3],
  [2, 0, 0, 2, 2],
  [2, 0, 0, 0, 1],
];

export const FILTER_3x3 = [
  [0, 1, 2],
  [2, 2, 0],
  [0, 1, 2],
];

/** INPUT_5x5 ⊛ FILTER_3x3, no padding, stride 1. */
export const CONV_VALID = [
  [12, 12, 17],
  [10, 17, 19],
  [9, 6, 14],
];

/** INPUT_5x5 ⊛ FILTER_3x3, zero padding 1, stride 2. */
export const CONV_PAD1_STRIDE2 = [
  [6, 17, 3],
  [8, 17, 13],
  [6, 4, 4],
];

/** 3×3 max pooling of INPUT_5x5, stride 1. */
export const MAX_POOL_3x3 = [
  [3, 3, 3],
  [3, 3, 3],
  [3, 2, 3],
];

/** 3×3 mean pooling of INPUT_5x5, stride 1, as the table prints it (one decimal). */
export const MEAN_POOL_3x3 = [
  [1.7, 1.7, 1.7],
  [1.0, 1.2, 1.8],
  [1.1, 0.8, 1.3],
];

/**
 * Eight 3×3 layers on a 256×256 input: stride per layer, output side and receptive field. (The
 * table's padding column does not fit its own output sizes; padding 1 reproduces them.)
 */
export const RECEPTIVE_FIELD_TABLE = {
  input: 256,
  stride: [1, 2, 1, 1, 2, 1, 1, 2],
  outputSize: [256, 128, 128, 128, 64, 64, 64, 32],
  field: [3, 5, 9, 13, 17, 25, 33, 41],
};
