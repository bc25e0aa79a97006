/** Messages between the notebook runner (parent) and the process that executes one notebook. */
import type { NotebookOutput } from './ipynb';

/** Parent → worker: run these code cells, in order, in `cwd`. */
export interface RunRequest {
  readonly type: 'run';
  readonly cells: readonly { readonly index: number; readonly source: string }[];
}

/** A cell failed: why, in the user's terms. */
export interface CellFailure {
  /** Index of the cell in the notebook (0-based; reports show it 1-based). */
  readonly index: number;
  /**
   * 'runtime': thrown error; 'typescript': compile error; 'rejection': unhandled promise
   * rejection; 'uncaught': an exception thrown outside the cell's own run (a timer, a callback).
   */
  readonly kind: 'runtime' | 'typescript' | 'rejection' | 'uncaught';
  /** The real error: name and message (EinError messages include code, place and fix). */
  readonly message: string;
  /** Stack frames outside Node and tslab internals, if any. */
  readonly frames: readonly string[];
}

/** Worker → parent. */
export type WorkerMessage =
  | { readonly type: 'cell-start'; readonly index: number }
  | {
      readonly type: 'done';
      /** Outputs per executed cell index (display updates already applied). */
      readonly outputs: Readonly<Record<number, NotebookOutput[]>>;
      readonly executionCounts: Readonly<Record<number, number>>;
      readonly failure?: CellFailure;
    };
