/**
 * LaTeX: a program typeset as the lecture slides write it (seeds/003). Layer names get their
 * trailing digits as subscripts (`L1` → `L_{1}`), `Δx` is `\Delta x`, aggregators are big
 * operators with the reduced indices below (`\sum_{\Delta x,\Delta y,I}`), products are `\cdot`,
 * `sigmoid`/`σ` is `\sigma`, and statements are aligned on their `=` in an `aligned` block.
 *
 * Conventions (the tests hold the exact strings):
 * - index lists in square brackets, `, ` between indices: `W_{1}[\Delta x, \Delta y, I, j]`;
 * - extents are left out of assignments (the slides never show them) but kept in `input` and
 *   `param` declarations, where the shape is the point: `x{:}28`;
 * - in an index, `x/2` is floor division, `\lfloor x/2 \rfloor`, and a numeric coefficient is
 *   juxtaposed (`2x + \Delta x`); in a value, `/` is `\frac{}{}`;
 * - multi-letter names are `\mathit{conv}`, namespaces `\mathrm{blk1}.W`, `_` is escaped.
 */
import type { Expr, Extent, IndexExpr, IndexName, InitializerSpec, Program, Statement } from './ast';
import { indexPrecedence, precedence } from './print';

// ---------------------------------------------------------------------------------------------
// Names.

const GREEK: Readonly<Record<string, string>> = {
  α: '\\alpha',
  β: '\\beta',
  γ: '\\gamma',
  δ: '\\delta',
  ε: '\\varepsilon',
  ϵ: '\\epsilon',
  ζ: '\\zeta',
  η: '\\eta',
  θ: '\\theta',
  ϑ: '\\vartheta',
  ι: '\\iota',
  κ: '\\kappa',
  λ: '\\lambda',
  μ: '\\mu',
  ν: '\\nu',
  ξ: '\\xi',
  ο: 'o',
  π: '\\pi',
  ϖ: '\\varpi',
  ρ: '\\rho',
  ϱ: '\\varrho',
  σ: '\\sigma',
  ς: '\\varsigma',
  τ: '\\tau',
  υ: '\\upsilon',
  φ: '\\varphi',
  ϕ: '\\phi',
  χ: '\\chi',
  ψ: '\\psi',
  ω: '\\omega',
  Γ: '\\Gamma',
  Δ: '\\Delta',
  Θ: '\\Theta',
  Λ: '\\Lambda',
  Ξ: '\\Xi',
  Π: '\\Pi',
  Σ: '\\Sigma',
  Υ: '\\Upsilon',
  Φ: '\\Phi',
  Ψ: '\\Psi',
  Ω: '\\Omega',
};

const SUBSCRIPT_DIGITS = '₀₁₂₃₄₅₆₇₈₉';

/** Characters of a name part as LaTeX: Greek letters to commands, `_` escaped. */
function latexChars(chars: readonly string[]): string {
  let out = '';
  chars.forEach((ch, k) => {
    const greek = GREEK[ch];
    if (greek !== undefined) {
      // `\Delta x`, not `\Deltax`: a command followed by a letter needs a space.
      const next = chars[k + 1];
      out += greek + (next !== undefined && /\p{L}/u.test(next) ? ' ' : '');
    } else if (ch === '_') out += '\\_';
    // Other non-ASCII letters (`é`) are text, not math symbols, in LaTeX and KaTeX alike.
    else if (/[^\x00-\x7f]/.test(ch)) out += `\\text{${ch}}`;
    else out += ch;
  });
  return out;
}

