/**
 * Summation scopes: converts a right-hand side to a checked expression and makes Einstein's rule
 * explicit. An index that is neither on the left nor bound by an aggregator is summed over the
 * smallest product term (a chain of `·` and `/`) that holds all its occurrences; walking up to
 * that term may pass `+`, parentheses and aggregators, but never a function call — occurrences
 * split across a function boundary, or across `+` with no product above, need an explicit sum.
 */
import { EinError, type Span } from '../../core/diagnostics';
import type { Expr } from '../parse/ast';
import type { BinaryFn, CheckedExpr, CheckedIndex, UnaryFn } from './checked';
import { FUNCTIONS } from './functions';
import { indexNamesOf, rhsIndexForm, type IndexContext } from './index-forms';
import { callError, functionSpec } from './names';

/** One tensor read, with its normal-form indices, for range inference. */
export interface AccessSite {
  readonly tensor: string;
  readonly indices: readonly CheckedIndex[];
  readonly span: Span;
  readonly nameSpan: Span;
  /** Source spans of each axis' index expression. */
  readonly axisSpans: readonly Span[];
}

export interface ScopeResult {
  readonly expr: CheckedExpr;
  readonly accesses: readonly AccessSite[];
  /** Indices bound by written aggregators, with their head spans. */
  readonly bound: ReadonlyMap<string, Span>;
  /** Indices summed by the Einstein rule. */
  readonly implicit: ReadonlySet<string>;
}

const BINARY_OPS: Record<string, BinaryFn> = { '+': 'add', '-': 'sub', '*': 'mul', '/': 'div', '^': 'pow' };

function isChain(e: Expr): boolean {
  return e.kind === 'binary' && (e.op === '*' || e.op === '/');
}

/**
 * Converts one right-hand expression (one part of a concatenation) in the scope of the left-hand
 * indices `lhs`. `isConst` tells constants from rank-0 tensors for bare names.
 */
export function convertRhs(expr: Expr, lhs: ReadonlySet<string>, ctx: IndexContext): ScopeResult {
  const accesses: AccessSite[] = [];
  const bound = new Map<string, Span>();
  // For every free index: the root-to-access paths of its occurrences.
  const occurrences = new Map<string, Expr[][]>();

  // Pass 1: normal-form indices, aggregator scopes, occurrence paths.
  const indexForms = new Map<Expr, CheckedIndex[]>();
  const walk = (e: Expr, path: Expr[], scope: ReadonlySet<string>) => {
    const here = [...path, e];
    switch (e.kind) {
      case 'access': {
        const forms = e.indices.map((i) => rhsIndexForm(i, ctx));
        indexForms.set(e, forms);
        accesses.push({ tensor: e.tensor, indices: forms, span: e.span, nameSpan: e.nameSpan, axisSpans: e.indices.map((i) => i.span) });
        for (const name of new Set(forms.flatMap(indexNamesOf))) {
          if (lhs.has(name) || scope.has(name)) continue;
          if (bound.has(name)) {
            throw new EinError({
              code: 'EIN2018',
              message: `index ${name} is bound by an aggregator and also used outside it`,
              source: ctx.source,
              span: e.span,
              related: { span: bound.get(name)!, label: 'the aggregator that binds it' },
              hint: `rename one of them`,
            });
          }
          const list = occurrences.get(name) ?? [];
          list.push(here);
          occurrences.set(name, list);
        }
        return;
      }
      case 'aggregate': {
        const inner = new Set(scope);
        for (const i of e.indices) {
          if (lhs.has(i.name) || scope.has(i.name) || inner.has(i.name)) {
            throw new EinError({
              code: 'EIN2018',
              message: `index ${i.name} is bound twice: ${lhs.has(i.name) ? 'it is a left-hand index' : 'an enclosing aggregator binds it already'}`,
              source: ctx.source,
              span: i.span,
              hint: 'use another name for the reduced index',
            });
          }
          if (occurrences.has(i.name)) {
            throw new EinError({
              code: 'EIN2018',
              message: `index ${i.name} is bound by ${e.op}[...] and also used outside it`,
              source: ctx.source,
              span: i.span,
              hint: 'rename one of them',
            });
          }
          inner.add(i.name);
          bound.set(i.name, e.headSpan);
        }
        walk(e.body, here, inner);
        return;
      }
      case 'binary':
        walk(e.left, here, scope);
        walk(e.right, here, scope);
        return;
      case 'negate':
      case 'paren':
        walk(e.arg, here, scope);
        return;
      case 'call':
        for (const a of e.args) walk(a, here, scope);
        return;
      case 'number':
      case 'nameref':
        return;
    }
  };
  walk(expr, [], new Set());
  // Pass 2: where each implicit sum goes.
  const sumsAt = new Map<Expr, string[]>();
  for (const [name, paths] of occurrences) {
    const target = summationTarget(name, paths, ctx);
    const list = sumsAt.get(target) ?? [];
    list.push(name);
    sumsAt.set(target, list);
  }

  // Pass 3: build the checked tree.
  const build = (e: Expr): CheckedExpr => {
    const inner = buildNode(e);
    const sums = sumsAt.get(e);
    return sums ? { kind: 'reduce', op: 'sum', indices: sums, body: inner, implicit: true, span: e.span } : inner;
  };
  const buildNode = (e: Expr): CheckedExpr => {
    switch (e.kind) {
      case 'number':
        return { kind: 'const', value: e.value };
      case 'nameref': {
        const c = ctx.consts.get(e.name);
        if (c !== undefined) return { kind: 'const', value: c };
        if (Object.hasOwn(FUNCTIONS, e.name)) {
          // `relu (X[i])` with a space reads as a scalar tensor `relu` times (X[i]).
          throw new EinError({
            code: 'EIN2002',
            message: `'${e.name}' is a function but is used as a value`,
            source: ctx.source,
            span: e.span,
            hint: `call it without a space before the parenthesis: ${e.name}(...)`,
          });
        }
        accesses.push({ tensor: e.name, indices: [], span: e.span, nameSpan: e.span, axisSpans: [] });
        return { kind: 'access', tensor: e.name, indices: [], span: e.span };
      }
      case 'access':
        return { kind: 'access', tensor: e.tensor, indices: indexForms.get(e)!, span: e.span };
      case 'paren':
        return build(e.arg);
      case 'negate':
        return { kind: 'unary', fn: 'neg', arg: build(e.arg) };
      case 'binary':
        return { kind: 'binary', fn: BINARY_OPS[e.op], left: build(e.left), right: build(e.right) };
      case 'aggregate':
        return { kind: 'reduce', op: e.op, indices: e.indices.map((i) => i.name), body: build(e.body), implicit: false, span: e.span };
      case 'call': {
        const error = callError(e, ctx.source);
        if (error !== undefined) throw error;
        const spec = functionSpec(e.fn)!;
        if (spec.arity === 1) return { kind: 'unary', fn: spec.fn as UnaryFn, arg: build(e.args[0]) };
        return { kind: 'binary', fn: spec.fn as BinaryFn, left: build(e.args[0]), right: build(e.args[1]) };
      }
    }
  };
  const result = build(expr);
  return { expr: result, accesses, bound, implicit: new Set(occurrences.keys()) };
}

