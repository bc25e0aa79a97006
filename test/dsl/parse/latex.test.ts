/**
 * LaTeX typesetting. Expected strings are written by hand from the slides' notation
 * (seeds/003): subscripted layer numbers, `\Delta x`, `\sum_{\Delta x,\Delta y,I}`, `\cdot`,
 * `\sigma`, `\operatorname{relu}`, `\frac`, floor division in indices, `\,;\,` concatenation,
 * statements aligned on `&=`. KaTeX (strict) checks that whatever we produce is valid LaTeX.
 */
import fc from 'fast-check';
import katex from 'katex';
import { describe, expect, it } from 'vitest';
import type { Statement } from '../../../dsl/parse/ast';
import { latexName, latexStatement, programToLatex } from '../../../dsl/parse/latex';
import { parse } from '../../../dsl/parse/parser';
import { programArb } from './generators';

/** The one statement of `source`, typeset. */
function tex(source: string): string {
  const [s] = parse(source).statements as Statement[];
  return latexStatement(s);
}

function rendersInKatex(latex: string): void {
  katex.renderToString(latex, { throwOnError: true, displayMode: true, strict: 'error' });
}

describe('LANGUAGE.md §1 as on the slides', () => {
  const CONV = 'L1[b,x,y,j:6]  = relu(W1[Δx:5,Δy:5,I,j] · L0[b,x+Δx,y+Δy,I] + B1[j])';
  const POOL = 'L2[b,x,y,j]    = max[Δx:2,Δy:2] L1[b,2*x+Δx,2*y+Δy,j]';
  const CONV_TEX =
    'L_{1}[b, x, y, j] &= \\operatorname{relu}\\left(W_{1}[\\Delta x, \\Delta y, I, j] \\cdot L_{0}[b, x + \\Delta x, y + \\Delta y, I] + B_{1}[j]\\right)';
  const POOL_TEX = 'L_{2}[b, x, y, j] &= \\max_{\\Delta x,\\Delta y} L_{1}[b, 2x + \\Delta x, 2y + \\Delta y, j]';

  it('convolution + relu', () => expect(tex(CONV)).toBe(CONV_TEX));
  it('max pooling with stride 2', () => expect(tex(POOL)).toBe(POOL_TEX));
  it('the program as an aligned block', () => {
    const latex = programToLatex(parse(`# LeNet-style conv + pool\n${CONV}\n${POOL}\n`));
    expect(latex).toBe(`\\begin{aligned}\n${CONV_TEX} \\\\\n${POOL_TEX}\n\\end{aligned}`);
    rendersInKatex(latex);
  });
});

describe('names', () => {
  const cases: readonly (readonly [string, string])[] = [
    ['L1', 'L_{1}'],
    ['W1', 'W_{1}'],
    ['L12', 'L_{12}'],
    ['blk1.W', '\\mathrm{blk1}.W'],
    ['blk1.W1', '\\mathrm{blk1}.W_{1}'],
    ['Δx', '\\Delta x'],
    ['ΔX', '\\Delta X'],
    ['μ', '\\mu'],
    ['x', 'x'],
    ['W_out', '\\mathit{W\\_out}'],
    ['conv1', '\\mathit{conv}_{1}'],
    ["L'", "L'"],
    ["L1'", "L_{1}'"],
    ['L₁', 'L_{1}'],
    ['é', '\\text{é}'],
  ];
  for (const [name, expected] of cases) it(`${name} → ${expected}`, () => expect(latexName(name)).toBe(expected));
});

