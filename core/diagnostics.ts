/**
 * Diagnostics: the one error type einnet throws at users, and the table of its codes.
 *
 * Codes are declared once here (EIN1xxx parse, EIN2xxx check, EIN3xxx lower/run/backend,
 * EIN4xxx models and training, EIN5xxx data), like the TypeScript compiler's
 * diagnosticMessages.json. `docs/errors.md` lists them; a test keeps the two in step.
 */

/** A half-open range of character offsets into a program's source. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/** One extent that took part in a shape error, and where it came from. */
export interface ExtentSource {
  /** What has the extent, e.g. `L0 axis 2` or `index Δx`. */
  readonly what: string;
  readonly extent: number;
  /** Where the extent came from, e.g. `bound input L0: [1,5,5,1]` or `annotation j:6 at 1:14`. */
  readonly from: string;
}

export const DIAGNOSTIC_CODES = {
  // parse
  EIN1001: 'unexpected character',
  EIN1002: 'unexpected token',
  EIN1003: 'unclosed bracket',
  EIN1004: 'bad number',
  EIN1005: 'reserved word used as a name',
  EIN1006: 'bad declaration',
  EIN1007: 'empty program',
  // check
  EIN2001: 'tensor assigned twice',
  EIN2002: 'unknown function',
  EIN2003: 'wrong number of arguments',
  EIN2004: 'extent conflict',
  EIN2005: 'composite axis does not divide',
  EIN2006: 'reduced index range cannot be inferred',
  EIN2007: 'empty valid range',
  EIN2008: 'implicit sum is not inside one product term',
  EIN2009: 'index expression is not affine',
  EIN2010: 'rank mismatch',
  EIN2011: 'unknown name',
  EIN2012: 'left-hand index used twice',
  EIN2013: 'bad left-hand side',
  EIN2014: 'tensor read before it is assigned',
  EIN2015: 'unknown constant',
  EIN2016: 'bad concatenation',
  EIN2017: 'aggregator index is not used',
  EIN2018: 'index bound twice',
  EIN2019: 'unknown initializer',
  EIN2020: 'declaration conflicts with use',
  EIN2021: 'left-hand index range cannot be inferred',
  EIN2022: 'division by zero',
  EIN2023: 'bad binding',
  EIN2024: 'tensor too large',
  EIN2030: 'index constant beyond 2^53',
  // lower / run / backend
  EIN3001: 'unknown backend',
  EIN3002: 'backend not available',
  EIN3003: 'missing binding',
  EIN3004: 'binding has the wrong shape',
  EIN3005: 'binding has the wrong dtype',
  EIN3006: 'unknown option',
  EIN3007: 'unsupported construct',
  EIN3008: 'lowered result differs from the reference',
  // native backend
  EIN3100: 'native backend not available',
  EIN3101: 'bad native thread count',
  EIN3102: 'bad Winograd setting',
  // models and training
  EIN4001: 'bad model option',
  EIN4002: 'unknown or bad optimizer option',
  EIN4003: 'checkpoint does not match the model',
  EIN4004: 'cannot read checkpoint',
  EIN4005: 'cannot write checkpoint',
  EIN4006: 'model input has the wrong shape',
  EIN4007: 'value became NaN or infinite',
  EIN4008: 'bad block option',
  EIN4009: 'model used after dispose',
  EIN4010: 'bad training option',
  EIN4011: 'bad initializer arguments',
  EIN4012: 'missing model input',
  // data
  EIN5001: 'dataset not found',
  EIN5002: 'not the expected file format',
  EIN5003: 'file size does not match its contents',
  EIN5004: 'corrupt or truncated gzip data',
  EIN5005: 'labels do not match images',
  EIN5006: 'checksum mismatch',
  EIN5007: 'incomplete download',
  EIN5008: 'download failed',
  EIN5009: 'unknown dataset',
  EIN5010: 'bad dataset option',
  EIN5011: 'cannot read file',
  EIN5012: 'cannot decode image',
  EIN5013: 'corrupt tar archive',
  EIN5014: 'label out of range',
  EIN5015: 'tensor has the wrong shape for a data utility',
  // notebooks and display
  EIN6001: 'bad notebook file',
  EIN6002: 'notebook cell failed',
  EIN6003: 'bad display argument',
  EIN6004: 'tensor has the wrong shape for a plot',
  EIN6005: 'bad plot option',
  EIN6006: 'notebook run timed out',
  EIN6007: 'cannot install the Jupyter kernel',
  EIN6008: 'headless browser not available',
  EIN6009: 'bad notebook runner option',
} as const;

export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;

