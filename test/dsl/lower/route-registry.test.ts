/**
 * The route registry, the route files and docs/lowering.md agree: the docs' route tables list
 * the registry's routes in its order, each with the file that defines it, every route file
 * defines exactly the routes the docs give it, and the passes table lists the passes in order.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PASSES } from '../../../dsl/lower/passes';
import { EXPRESSION_ROUTES, STATEMENT_ROUTES } from '../../../dsl/lower/routes';

const ROOT = join(__dirname, '../../..');
const DOC = readFileSync(join(ROOT, 'docs/lowering.md'), 'utf8');

/** Rows of the markdown table whose header starts with `| first |`: [first cell, second cell]. */
function tables(first: string): [string, string][][] {
  const out: [string, string][][] = [];
  const lines = DOC.split('\n');
  lines.forEach((line, k) => {
    if (!line.startsWith(`| ${first} | file |`)) return;
    const rows: [string, string][] = [];
    for (let j = k + 2; j < lines.length && lines[j].startsWith('|'); j++) {
      const cells = lines[j].split('|').map((c) => c.trim());
      rows.push([cells[1], cells[2].replace(/`/g, '')]);
    }
    out.push(rows);
  });
  return out;
}

type Named = { name: string; matches: unknown; lower?: unknown; run?: unknown };

async function definedIn(dir: string, file: string): Promise<string[]> {
  const module = (await import(join(ROOT, 'dsl/lower', dir, file))) as Record<string, unknown>;
  return Object.values(module)
    .filter((v): v is Named => typeof v === 'object' && v !== null && typeof (v as Named).name === 'string' && ('lower' in v || 'run' in v))
    .map((v) => v.name);
}

describe('route registry and docs/lowering.md', () => {
  it('the route tables list the statement routes, then the expression routes, in registry order', async () => {
    const [statementRows, expressionRows] = tables('route');
    expect(statementRows.map((r) => r[0])).toEqual(STATEMENT_ROUTES.map((r) => r.name));
    expect(expressionRows.map((r) => r[0])).toEqual(EXPRESSION_ROUTES.map((r) => r.name));
    for (const [name, file] of [...statementRows, ...expressionRows]) expect(await definedIn('routes', file), file).toEqual([name]);
  });

  it('every file in routes/ is a route in the tables, except the registry and the boundary-padding helper', () => {
    const listed = tables('route')
      .flat()
      .map((r) => r[1]);
    const files = readdirSync(join(ROOT, 'dsl/lower/routes')).filter((f) => f !== 'index.ts' && f !== 'boundary.ts');
    expect([...files].sort()).toEqual([...listed].sort());
  });

  it('the passes table lists the passes in order, each with its file', async () => {
    const [rows] = tables('pass');
    expect(rows.map((r) => r[0])).toEqual(PASSES.map((p) => p.name));
    for (const [name, file] of rows) expect(await definedIn('passes', file), file).toEqual([name]);
  });
});