describe('constructs', () => {
  const cases: readonly (readonly [string, string, string])[] = [
    [
      'σ as the seed writes it, juxtaposition as \\cdot',
      'L[b,x,y,j] = σ(W[Δx,Δy,I,j] L[b,x+Δx,y+Δy,I] − B[j])',
      'L[b, x, y, j] &= \\sigma\\left(W[\\Delta x, \\Delta y, I, j] \\cdot L[b, x + \\Delta x, y + \\Delta y, I] - B[j]\\right)',
    ],
    ['sigmoid is σ too', 'Y[i] = sigmoid(X[i])', 'Y[i] &= \\sigma\\left(X[i]\\right)'],
    [
      'Σ with its indices below',
      'Y[b,x,y,j] = Σ[Δx,Δy,I] W[Δx,Δy,I,j] · L[b,x+Δx,y+Δy,I]',
      'Y[b, x, y, j] &= \\sum_{\\Delta x,\\Delta y,I} W[\\Delta x, \\Delta y, I, j] \\cdot L[b, x + \\Delta x, y + \\Delta y, I]',
    ],
    ['sum, extents left out', 'Y = sum[i:3] A[i] + C', 'Y &= \\sum_{i} A[i] + C'],
    ['mean', 'Y[j] = mean[Δx:2,Δy:2] L[Δx,Δy,j]', 'Y[j] &= \\operatorname{mean}_{\\Delta x,\\Delta y} L[\\Delta x, \\Delta y, j]'],
    ['min', 'Y[j] = min[i] A[i,j]', 'Y[j] &= \\min_{i} A[i, j]'],
    ['aggregator over a sum', 'Y = sum[i] (A[i] + B[i])', 'Y &= \\sum_{i} \\left(A[i] + B[i]\\right)'],
    ['sqrt', 'Y[i] = sqrt(V[i] + 1e-5)', 'Y[i] &= \\sqrt{V[i] + 1 \\times 10^{-5}}'],
    ['division as a fraction', 'Y[i] = (X[i] - M[i]) / S[i]', 'Y[i] &= \\frac{X[i] - M[i]}{S[i]}'],
    ['nested fractions', 'Y = a / b / c', 'Y &= \\frac{\\frac{a}{b}}{c}'],
    ['floor division in an index', 'Y[x] = X[x/2] + X[(x+1)/2]', 'Y[x] &= X[\\lfloor x/2 \\rfloor] + X[\\lfloor (x + 1)/2 \\rfloor]'],
    ['coefficients and products in indices', 'Y[x] = X[s*x + 2*Δx - 1]', 'Y[x] &= X[s \\cdot x + 2\\Delta x - 1]'],
    [
      'composite and boundary indices',
      'Y[x] = X[(g, I), clamp(x - 1), wrap(x), reflect(x + 1)]',
      'Y[x] &= X[(g, I), \\operatorname{clamp}(x - 1), \\operatorname{wrap}(x), \\operatorname{reflect}(x + 1)]',
    ],
    ['concatenation', 'T[b,x,y,J1+J2] = A[b,x,y,J1] ; B[b,x,y,J2]', 'T[b, x, y, J_{1} + J_{2}] &= A[b, x, y, J_{1}] \\,;\\, B[b, x, y, J_{2}]'],
    ['powers as superscripts', "Y = x^2 + x^(k+1) + L'^2", "Y &= x^{2} + x^{k + 1} + {L'}^{2}"],
    ['a number with an exponent as a base', 'Y = 1e5^x', 'Y &= \\left(1 \\times 10^{5}\\right)^{x}'],
    [
      'relu, tanh, exp, log, softplus',
      'Y = relu(a) + tanh(a) + exp(a) + log(a) + softplus(a)',
      'Y &= \\operatorname{relu}\\left(a\\right) + \\tanh\\left(a\\right) + \\exp\\left(a\\right) + \\log\\left(a\\right) + \\operatorname{softplus}\\left(a\\right)',
    ],
    ['abs and square', 'Y = abs(a - b) + square(a) + square(a + b)', 'Y &= \\left|a - b\\right| + a^{2} + \\left(a + b\\right)^{2}'],
    ['binary max and min', 'Y = max(a, 0) + min(a, b)', 'Y &= \\max\\left(a, 0\\right) + \\min\\left(a, b\\right)'],
    ['unary minus and parentheses', 'Y = -(a + b) · c', 'Y &= -\\left(a + b\\right) \\cdot c'],
    ['input declaration keeps its extents', 'input X[b, x:28, y:28, i:1]', '&\\text{input } X[b, x{:}28, y{:}28, i{:}1]'],
    ['param with initializer', 'param W1 ~ he_normal', '&\\text{param } W_{1} \\sim \\operatorname{he\\_normal}'],
    ['param with shape and arguments', 'param W[i:3, j:K] ~ normal(0, 0.1)', '&\\text{param } W[i{:}3, j{:}K] \\sim \\operatorname{normal}(0, 0.1)'],
    ['const', 'const s = 2', 's &= 2'],
    ['const supplied by the caller', 'const s', '&\\text{const } s'],
  ];
  for (const [what, source, expected] of cases) {
    it(what, () => {
      expect(tex(source)).toBe(expected);
      rendersInKatex(`\\begin{aligned}${expected}\\end{aligned}`);
    });
  }
});

describe('every generated program', () => {
  it('typesets to LaTeX that KaTeX accepts in strict mode', () => {
    fc.assert(
      fc.property(programArb, (g) => {
        rendersInKatex(programToLatex(parse(g.text)));
      }),
      { numRuns: 300 },
    );
  });
});
