/**
 * Jupyter notebook files (nbformat 4): reading with clear errors, writing atomically.
 */
import * as fs from 'fs';
import * as path from 'path';
import { EinError } from '../../core/diagnostics';

/** A notebook output as nbformat stores it. */
export type NotebookOutput =
  | { output_type: 'stream'; name: 'stdout' | 'stderr'; text: string | string[] }
  | { output_type: 'display_data'; data: Record<string, unknown>; metadata: Record<string, unknown> }
  | { output_type: 'execute_result'; data: Record<string, unknown>; metadata: Record<string, unknown>; execution_count: number | null }
  | { output_type: 'error'; ename: string; evalue: string; traceback: string[] };

export interface NotebookCell {
  cell_type: 'code' | 'markdown' | 'raw';
  source: string | string[];
  metadata: Record<string, unknown>;
  id?: string;
  outputs?: NotebookOutput[];
  execution_count?: number | null;
  attachments?: unknown;
}

export interface Notebook {
  cells: NotebookCell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

/** The kernel spec every einnet notebook names (written by `npm run kernel:install`). */
export const KERNEL_NAME = 'einnet-tslab';
export const KERNEL_DISPLAY_NAME = 'TypeScript (einnet)';

/** A cell's source as one string (nbformat allows a list of lines). */
export function sourceText(cell: Pick<NotebookCell, 'source'>): string {
  return Array.isArray(cell.source) ? cell.source.join('') : cell.source;
}

/**
 * Reads and validates a notebook.
 * @throws EinError EIN6001 naming the file when it is not JSON or not nbformat 4.
 */
export function readNotebook(file: string): Notebook {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new EinError({ code: 'EIN6001', message: `cannot read notebook ${file}: ${(e as Error).message}` });
  }
  let nb: unknown;
  try {
    nb = JSON.parse(text);
  } catch (e) {
    throw new EinError({
      code: 'EIN6001',
      message: `${file} is not valid JSON: ${(e as Error).message}`,
      hint: 'a notebook is a JSON file; open it in Jupyter or VS Code and save it again, or restore it from git',
    });
  }
  const bad = (what: string) =>
    new EinError({
      code: 'EIN6001',
      message: `${file} is not a Jupyter notebook: ${what}`,
      expected: 'nbformat 4: { "cells": [...], "metadata": {...}, "nbformat": 4, "nbformat_minor": 5 }',
    });
  if (nb === null || typeof nb !== 'object') throw bad('the top level is not an object');
  const n = nb as Partial<Notebook>;
  if (n.nbformat !== 4) throw bad(`nbformat is ${JSON.stringify(n.nbformat)}`);
  if (!Array.isArray(n.cells)) throw bad('"cells" is not a list');
  n.cells.forEach((c, i) => {
    if (c === null || typeof c !== 'object') throw bad(`cell ${i + 1} is not an object`);
    if (!['code', 'markdown', 'raw'].includes(c.cell_type)) throw bad(`cell ${i + 1} has cell_type ${JSON.stringify(c.cell_type)}`);
    if (typeof c.source !== 'string' && !(Array.isArray(c.source) && c.source.every((s) => typeof s === 'string'))) {
      throw bad(`cell ${i + 1} has no text source`);
    }
  });
  return { ...n, metadata: n.metadata ?? {}, nbformat_minor: n.nbformat_minor ?? 5 } as Notebook;
}

/** Output data kept on one line when written: figure JSON, whose arrays would take a line per number. */
const ONE_LINE_MIME = 'application/vnd.plotly.v1+json';

/**
 * The notebook's file text: 1-space indent as Jupyter writes it, except plotly figure JSON, which
 * stays on one line (indenting a heatmap's values would double the file).
 */
export function notebookText(nb: Notebook): string {
  const oneLine: string[] = [];
  const text = JSON.stringify(
    nb,
    (key, value: unknown) => {
      if (key !== ONE_LINE_MIME || value === null || typeof value !== 'object') return value;
      oneLine.push(JSON.stringify(value));
      return `\u0000one-line ${oneLine.length - 1}\u0000`;
    },
    1,
  );
  return text.replace(/"\\u0000one-line (\d+)\\u0000"/g, (_, i: string) => oneLine[Number(i)]) + '\n';
}

/**
 * Writes a notebook as Jupyter does (1-space indent, see notebookText; trailing newline), atomically: a
 * temporary file in the same folder is renamed over the target, so readers never see half a file.
 */
export function writeNotebookAtomic(file: string, nb: Notebook): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    fs.writeFileSync(tmp, notebookText(nb));
    fs.renameSync(tmp, file);
  } catch (e) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      /* nothing was written */
    }
    throw e;
  }
}

/** True when any cell holds an error output (the runner never saves such a notebook). */
export function hasErrorOutputs(nb: Notebook): boolean {
  return nb.cells.some((c) => (c.outputs ?? []).some((o) => o.output_type === 'error'));
}
