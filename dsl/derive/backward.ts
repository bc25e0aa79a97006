/**
 * `p.backward()`: the gradient of every statement, written in the notation by the transpose rule
 * — the gradient of a contraction with respect to one operand is the contraction of the output
 * gradient with the other operands, its indices read on the left (a scatter when they are affine).
 * Elementwise functions contribute their derivative (`relu'`, `σ'`, …) and max/min an indicator of
 * the winning term. This is for reading; what runs is tfjs autodiff over the lowered plan, except
 * for convolutions, whose executed gradient programs (derived the same way, dsl/derive/conv-backward.ts)
 * are listed after the equations.
 */
import type { CheckedExpr, CheckedIndex, CheckedProgram, CheckedStatement, LhsIndex } from '../check/checked';
import { indexText } from '../check/index-text';
import type { Plan } from '../lower/plan';

const PRIME: Record<string, string> = {
  relu: "relu'",
  sigmoid: "σ'",
  tanh: "tanh'",
  exp: 'exp',
  log: '1/',
  sqrt: "sqrt'",
  abs: 'sign',
  square: '2·',
  softplus: 'σ',
};

export function exprText(e: CheckedExpr): string {
  switch (e.kind) {
    case 'const':
      return `${e.value}`;
    case 'access':
      return `${e.tensor}${e.indices.length ? `[${e.indices.map(indexText).join(',')}]` : ''}`;
    case 'unary':
      return e.fn === 'neg' ? `-${wrap(e.arg)}` : `${e.fn}(${exprText(e.arg)})`;
    case 'binary': {
      const op = { add: ' + ', sub: ' - ', mul: ' · ', div: ' / ', pow: '^' }[e.fn as string];
      return op ? `${wrap(e.left)}${op}${wrap(e.right)}` : `${e.fn}(${exprText(e.left)}, ${exprText(e.right)})`;
    }
    case 'reduce':
      return `${e.op}[${e.indices.join(',')}] ${wrap(e.body)}`;
  }
}

function wrap(e: CheckedExpr): string {
  return e.kind === 'binary' && (e.fn === 'add' || e.fn === 'sub') ? `(${exprText(e)})` : exprText(e);
}

/** The chain-rule factors from `e` down to every tensor read in it. */
function partials(e: CheckedExpr, factors: readonly string[], out: { access: CheckedExpr & { kind: 'access' }; factors: string[] }[]): void {
  switch (e.kind) {
    case 'const':
      return;
    case 'access':
      out.push({ access: e, factors: [...factors] });
      return;
    case 'unary': {
      const d =
        e.fn === 'neg'
          ? '-1'
          : e.fn === 'log'
            ? `1/${wrap(e.arg)}`
            : e.fn === 'square'
              ? `2·${wrap(e.arg)}`
              : e.fn === 'exp'
                ? exprText(e)
                : `${PRIME[e.fn]}(${exprText(e.arg)})`;
      partials(e.arg, [...factors, d], out);
      return;
    }
    case 'binary':
      switch (e.fn) {
        case 'add':
          partials(e.left, factors, out);
          partials(e.right, factors, out);
          return;
        case 'sub':
          partials(e.left, factors, out);
          partials(e.right, [...factors, '-1'], out);
          return;
        case 'mul':
          partials(e.left, [...factors, wrap(e.right)], out);
          partials(e.right, [...factors, wrap(e.left)], out);
          return;
        case 'div':
          partials(e.left, [...factors, `1/${wrap(e.right)}`], out);
          partials(e.right, [...factors, `-${wrap(e.left)}/${wrap(e.right)}^2`], out);
          return;
        case 'pow':
          partials(e.left, [...factors, `${wrap(e.right)}·${wrap(e.left)}^(${exprText(e.right)} - 1)`], out);
          partials(e.right, [...factors, `log(${wrap(e.left)})·${wrap(e)}`], out);
          return;
        default:
          partials(e.left, [...factors, `𝟙[${exprText(e.left)} wins ${e.fn}]`], out);
          partials(e.right, [...factors, `𝟙[${exprText(e.right)} wins ${e.fn}]`], out);
          return;
      }
    case 'reduce':
      if (e.op === 'mean') partials(e.body, [...factors, `1/(${e.indices.map((i) => `|${i}|`).join('·')})`], out);
      else if (e.op === 'sum') partials(e.body, factors, out);
      else partials(e.body, [...factors, `𝟙[arg${e.op} over ${e.indices.join(',')}]`], out);
      return;
  }
}

function statementGradients(s: CheckedStatement): string[] {
  const lines: string[] = [];
  const lhs = s.lhs.map(indexText).join(',');
  const seed = `d${s.target}${s.lhs.length ? `[${lhs}]` : ''}`;
  s.parts.forEach((part) => {
    const found: { access: CheckedExpr & { kind: 'access' }; factors: string[] }[] = [];
    partials(part, [], found);
    for (const { access, factors } of found) {
      const target = `d${access.tensor}${access.indices.length ? `[${access.indices.map(indexText).join(',')}]` : ''}`;
      const expressible = access.indices.every((ix) => ix.kind === 'affine' || ix.kind === 'composite');
      const rhs = [seed, ...factors.filter((f) => f !== '1')].join(' · ');
      lines.push(`${target} += ${rhs}${expressible ? '' : '   (a read through floor division or a boundary mode: the scatter is not itself a statement)'}`);
    }
  });
  return lines;
}

/**
 * The gradient equations of a checked program, last statement first, followed by the gradient
 * programs the lowered plan actually runs for its convolutions.
 */
export function backwardText(program: CheckedProgram, plan: Plan | undefined): string {
  const out: string[] = [];
  for (const s of [...program.statements].reverse()) {
    out.push(`# from ${program.source.slice(s.span.start, s.span.end).split('\n')[0]}`);
    out.push(...statementGradients(s));
  }
  const convs = plan?.steps.filter((st) => st.op === 'conv') ?? [];
  if (convs.length > 0) {
    out.push('', '# executed gradient programs of the convolutions (valid, after padding):');
    for (const st of convs) {
      if (st.op !== 'conv') continue;
      out.push(`# conv ${st.note ?? ''} ${st.inputs.length ? `[${st.shape.join(',')}]` : ''}`.trim(), st.backward.filter.source, st.backward.input.source);
    }
  }
  return out.join('\n');
}
