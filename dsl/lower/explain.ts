/**
 * `explain()`: a plan printed for people — per statement, its source, the routes taken (and why
 * a faster one was not), then the tfjs ops with their arguments and output shapes.
 */
import type { Plan, Step } from './plan';

function describe(s: Step): string {
  switch (s.op) {
    case 'input':
      return `input ${s.name}`;
    case 'constant':
      return `constant (${s.values.length} values)`;
    case 'mask':
      return `mask (${s.values.reduce((a, v) => a + v, 0)} of ${s.values.length} terms kept)`;
    case 'scalar':
      return `scalar ${s.value}`;
    case 'indices':
      return `indices (${s.values.length} int32 positions)`;
    case 'gather':
      return `tf.gather axis=${s.axis}`;
    case 'scatterAdd':
      return `scatter-add axis=${s.axis} (tf.scatterND)`;
    case 'transpose':
      return `tf.transpose perm=[${s.perm.join(',')}]`;
    case 'reshape':
      return 'tf.reshape';
    case 'slice':
      return `tf.slice begin=[${s.begin.join(',')}] size=[${s.size.join(',')}]`;
    case 'pad':
      return `tf.pad [${s.paddings.map((p) => `[${p[0]},${p[1]}]`).join(',')}]${s.value !== 0 ? ` value=${s.value}` : ''}`;
    case 'matMul':
      return `tf.matMul${s.transposeA ? ' transposeA' : ''}${s.transposeB ? ' transposeB' : ''}`;
    case 'unary':
      return `tf.${s.fn}`;
    case 'binary':
      return `tf.${s.fn === 'max' ? 'maximum' : s.fn === 'min' ? 'minimum' : s.fn}`;
    case 'where':
      return 'tf.where';
    case 'addRelu':
      return 'relu(a + b)';
    case 'reduce':
      return `tf.${s.fn} axes=[${s.axes.join(',')}]`;
    case 'broadcast':
      return 'tf.broadcastTo';
    case 'concat':
      return `tf.concat axis=${s.axis}`;
    case 'clone':
      return 'tf.clone';
    case 'boundaryPad':
      return `${s.mode} pad axis ${s.axis} [${s.before},${s.after}]`;
    case 'reverse':
      return `tf.reverse axes=[${s.axes.join(',')}]`;
    case 'conv':
      return (
        `${s.depthwise ? 'tf.depthwiseConv2d' : `tf.conv${s.rank}d`} strides=[${s.strides.join(',')}] dilations=[${s.dilations.join(',')}] ` +
        `padding=[${s.padding.map((p) => `[${p[0]},${p[1]}]`).join(',')}]${s.bias ? ' +bias' : ''}${s.activation ? ` ${s.activation}` : ''}`
      );
    case 'pool':
      return `tf.${s.fn}Pool window=[${s.window.join(',')}] strides=[${s.strides.join(',')}]`;
    case 'batchStats':
      return `batch statistics [μ; σ] over axes [${s.reduced.join(',')}] ε=${s.epsilon}`;
    case 'statsHalf':
      return `${s.index === 0 ? 'first' : 'second'} half (tf.split)`;
    case 'batchNormalize':
      return `batch normalization over axes [${s.reduced.join(',')}]${s.scale ? ' ·γ' : ''}${s.offset ? ' +β' : ''}${s.relu ? ' relu' : ''}`;
    case 'normalize':
      return `normalization by given μ, σ over axes [${s.reduced.join(',')}]${s.scale ? ' ·γ' : ''}${s.offset ? ' +β' : ''}${s.relu ? ' relu' : ''}`;
  }
}

/** The plan as text, statement by statement; `noteOf(k)` adds a `note:` line under step k. */
export function explainPlan(plan: Plan, noteOf: (step: number) => string | undefined = () => undefined): string {
  const lines: string[] = [];
  for (const st of plan.statements) {
    lines.push(`${st.source}`);
    for (const r of st.routes) lines.push(`  route: ${r}`);
    for (let k = st.firstStep; k <= st.lastStep; k++) {
      const s = plan.steps[k];
      if (s.op === 'input' || s.op === 'scalar') continue;
      const args = s.inputs.length ? `(${s.inputs.map((i) => `%${i}`).join(', ')})` : '';
      lines.push(`  %${k} = ${describe(s)}${args} → [${s.shape.join(',')}]`);
      const note = noteOf(k);
      if (note !== undefined) lines.push(`  note: ${note}`);
    }
    lines.push(`  ${st.target} = %${plan.outputs.get(st.target)}`);
  }
  return lines.join('\n');
}
