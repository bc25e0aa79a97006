/**
 * Printer: syntax tree → canonical program text. `parse(printProgram(p))` equals `p` up to spans
 * and spellings (see `equal.ts`), and printing is idempotent, so the output is a normal form:
 *
 * - multiplication is `·` however it was written (`*`, `⋅`, `×`, juxtaposition); `Σ` is `sum`;
 *   the minus sign is ASCII `-`;
 * - parentheses: `paren` nodes are kept as written (so `(x+1)/2` survives), and parentheses are
 *   added only where the tree could not be read back otherwise (hand-built trees);
 * - value operators have spaces around them (`a · b + c`), index expressions and index lists do
 *   not (`L0[b,x+Δx,y+Δy,I]`), extents are `j:6`, concatenation parts are joined by ` ; `;
 * - numbers keep the digits they were written with (`1e-5`, `.5`), except index numbers, which
 *   the tree stores as integers only;
 * - one statement per line, no comments (the tree has none).
 */
import type { Expr, Extent, IndexExpr, IndexName, InitializerSpec, Program, Statement } from './ast';

// ---------------------------------------------------------------------------------------------
// Numbers.

/** What the lexer reads as one number token: digits, an optional fraction and exponent. */
const NUMBER_TOKEN = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/**
 * A number as program text. `1e999` stands for Infinity (the lexer reads it back as such); a
 * NaN cannot come out of the parser and has no spelling, so it prints as `NaN`.
 */
export function formatNumber(value: number): string {
  if (value === Infinity) return '1e999';
  if (value === -Infinity) return '-1e999';
  return String(value);
}

/** The digits as written when they still denote `value`, else `value` formatted afresh. */
function numberText(value: number, written: string | undefined): string {
  if (written !== undefined) {
    // A const's text may carry a Unicode minus from the source; the canonical sign is ASCII.
    const t = written.replace(/^[−–]/, '-');
    const unsigned = t.startsWith('-') ? t.slice(1) : t;
    if (NUMBER_TOKEN.test(unsigned) && Number(t) === value) return t;
  }
  return formatNumber(value);
}

// ---------------------------------------------------------------------------------------------
// Index expressions.

/** Binding strength of an index expression: 1 `+ -`, 2 `* /`, 3 unary minus, 4 atoms. */
/** Binding strength of an index expression: 1 `+ -`, 2 `* /`, 3 unary minus, 4 atoms. */
export function indexPrecedence(e: IndexExpr): number {
  switch (e.kind) {
    case 'binary':
      return e.op === '+' || e.op === '-' ? 1 : 2;
    case 'negate':
      return 3;
    case 'number':
      return e.value < 0 || Object.is(e.value, -0) ? 3 : 4;
    default:
      return 4;
  }
}

function printExtent(extent: Extent): string {
  return extent.kind === 'literal' ? formatNumber(extent.value) : extent.name;
}

function printIndexName(n: IndexName): string {
  return n.extent === undefined ? n.name : `${n.name}:${printExtent(n.extent)}`;
}

function indexOperand(e: IndexExpr, minPrecedence: number): string {
  const text = printIndex(e);
  return indexPrecedence(e) < minPrecedence ? `(${text})` : text;
}

/**
 * One index expression in canonical form, without spaces: `2*x+Δx-1`, `(x+1)/2`, `(g,I)`,
 * `clamp(x+Δx-1)`, `j:6`.
 *
 * @example printIndex(parse('Y[i] = X[2 * x + Δx]').statements[0].parts[0].indices[0])  // '2*x+Δx'
 */
export function printIndex(e: IndexExpr): string {
  switch (e.kind) {
    case 'name':
      return printIndexName(e);
    case 'number':
      return formatNumber(e.value);
    case 'binary': {
      // Left-associative: the right operand needs parentheses at equal precedence.
      const p = e.op === '+' || e.op === '-' ? 1 : 2;
      return `${indexOperand(e.left, p)}${e.op}${indexOperand(e.right, p + 1)}`;
    }
    case 'negate':
      return `-${indexOperand(e.arg, 3)}`;
    case 'composite':
      return `(${e.parts.map(printIndex).join(',')})`;
    case 'boundary':
      return `${e.mode}(${printIndex(e.arg)})`;
    case 'paren':
      return `(${printIndex(e.arg)})`;
  }
}

function printIndexList(indices: readonly IndexExpr[]): string {
  return `[${indices.map(printIndex).join(',')}]`;
}

// ---------------------------------------------------------------------------------------------
// Value expressions.

/**
 * Binding strength of a value expression, as the parser's grammar has it:
 * 1 `+ -`, 2 `· /`, 3 unary minus and aggregators (both extend to the right), 4 `^`, 5 atoms.
 */
export function precedence(e: Expr): number {
  switch (e.kind) {
    case 'binary':
      return e.op === '+' || e.op === '-' ? 1 : e.op === '^' ? 4 : 2;
    case 'negate':
    case 'aggregate':
      return 3;
    case 'number':
      return e.value < 0 || Object.is(e.value, -0) ? 3 : 5;
    default:
      return 5;
  }
}

