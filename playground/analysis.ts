/**
 * What the page shows as the user types: the program checked against the shapes (every tensor's
 * shape with each axis' provenance), typeset with KaTeX, `explain()` on the active backend and the
 * `backward()` equations — or the errors, each with its code, message, place, fix line and link.
 */
import katex from 'katex';
import { EinError, ein, type CheckReport, type Program } from '../browser';
import { readShapes } from './shapes-field';
import { shapeText } from './tables';

export interface Analysis {
  readonly program?: Program;
  readonly shapes?: Record<string, number[]>;
  readonly report?: CheckReport;
  /** The errors, and the field their spans point into. */
  readonly errors: readonly EinError[];
  readonly errorField?: 'program' | 'shapes';
}

function asErrors(e: unknown): EinError[] {
  if (e instanceof EinError) return [...e.diagnostics];
  throw e;
}

/** Parses and checks; never throws for a mistake of the user's (those come back as errors). */
export function analyse(source: string, shapesText: string): Analysis {
  let shapes: Record<string, number[]>;
  try {
    shapes = readShapes(shapesText);
  } catch (e) {
    return { errors: asErrors(e), errorField: 'shapes' };
  }
  let program: Program;
  try {
    program = ein(source);
  } catch (e) {
    return { shapes, errors: asErrors(e), errorField: 'program' };
  }
  try {
    return { program, shapes, report: program.check(shapes), errors: [] };
  } catch (e) {
    return { program, shapes, errors: asErrors(e), errorField: 'program' };
  }
}

/** The address of a code's entry in the error docs shipped with the page. */
export function errorDocLink(code: string): string {
  return `errors.html#${code.toLowerCase()}`;
}

/** One error as the page shows it. */
export function errorElement(e: EinError, field: string): HTMLElement {
  const box = document.createElement('div');
  box.className = 'error';
  box.dataset.code = e.code;
  if (e.column !== undefined) box.dataset.column = String(e.column);
  if (e.line !== undefined) box.dataset.line = String(e.line);
  const head = document.createElement('div');
  const code = document.createElement('a');
  code.className = 'code';
  code.href = errorDocLink(e.code);
  code.target = '_blank';
  code.textContent = e.code;
  code.title = `what ${e.code} means and how to fix it`;
  const place = e.line !== undefined ? ` ${field} ${e.line}:${e.column}` : '';
  head.append(code, document.createTextNode(`${place}: ${e.summary}`));
  box.appendChild(head);
  if (e.excerpt !== undefined) {
    const pre = document.createElement('pre');
    pre.className = 'excerpt';
    pre.textContent = e.excerpt;
    box.appendChild(pre);
  }
  const details: string[] = [];
  if (e.expected !== undefined) details.push(`expected: ${e.expected}`);
  for (const x of e.extents) details.push(`${x.what} = ${x.extent}  (from ${x.from})`);
  if (details.length > 0) {
    const pre = document.createElement('pre');
    pre.textContent = details.join('\n');
    box.appendChild(pre);
  }
  if (e.hint !== undefined) {
    const fix = document.createElement('div');
    fix.className = 'fix';
    fix.textContent = `fix: ${e.hint}`;
    box.appendChild(fix);
  }
  return box;
}

/** The shapes panel: every tensor, its role and shape, and where each axis' extent came from. */
export function shapesElement(report: CheckReport): HTMLElement {
  const table = document.createElement('table');
  table.className = 'grid shapes';
  const head = table.createTHead().insertRow();
  for (const h of ['tensor', 'role', 'shape', 'where each axis comes from']) {
    const th = document.createElement('th');
    th.textContent = h;
    head.appendChild(th);
  }
  const body = table.createTBody();
  for (const [name, info] of report.tensors) {
    const tr = body.insertRow();
    tr.dataset.tensor = name;
    tr.insertCell().textContent = name;
    tr.insertCell().textContent = info.role;
    tr.insertCell().textContent = shapeText(info.shape);
    const axes = tr.insertCell();
    axes.className = 'provenance';
    axes.textContent = info.axisFrom.map((p, k) => `${info.shape[k]} ← ${p.from}`).join('; ');
  }
  return table;
}

/** The program typeset with KaTeX into `target`. */
export function renderLatex(program: Program, target: HTMLElement): void {
  katex.render(program.toLatex(), target, { displayMode: true, throwOnError: false, output: 'htmlAndMathml' });
  target.dataset.latex = program.toLatex();
}

/** `explain` or `backward` as text, or the error they raise, for their panels. */
export function textOf(what: () => string): string {
  try {
    return what();
  } catch (e) {
    if (e instanceof EinError) return e.message;
    return `internal error: ${String(e)}`;
  }
}
