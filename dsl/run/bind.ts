/**
 * Checks what the caller binds before a run: every value a float32 tf.Tensor, every input and
 * parameter present, shapes consistent with the program (the checker reports conflicts with both
 * sources). Errors name the tensor, the expected and actual shapes and where the expectation
 * came from.
 */
import * as tf from '@tensorflow/tfjs';
import type { CheckedProgram } from '../check/checked';
import { EinError } from '../../core/diagnostics';

/** Shapes of the bound tensors, after checking they are float32 tf.Tensors. */
export function boundShapes(bindings: Readonly<Record<string, unknown>>): Record<string, number[]> {
  if (bindings === null || typeof bindings !== 'object') {
    throw new EinError({
      code: 'EIN3003',
      message: `run() was given ${String(bindings)} as bindings`,
      expected: 'an object mapping tensor names to tf.Tensors',
    });
  }
  const shapes: Record<string, number[]> = {};
  for (const [name, value] of Object.entries(bindings)) {
    if (!(value instanceof tf.Tensor)) {
      throw new EinError({
        code: 'EIN3005',
        message: `${name} is bound to ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}, not a tf.Tensor`,
        hint: `wrap it: tf.tensor(${name}Values, shape)`,
      });
    }
    if (value.isDisposed) {
      throw new EinError({ code: 'EIN3005', message: `${name} is bound to a tensor that was already disposed`, hint: 'keep it alive until run() returns' });
    }
    if (value.dtype !== 'float32') {
      throw new EinError({
        code: 'EIN3005',
        message: `${name} has dtype ${value.dtype}`,
        expected: 'float32',
        hint: `convert it: tf.cast(${name}, 'float32')`,
      });
    }
    shapes[name] = value.shape;
  }
  return shapes;
}

/** Every input and parameter must be bound; lists all that are not, with their shapes. */
export function requireAllBound(checked: CheckedProgram, bindings: Readonly<Record<string, unknown>>): void {
  const missing = [...checked.inputs, ...checked.params].filter((n) => !(n in bindings));
  if (missing.length === 0) return;
  const describe = (n: string) => {
    const t = checked.tensors.get(n)!;
    return `${t.role === 'param' ? 'parameter' : 'input'} ${n} [${t.shape.join(',')}]`;
  };
  throw new EinError({
    code: 'EIN3003',
    message: `missing binding${missing.length > 1 ? 's' : ''}: ${missing.map(describe).join(', ')}`,
    hint: `pass ${missing.length > 1 ? 'them' : 'it'} to run(); parameters are tf.Tensors or tf.Variables of the shapes shown`,
  });
}
