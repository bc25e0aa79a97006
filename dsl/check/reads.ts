/**
 * The tensor reads of a checked expression, for tools that inspect programs (initializers'
 * fan rule, summary()).
 */
import type { CheckedExpr } from './checked';

export type CheckedAccess = Extract<CheckedExpr, { kind: 'access' }>;

/** Every tensor read in `e`, left to right. */
export function readsOf(e: CheckedExpr, out: CheckedAccess[] = []): CheckedAccess[] {
  switch (e.kind) {
    case 'access':
      out.push(e);
      break;
    case 'unary':
      readsOf(e.arg, out);
      break;
    case 'binary':
      readsOf(e.left, out);
      readsOf(e.right, out);
      break;
    case 'reduce':
      readsOf(e.body, out);
      break;
    case 'const':
      break;
  }
  return out;
}