/** The last part of a (possibly namespaced) name: `W1` → `W_{1}`, `Δx` → `\Delta x`, `conv` → `\mathit{conv}`. */
function latexBaseName(part: string): string {
  const m = /^(.*?)([0-9₀-₉]*)('*)$/u.exec(part)!;
  let [, base, digits, primes] = m;
  if (base === '') {
    // Parsed names start with a letter or `_`, so this is a hand-made name like `12`: keep it whole.
    base = digits;
    digits = '';
  }
  const chars = [...base];
  // Leading Greek letters are symbols of their own (`Δx`, `μ`); the rest is one symbol or a word.
  let k = 0;
  while (k < chars.length - 1 && GREEK[chars[k]] !== undefined) k++;
  const head = chars.slice(0, k);
  const rest = chars.slice(k);
  let text = latexChars(head) + (head.length > 0 ? ' ' : '');
  text += rest.length <= 1 ? latexChars(rest) : `\\mathit{${latexChars(rest)}}`;
  if (digits !== '') {
    const ascii = [...digits].map((d) => (SUBSCRIPT_DIGITS.includes(d) ? String(SUBSCRIPT_DIGITS.indexOf(d)) : d)).join('');
    text += `_{${ascii}}`;
  }
  return text + primes;
}

/**
 * A tensor, index or constant name in LaTeX: `L1` → `L_{1}`, `W1` → `W_{1}`, `Δx` → `\Delta x`,
 * `μ` → `\mu`, `blk1.W` → `\mathrm{blk1}.W`, `W_out` → `\mathit{W\_out}`, `L'` → `L'`.
 */
export function latexName(name: string): string {
  const parts = name.split('.');
  const last = parts.pop()!;
  return [...parts.map((p) => `\\mathrm{${latexChars([...p])}}`), latexBaseName(last)].join('.');
}

// ---------------------------------------------------------------------------------------------
// Index expressions.

function latexExtent(extent: Extent): string {
  return extent.kind === 'literal' ? String(extent.value) : latexName(extent.name);
}

function latexIndexName(n: IndexName, withExtent: boolean): string {
  return withExtent && n.extent !== undefined ? `${latexName(n.name)}{:}${latexExtent(n.extent)}` : latexName(n.name);
}

function indexOperand(e: IndexExpr, minPrecedence: number): string {
  const text = latexIndex(e);
  return indexPrecedence(e) < minPrecedence ? `(${text})` : text;
}

/**
 * An index expression in LaTeX: `x + \Delta x`, `2x + \Delta x - 1`, `\lfloor x/2 \rfloor`,
 * `(g, I)`, `\operatorname{clamp}(x - 1)`. Extents are left out.
 */
export function latexIndex(e: IndexExpr): string {
  switch (e.kind) {
    case 'name':
      return latexIndexName(e, false);
    case 'number':
      return String(e.value);
    case 'binary': {
      if (e.op === '/') return `\\lfloor ${indexOperand(e.left, 2)}/${indexOperand(e.right, 3)} \\rfloor`;
      if (e.op === '*') {
        const left = indexOperand(e.left, 2);
        const right = indexOperand(e.right, 3);
        // A numeric coefficient is written against its factor, as in `2x`.
        const juxtapose = e.left.kind === 'number' && e.right.kind !== 'number' && !/^[-0-9(]/.test(right);
        return juxtapose ? `${left}${right}` : `${left} \\cdot ${right}`;
      }
      return `${indexOperand(e.left, 1)} ${e.op} ${indexOperand(e.right, 2)}`;
    }
    case 'negate':
      return `-${indexOperand(e.arg, 3)}`;
    case 'composite':
      return `(${e.parts.map(latexIndex).join(', ')})`;
    case 'boundary':
      return `\\operatorname{${e.mode}}(${latexIndex(e.arg)})`;
    case 'paren':
      return `(${latexIndex(e.arg)})`;
  }
}

function latexIndexList(indices: readonly IndexExpr[]): string {
  return `[${indices.map(latexIndex).join(', ')}]`;
}

// ---------------------------------------------------------------------------------------------
// Value expressions.

function operand(e: Expr, minPrecedence: number): string {
  const text = latexExpr(e);
  return precedence(e) < minPrecedence ? `\\left(${text}\\right)` : text;
}

/** Grouping that a fraction bar, a root or a superscript already provides: no parentheses. */
function ungrouped(e: Expr): Expr {
  return e.kind === 'paren' ? ungrouped(e.arg) : e;
}

function latexNumber(text: string): string {
  const m = /^([^eE]*)[eE]([+-]?)0*([0-9]+)$/.exec(text);
  if (m === null) return text;
  return `${m[1]} \\times 10^{${m[2] === '-' ? '-' : ''}${m[3]}}`;
}

function parenthesised(args: readonly Expr[]): string {
  return `\\left(${args.map(latexExpr).join(', ')}\\right)`;
}

/** Function names typeset as themselves in roman: `\operatorname{relu}`. */
const NAMED_FUNCTIONS: Readonly<Record<string, string>> = {
  sigmoid: '\\sigma',
  σ: '\\sigma',
  tanh: '\\tanh',
  exp: '\\exp',
  log: '\\log',
  max: '\\max',
  min: '\\min',
};

function latexCall(fn: string, args: readonly Expr[]): string {
  if (args.length === 1) {
    const arg = args[0];
    if (fn === 'sqrt') return `\\sqrt{${latexExpr(ungrouped(arg))}}`;
    if (fn === 'abs') return `\\left|${latexExpr(ungrouped(arg))}\\right|`;
    if (fn === 'square') {
      const inner = ungrouped(arg);
      return precedence(inner) >= 5 && inner.kind !== 'number' ? `${latexPowerBase(inner)}^{2}` : `\\left(${latexExpr(inner)}\\right)^{2}`;
    }
  }
  const name = (Object.hasOwn(NAMED_FUNCTIONS, fn) ? NAMED_FUNCTIONS[fn] : undefined) ?? `\\operatorname{${latexChars([...fn])}}`;
  return `${name}${parenthesised(args)}`;
}

/**
 * A base for `^`, safe from double superscripts: a base that already ends in one (`10^{5}` from
 * `1e5`, `x^{2}` from `square(x)`) is parenthesised, and a name with a prime (`L'` is `L^{\prime}`)
 * is braced.
 */
function latexPowerBase(e: Expr): string {
  const text = operand(e, 5);
  const inner = ungrouped(e);
  const endsInSuperscript =
    (inner.kind === 'number' && /[eE]/.test(inner.text ?? String(inner.value))) || (inner.kind === 'call' && inner.fn === 'square' && inner.args.length === 1);
  if (e.kind !== 'paren' && endsInSuperscript) return `\\left(${text}\\right)`;
  return text.includes("'") ? `{${text}}` : text;
}

const AGGREGATORS: Readonly<Record<string, string>> = {
  sum: '\\sum',
  max: '\\max',
  min: '\\min',
  mean: '\\operatorname{mean}',
};

/**
 * A value expression in LaTeX: `\operatorname{relu}\left(W_{1}[\Delta x, \Delta y, I, j] \cdot ... \right)`,
 * `\sum_{i} A[i] \cdot B[i] + C`, `\frac{a}{b}`, `x^{2}`, `\sqrt{v + 1}`.
 */
export function latexExpr(e: Expr): string {
  switch (e.kind) {
    case 'number':
      return latexNumber(e.text ?? String(e.value));
    case 'nameref':
      return latexName(e.name);
    case 'access':
      return `${latexName(e.tensor)}${latexIndexList(e.indices)}`;
    case 'binary':
      switch (e.op) {
        case '+':
        case '-':
          return `${operand(e.left, 1)} ${e.op} ${operand(e.right, 2)}`;
        case '*':
          return `${operand(e.left, 2)} \\cdot ${operand(e.right, 3)}`;
        case '/':
          return `\\frac{${latexExpr(ungrouped(e.left))}}{${latexExpr(ungrouped(e.right))}}`;
        case '^':
          return `${latexPowerBase(e.left)}^{${latexExpr(ungrouped(e.right))}}`;
      }
      break;
    case 'negate':
      return `-${operand(e.arg, 3)}`;
    case 'call':
      return latexCall(e.fn, e.args);
    case 'aggregate':
      return `${AGGREGATORS[e.op]}_{${e.indices.map((i) => latexIndexName(i, false)).join(',')}} ${operand(e.body, 2)}`;
    case 'paren':
      return `\\left(${latexExpr(e.arg)}\\right)`;
  }
  throw new Error(`latexExpr: unknown node ${JSON.stringify((e as { kind?: unknown }).kind)}`);
}

// ---------------------------------------------------------------------------------------------
// Statements and programs.

function latexDeclaredIndices(indices: readonly IndexName[]): string {
  return `[${indices.map((i) => latexIndexName(i, true)).join(', ')}]`;
}

function latexInitializer(init: InitializerSpec): string {
  const name = `\\operatorname{${latexChars([...init.name])}}`;
  return init.args.length === 0 ? name : `${name}(${init.args.map((a) => latexNumber(String(a))).join(', ')})`;
}

/**
 * One statement as a line of an `aligned` block: `L_{1}[b, x, y, j] &= ...`; declarations start
 * at the alignment point: `&\text{input } X[b, x{:}28]`, `&\text{param } W \sim \operatorname{he\_normal}`;
 * a constant is `s &= 2`.
 */
export function latexStatement(s: Statement): string {
  switch (s.kind) {
    case 'assign': {
      const lhs = s.indices.length === 0 ? latexName(s.target) : `${latexName(s.target)}${latexIndexList(s.indices)}`;
      return `${lhs} &= ${s.parts.map(latexExpr).join(' \\,;\\, ')}`;
    }
    case 'input':
      return `&\\text{input } ${latexName(s.name)}${latexDeclaredIndices(s.indices)}`;
    case 'param': {
      const shape = s.indices === undefined ? '' : latexDeclaredIndices(s.indices);
      const init = s.init === undefined ? '' : ` \\sim ${latexInitializer(s.init)}`;
      return `&\\text{param } ${latexName(s.name)}${shape}${init}`;
    }
    case 'const':
      return s.value === undefined ? `&\\text{const } ${latexName(s.name)}` : `${latexName(s.name)} &= ${latexNumber(String(s.value))}`;
  }
}

/**
 * A program as one LaTeX `aligned` block, one statement per line, aligned on `=`:
 *
 *     \begin{aligned}
 *     L_{1}[b, x, y, j] &= \operatorname{relu}\left(W_{1}[\Delta x, \Delta y, I, j] \cdot L_{0}[b, x + \Delta x, y + \Delta y, I] + B_{1}[j]\right) \\
 *     L_{2}[b, x, y, j] &= \max_{\Delta x,\Delta y} L_{1}[b, 2x + \Delta x, 2y + \Delta y, j]
 *     \end{aligned}
 *
 * Put it inside `$$ ... $$` (Jupyter Markdown, KaTeX, MathJax) or an `equation*` environment.
 *
 * Limitations: extents of assignments and aggregators are not shown; comments are lost.
 */
export function programToLatex(p: Program): string {
  return `\\begin{aligned}\n${p.statements.map(latexStatement).join(' \\\\\n')}\n\\end{aligned}`;
}
