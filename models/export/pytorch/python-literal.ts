/** Python source for JSON-like data: numbers, strings, booleans, null (None), lists and dicts. */
export function pythonLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'float("nan")';
    if (!Number.isFinite(value)) return value > 0 ? 'float("inf")' : '-float("inf")';
    return JSON.stringify(value);
  }
  // A JSON string literal is a Python string literal (the same escapes); non-ASCII stays as it is.
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pythonLiteral).join(', ')}]`;
  const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${JSON.stringify(k)}: ${pythonLiteral(v)}`);
  return `{${entries.join(', ')}}`;
}

/** A dict literal with one entry per line (for the long tables at the top of generated files). */
export function pythonDict(value: Readonly<Record<string, unknown>>): string {
  const entries = Object.entries(value);
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, v]) => `    ${JSON.stringify(k)}: ${pythonLiteral(v)},`).join('\n')}\n}`;
}