/** The node an implicit sum over `name` wraps; see the file comment for the rule. */
function summationTarget(name: string, paths: readonly Expr[][], ctx: IndexContext): Expr {
  // Lowest common ancestor: the longest common prefix of the root-to-occurrence paths.
  let depth = 0;
  while (paths.every((p) => depth < p.length && p[depth] === paths[0][depth])) depth++;
  const chain = paths[0].slice(0, depth); // root … LCA
  let at = chain.length - 1;
  const node = chain[at];
  const isTerm = (e: Expr) => isChain(e) || e.kind === 'aggregate' || e.kind === 'access' || e.kind === 'nameref';
  if (!isTerm(node)) {
    // Walk up past + - negation and parentheses to the nearest product term or aggregator.
    for (;;) {
      const e = chain[at];
      if (isChain(e) || e.kind === 'aggregate') break;
      if (e.kind === 'call') splitError(name, paths, ctx, 'a function call');
      if (at === 0) splitError(name, paths, ctx, "'+' or '-'");
      at--;
    }
  }
  // Extend to the whole product chain the term belongs to (parentheses inside a chain are
  // transparent: (A·B)·C is one chain).
  let top = at;
  for (let k = at - 1; k >= 0; k--) {
    const e = chain[k];
    if (e.kind === 'paren') continue;
    if (isChain(e)) top = k;
    else break;
  }
  // A paren directly above the chain top would only hide it; the reduce wraps the chain itself.
  const target = chain[top];
  // No occurrence may sit inside a function call below the target.
  for (const p of paths) {
    for (let k = top + 1; k < p.length; k++) {
      if (p[k].kind === 'call') splitError(name, paths, ctx, 'a function call');
    }
  }
  return target;
}

function splitError(name: string, paths: readonly Expr[][], ctx: IndexContext, across: string): never {
  const spans = paths.map((p) => p[p.length - 1].span);
  throw new EinError({
    code: 'EIN2008',
    message: `index ${name} is summed implicitly, but its occurrences are split across ${across}, not inside one product term`,
    source: ctx.source,
    span: spans[0],
    related: spans.length > 1 ? { span: spans[1], label: 'another occurrence' } : undefined,
    hint: `say what is summed with an explicit sum[${name}] ..., or make ${name} a left-hand index`,
  });
}
