/**
 * What the lowering routes share: the context an expression is lowered in, the route interfaces
 * the registry (routes/index.ts) lists, and small helpers on checked expressions. Routes import
 * this module, never the dispatcher (expr.ts): they lower subexpressions through `ctx.lower`.
 */
import type { CheckedExpr, CheckedProgram, IndexRange } from '../check/checked';
import type { NamedValue, PlanBuilder } from './builder';

/** Where an expression is lowered. */
export interface Where {
  /** Inside a reduction: masks of out-of-range reads are kept for the reduction to apply. */
  readonly inReduction: boolean;
  /**
   * Reads that fall outside give 1 instead of 0 (their terms are dropped by a mask later
   * anyway). Used where a dropped term is not simply a zero factor — under log, a division,
   * inside a max — so that the dropped term is finite and its gradient (0 × f'(pad)) is 0, not NaN.
   */
  readonly safe: boolean;
}

export interface ExprContext {
  readonly builder: PlanBuilder;
  readonly ranges: ReadonlyMap<string, IndexRange>;
  /** Step and shape of a tensor readable here (input, parameter or earlier output). */
  readonly tensor: (name: string) => { step: number; shape: readonly number[] };
  /** The statement's left-hand index order: results laid out so are not transposed again. */
  readonly order: readonly string[];
  /** Steps that hold a whole tensor (inputs, parameters, earlier outputs). */
  readonly tensorSteps: ReadonlySet<number>;
  /** Routes taken, for explain(). */
  readonly routes: string[];
  /** Lowers a subexpression through the route registry. */
  readonly lower: (e: CheckedExpr, where: Where) => NamedValue;
}

/**
 * A way to lower expressions. The registry tries routes in priority order: the first whose
 * `matches` holds and whose `lower` returns a value takes the expression. `lower` returns
 * undefined to pass it on (saying why in `ctx.routes` when that helps a reader of explain()).
 */
export interface ExprRoute {
  readonly name: string;
  /** Cheap, structural: whether the route may take `e` here. */
  readonly matches: (e: CheckedExpr, where: Where) => boolean;
  readonly lower: (ctx: ExprContext, e: CheckedExpr, where: Where) => NamedValue | undefined;
}

/** What a route lowering whole statements needs: the builder, the program's tensors, its notes. */
export interface StatementContext {
  readonly builder: PlanBuilder;
  readonly tensor: (name: string) => { step: number; shape: readonly number[] };
  /** Routes taken by the statement being lowered, for explain(). */
  readonly routes: string[];
}

/**
 * A way to lower a group of statements together (batch normalization). `matches` claims
 * statements by number, each with the match it belongs to; `lower` lowers one claimed
 * statement and returns the step holding its result. Steps shared by the members of a match
 * are kept in `shared`, which lives for one lowering of the program.
 */
export interface StatementRoute<Match = unknown> {
  readonly name: string;
  matches(program: CheckedProgram): ReadonlyMap<number, Match>;
  lower(ctx: StatementContext, match: Match, statement: number, shared: Map<Match, number>): number;
}

/** The note of a statement lowered by elementwise ops alone. */
export const ELEMENTWISE_NOTE = 'elementwise: reads, broadcasting by index name, tfjs elementwise ops';
/** The note of a left-hand side with affine positions, saying how they are written. */
export const scatterNote = (how: string): string => `scatter: ${how}`;
/** The note of a left-hand concatenation. */
export const concatNote = (parts: number, axis: number): string => `concatenation of ${parts} parts on axis ${axis}`;

/** Whether a note is about laying out the left-hand side (these come last in a statement's notes). */
export function isLayoutNote(note: string): boolean {
  return note.startsWith('scatter: ') || note.startsWith('concatenation of ');
}

/** The factors of a product chain `a·b·c` (division and everything else is one factor). */
export function productFactors(e: CheckedExpr): CheckedExpr[] {
  if (e.kind === 'binary' && e.fn === 'mul') return [...productFactors(e.left), ...productFactors(e.right)];
  return [e];
}
