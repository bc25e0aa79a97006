/**
 * Type tests: when the source is a string literal, TypeScript knows the program's tensor names.
 * The `@ts-expect-error` lines fail `npm test` (its tsc step) if they stop being errors.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expectTypeOf, it } from 'vitest';
import { ein, type Program } from '../../index';

describe('typed programs', () => {
  it('knows what a dense layer binds and returns', () => {
    const p = ein('Y[b,j] = W[I,j] · X[b,I] + B[j]');
    type P = typeof p;
    type B = Parameters<P['run']>[0];
    expectTypeOf<keyof B>().toEqualTypeOf<'W' | 'X' | 'B'>();
    // Nothing is declared `input`, so every binding is optional to the type checker.
    expectTypeOf<{}>().toMatchTypeOf<B>();
    expectTypeOf<ReturnType<P['run']>>().toEqualTypeOf<Record<'Y', tf.Tensor>>();
    const check = (x: tf.Tensor, w: tf.Tensor) => {
      const { Y } = p.run({ X: x, W: w });
      expectTypeOf(Y).toEqualTypeOf<tf.Tensor>();
      // @ts-expect-error a misspelled binding is a compile error
      p.run({ Xx: x });
      // @ts-expect-error the result has no key Z
      p.run({ X: x }).Z;
      // @ts-expect-error an assigned tensor cannot be bound
      p.run({ Y: x });
    };
    expectTypeOf(check).toBeFunction();
  });

  it('reads several statements, Unicode names, comments and declarations', () => {
    const p = ein(`input L0[b, x:28, y:28, i:1]
param W1 ~ he_normal   # a comment with Z[q] in it
L1[b,x,y,j:6] = relu(W1[Δx:5,Δy:5,I,j] · L0[b,x+Δx,y+Δy,I] + B1[j])
L2[b,x,y,j] = max[Δx:2,Δy:2] L1[b,2*x+Δx,2*y+Δy,j]`);
    type P = typeof p;
    expectTypeOf<ReturnType<P['run']>>().toEqualTypeOf<Record<'L1' | 'L2', tf.Tensor>>();
    type B = Parameters<P['run']>[0];
    expectTypeOf<B>().toMatchTypeOf<{ readonly L0: tf.Tensor }>();
    expectTypeOf<keyof B>().toEqualTypeOf<'L0' | 'W1' | 'B1'>();
    const check = (w: tf.Tensor) => {
      // @ts-expect-error L0 is declared `input`, so it is required
      p.run({ W1: w });
    };
    expectTypeOf(check).toBeFunction();
  });

  it('stays untyped for the tagged template and for non-literal strings', () => {
    const src: string = 'Y[i] = X[i]';
    expectTypeOf(ein(src)).toEqualTypeOf<Program<string, never, string>>();
    // A literal with a string part cannot be read either: its names stay open.
    expectTypeOf(ein(`${src}\nB[i] = A[i]`)).toEqualTypeOf<Program<string, never, string>>();
    expectTypeOf(ein`Y[i] = X[i]`).toEqualTypeOf<Program>();
  });
});
