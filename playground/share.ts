/**
 * The page's state in its address: program, shapes, example and backend live in the fragment
 * (`#p=…&s=…&e=…&b=…`), so a copied link reproduces the page. Nothing is sent to a server.
 */

export interface SharedState {
  readonly program?: string;
  readonly shapes?: string;
  readonly example?: string;
  readonly backend?: string;
}

/** The state in `hash` (location.hash), or an empty state. */
export function readState(hash: string): SharedState {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const get = (k: string) => params.get(k) ?? undefined;
  return { program: get('p'), shapes: get('s'), example: get('e'), backend: get('b') };
}

/** The fragment for `state`. */
export function stateHash(state: SharedState): string {
  const params = new URLSearchParams();
  if (state.example !== undefined) params.set('e', state.example);
  if (state.backend !== undefined) params.set('b', state.backend);
  if (state.program !== undefined) params.set('p', state.program);
  if (state.shapes !== undefined) params.set('s', state.shapes);
  return `#${params.toString()}`;
}

/** Puts `state` in the address bar without a new history entry. */
export function writeState(state: SharedState): void {
  const hash = stateHash(state);
  if (hash !== location.hash) history.replaceState(null, '', hash);
}