/**
 * Does the printed text of `e` end in an aggregator body that would swallow a following
 * `· factor`? `sum[i] A[i]` followed by `· B` reads as `sum[i] (A[i] · B)`, so such an
 * expression needs parentheses when it is the left operand of `·` or `/`.
 */
function endsInOpenAggregate(e: Expr): boolean {
  switch (e.kind) {
    case 'aggregate':
      return true;
    case 'negate':
      return endsInOpenAggregate(e.arg);
    case 'binary':
      // `+`/`-` operands are parenthesised in a product anyway.
      return e.op !== '+' && e.op !== '-' && endsInOpenAggregate(e.right);
    default:
      return false;
  }
}

function operand(e: Expr, minPrecedence: number, leftOfProduct = false): string {
  const text = printExpr(e);
  return precedence(e) < minPrecedence || (leftOfProduct && endsInOpenAggregate(e)) ? `(${text})` : text;
}

/**
 * One value expression in canonical form: `relu(W1[Δx:5,Δy:5,I,j] · L0[b,x+Δx,y+Δy,I] + B1[j])`,
 * `max[Δx:2,Δy:2] L1[b,2*x+Δx,2*y+Δy,j]`, `sum[i] A[i] · B[i] + C`.
 *
 * @example printExpr(parse('Y = Σ[i] A[i] B[i]').statements[0].parts[0])  // 'sum[i] A[i] · B[i]'
 */
export function printExpr(e: Expr): string {
  switch (e.kind) {
    case 'number':
      return numberText(e.value, e.text);
    case 'nameref':
      return e.name;
    case 'access':
      return `${e.tensor}${printIndexList(e.indices)}`;
    case 'binary': {
      switch (e.op) {
        case '+':
        case '-':
          return `${operand(e.left, 1)} ${e.op} ${operand(e.right, 2)}`;
        case '*':
        case '/':
          return `${operand(e.left, 2, true)} ${e.op === '*' ? '·' : '/'} ${operand(e.right, 3)}`;
        case '^':
          // The base is an atom; the exponent a unary expression (right-associative: a^b^c).
          return `${operand(e.left, 5)}^${operand(e.right, 3)}`;
      }
      break;
    }
    case 'negate':
      return `-${operand(e.arg, 3)}`;
    case 'call':
      return `${e.fn}(${e.args.map(printExpr).join(', ')})`;
    case 'aggregate':
      return `${e.op}[${e.indices.map(printIndexName).join(',')}] ${operand(e.body, 2)}`;
    case 'paren':
      return `(${printExpr(e.arg)})`;
  }
  throw new Error(`printExpr: unknown node ${JSON.stringify((e as { kind?: unknown }).kind)}`);
}

// ---------------------------------------------------------------------------------------------
// Statements and programs.

function printInitializer(init: InitializerSpec): string {
  return init.args.length === 0 ? init.name : `${init.name}(${init.args.map(formatNumber).join(', ')})`;
}

/**
 * One statement on one line: `L1[b,x,y,j:6] = relu(...)`, `T[b,x,y,J1+J2] = A[b,x,y,J1] ; B[b,x,y,J2]`,
 * `input X[b,x:28,y:28,i:1]`, `param W[i:3,j:4] ~ normal(0, 0.1)`, `const s = 2`.
 */
export function printStatement(s: Statement): string {
  switch (s.kind) {
    case 'assign': {
      const lhs = s.indices.length === 0 ? s.target : `${s.target}${printIndexList(s.indices)}`;
      return `${lhs} = ${s.parts.map(printExpr).join(' ; ')}`;
    }
    case 'input':
      return `input ${s.name}[${s.indices.map(printIndexName).join(',')}]`;
    case 'param': {
      // `param W[] ~ zeros` and `param W ~ zeros` are different trees: keep an empty list.
      const shape = s.indices === undefined ? '' : `[${s.indices.map(printIndexName).join(',')}]`;
      const init = s.init === undefined ? '' : ` ~ ${printInitializer(s.init)}`;
      return `param ${s.name}${shape}${init}`;
    }
    case 'const':
      return s.value === undefined ? `const ${s.name}` : `const ${s.name} = ${numberText(s.value, s.text)}`;
  }
}

/**
 * The canonical text of a program: one statement per line, no trailing newline.
 * `parse(printProgram(p))` equals `p` up to spans and spellings (`astEqual`), and
 * `printProgram(parse(printProgram(p)))` is `printProgram(p)`.
 *
 * @example printProgram(parse('Y[i] = 2 X[i]  # double'))  // 'Y[i] = 2 · X[i]'
 *
 * Limitations: comments and blank lines are not in the tree and are lost. A hand-built tree
 * that the parser could not have produced (an operand that needs parentheses but has no `paren`
 * node, a negative number literal) prints as text that reads back with the parentheses or
 * the unary minus made explicit.
 */
export function printProgram(p: Program): string {
  return p.statements.map(printStatement).join('\n');
}