export interface EinErrorInit {
  readonly code: DiagnosticCode | string;
  /** What is wrong, one sentence, no trailing period. */
  readonly message: string;
  /** Program text, for the excerpt and line/column. */
  readonly source?: string;
  readonly span?: Span;
  /** What was expected instead. */
  readonly expected?: string;
  /** How to fix it. */
  readonly hint?: string;
  /** For shape errors: every extent involved, each with its origin. */
  readonly extents?: readonly ExtentSource[];
  /** A second place in the source that takes part (e.g. the first assignment). */
  readonly related?: { readonly span: Span; readonly label: string };
}

/** Offsets where each line starts, for the last source asked about (checking asks many times). */
let indexedSource: string | undefined;
let lineStarts: number[] = [];

/** Line (1-based) and column (1-based, in code points) of an offset in `source`. */
export function lineColumn(source: string, offset: number): { line: number; column: number } {
  if (source !== indexedSource) {
    indexedSource = source;
    lineStarts = [0];
    for (let i = 0; i < source.length; i++) if (source.charCodeAt(i) === 10) lineStarts.push(i + 1);
  }
  const end = Math.min(Math.max(offset, 0), source.length);
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid] <= end) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: [...source.slice(lineStarts[lo], end)].length + 1 };
}

/** The source line holding `span.start`, and a caret line under the span. */
export function excerpt(source: string, span: Span): string {
  const lineStart = source.lastIndexOf('\n', Math.max(span.start - 1, 0)) + (span.start === 0 ? 0 : 1);
  const start = span.start === 0 ? 0 : lineStart;
  let lineEnd = source.indexOf('\n', span.start);
  if (lineEnd < 0) lineEnd = source.length;
  const text = source.slice(start, lineEnd);
  const col = [...source.slice(start, span.start)].length;
  const width = Math.max(1, [...source.slice(span.start, Math.min(span.end, lineEnd))].length);
  const { line } = lineColumn(source, span.start);
  const gutter = `${line} | `;
  return `${gutter}${text}\n${' '.repeat(gutter.length + col)}${'^'.repeat(width)}`;
}

/**
 * The error every einnet stage throws for a user mistake. It carries the place (line, column,
 * excerpt with a caret), what was expected, how to fix it and — for shape errors — every extent
 * involved with its origin. `message` holds all of that, formatted for a terminal.
 */
export class EinError extends Error {
  readonly code: string;
  readonly line?: number;
  readonly column?: number;
  readonly span?: Span;
  readonly excerpt?: string;
  readonly expected?: string;
  readonly hint?: string;
  readonly extents: readonly ExtentSource[];
  /** The message without place, excerpt and details. */
  readonly summary: string;

  constructor(init: EinErrorInit) {
    const place = init.source !== undefined && init.span !== undefined ? lineColumn(init.source, init.span.start) : undefined;
    const text = init.source !== undefined && init.span !== undefined ? excerpt(init.source, init.span) : undefined;
    const parts = [`${init.code}: ${place ? `${place.line}:${place.column}: ` : ''}${init.message}`];
    if (text !== undefined) parts.push(text);
    if (init.related !== undefined && init.source !== undefined) {
      const rel = lineColumn(init.source, init.related.span.start);
      parts.push(`${init.related.label} at ${rel.line}:${rel.column}:\n${excerpt(init.source, init.related.span)}`);
    }
    if (init.expected !== undefined) parts.push(`expected: ${init.expected}`);
    if (init.extents !== undefined && init.extents.length > 0) {
      parts.push('extents involved:\n' + init.extents.map((e) => `  ${e.what} = ${e.extent}  (from ${e.from})`).join('\n'));
    }
    if (init.hint !== undefined) parts.push(`fix: ${init.hint}`);
    super(parts.join('\n'));
    this.name = 'EinError';
    this.code = init.code;
    this.summary = init.message;
    this.span = init.span;
    this.line = place?.line;
    this.column = place?.column;
    this.excerpt = text;
    this.expected = init.expected;
    this.hint = init.hint;
    this.extents = init.extents ?? [];
  }
}

/** Several errors found in one pass (the parser recovers and reports all syntax errors). */
export class EinErrors extends EinError {
  readonly errors: readonly EinError[];
  constructor(errors: readonly EinError[]) {
    const first = errors[0];
    super({
      code: first.code,
      message: `${errors.length} errors:\n\n` + errors.map((e) => e.message).join('\n\n'),
    });
    this.errors = errors;
    // Place of the first error, so callers that look at line/column see the earliest one.
    Object.assign(this, { line: first.line, column: first.column, span: first.span, excerpt: first.excerpt, summary: first.summary });
  }
}
