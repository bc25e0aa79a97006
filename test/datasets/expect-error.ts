import { expect } from 'vitest';
import { EinError } from '../../core/diagnostics';

/** Runs f, expects an EinError with `code` whose message contains every string in `parts`. */
export function expectEinError(f: () => unknown, code: string, ...parts: string[]): EinError {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(EinError);
  const err = caught as EinError;
  expect(err.code).toBe(code);
  for (const p of parts) expect(err.message).toContain(p);
  return err;
}

/** The async twin of expectEinError. */
export async function expectEinErrorAsync(p: Promise<unknown>, code: string, ...parts: string[]): Promise<EinError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(EinError);
  const err = caught as EinError;
  expect(err.code).toBe(code);
  for (const p2 of parts) expect(err.message).toContain(p2);
  return err;
}
