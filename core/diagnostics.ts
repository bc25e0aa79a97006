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
  EIN2012: 'left-hand index used twice',
  EIN2013: 'bad left-hand side',
  EIN2014: 'tensor read before it is assigned',
  EIN2015: 'unknown constant',
  EIN2016: 'bad concatenation',
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
  EIN3005: 'binding has the wrong dtype',
  EIN3006: 'unknown option',
  EIN3008: 'lowered result differs from the reference',
  EIN3020: 'bad option value',
  // native backend
  EIN3100: 'native backend not available',
  EIN3101: 'bad native thread count',
  EIN3102: 'bad Winograd setting',
  // browser backends
  EIN3103: 'WebGL device renders float16 only',
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
  EIN5020: 'dataset holds no examples',
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
  EIN6010: 'cannot write a figure file',
  // the playground page
  EIN6020: 'cannot serve the playground',
  EIN6021: 'bad shapes in the playground',
  // export
  EIN7001: 'bad export option',
  EIN7002: 'no Python with PyTorch',
  EIN7010: 'bad PyTorch export or import option',
  EIN7011: 'cannot write the PyTorch export',
  EIN7012: 'no PyTorch checkpoint found',
} as const;

export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;

export interface EinErrorInit {
  readonly code: DiagnosticCode;
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

/** Index into `lineStarts` of the line holding `offset` (clamped into the source). */
function lineIndex(source: string, offset: number): number {
  if (source !== indexedSource) {
    indexedSource = source;
    lineStarts = [0];
    for (let i = source.indexOf('\n'); i >= 0; i = source.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  }
  const end = Math.min(Math.max(offset, 0), source.length);
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid] <= end) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Number of code points in `source` between two offsets. */
function codePoints(source: string, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = source.charCodeAt(i);
    // A low surrogate after a high one is the second half of one code point.
    if (!(c >= 0xdc00 && c <= 0xdfff && i > start && source.charCodeAt(i - 1) >= 0xd800 && source.charCodeAt(i - 1) <= 0xdbff)) n++;
  }
  return n;
}

/** Line (1-based) of an offset in `source`; costs a binary search once the source is indexed. */
export function lineOf(source: string, offset: number): number {
  return lineIndex(source, offset) + 1;
}

/** Line (1-based) and column (1-based, in code points) of an offset in `source`. */
export function lineColumn(source: string, offset: number): { line: number; column: number } {
  const k = lineIndex(source, offset);
  const end = Math.min(Math.max(offset, 0), source.length);
  return { line: k + 1, column: codePoints(source, lineStarts[k], end) + 1 };
}

/** How many characters of context an excerpt shows on each side of its span, at most. */
export const EXCERPT_CONTEXT = 80;

/** Moves `offset` off the second half of a surrogate pair, so a clip never splits a code point. */
function codePointStart(source: string, offset: number): number {
  const c = source.charCodeAt(offset);
  return c >= 0xdc00 && c <= 0xdfff && offset > 0 ? offset - 1 : offset;
}

/**
 * The source line holding `span.start`, and a caret line under the span. A long line is clipped
 * to `EXCERPT_CONTEXT` characters either side of the span (marked `…`), and a long span to as
 * many carets, so an excerpt costs the same however long the line is.
 */
export function excerpt(source: string, span: Span): string {
  const k = lineIndex(source, span.start);
  const start = Math.min(Math.max(span.start, 0), source.length);
  const lineStart = lineStarts[k];
  const lineEnd = k + 1 < lineStarts.length ? lineStarts[k + 1] - 1 : source.length;
  const from = lineStart < start - EXCERPT_CONTEXT ? codePointStart(source, start - EXCERPT_CONTEXT) : lineStart;
  const spanEnd = Math.min(Math.max(span.end, start), lineEnd, start + EXCERPT_CONTEXT);
  const to = lineEnd > spanEnd + EXCERPT_CONTEXT ? codePointStart(source, spanEnd + EXCERPT_CONTEXT) : lineEnd;
  const before = from > lineStart ? '…' : '';
  const after = to < lineEnd ? '…' : '';
  const text = `${before}${source.slice(from, to).replace(/\r$/, '')}${after}`;
  const col = codePoints(source, from, start) + before.length;
  const width = Math.max(1, codePoints(source, start, spanEnd));
  const gutter = `${k + 1} | `;
  return `${gutter}${text}\n${' '.repeat(gutter.length + col)}${'^'.repeat(width)}`;
}

/**
 * The error every einnet stage throws for a user mistake. It carries the place (line, column,
 * excerpt with a caret), what was expected, how to fix it and — for shape errors — every extent
 * involved with its origin. `message` holds all of that, formatted for a terminal.
 */
export class EinError extends Error {
  readonly code: DiagnosticCode;
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

  /** Every error this one reports, in source order: itself alone, or the list of an `EinErrors`. */
  get diagnostics(): readonly EinError[] {
    return [this];
  }
}

/** How many errors one `EinErrors` spells out; the rest are counted on its last line. */
export const MAX_REPORTED_ERRORS = 20;

/**
 * Several independent errors found in one pass (the parser recovers and reports every syntax
 * error; `ein()` every unknown name; the checker every statement that fails on its own). Its
 * code, place and first message line are those of the first error in source order; `errors`
 * lists at most `MAX_REPORTED_ERRORS`, and `total` counts them all.
 */
export class EinErrors extends EinError {
  readonly errors: readonly EinError[];
  /** How many errors were found, including those not listed. */
  readonly total: number;

  /** `errors` need not be sorted; `total` defaults to their number. */
  constructor(errors: readonly EinError[], total = errors.length) {
    const sorted = sortErrors(errors).slice(0, MAX_REPORTED_ERRORS);
    const first = sorted[0];
    const omitted = total - sorted.length;
    const rest = sorted.slice(1).map((e) => e.message);
    const lines = [first.message, '', rest.length > 0 ? `${total} errors in all; the others:` : `${total} errors in all`];
    if (rest.length > 0) lines.push('', rest.join('\n\n'));
    if (omitted > 0) lines.push('', `… and ${omitted} more error${omitted === 1 ? '' : 's'} not shown`);
    super({ code: first.code, message: '' });
    this.message = lines.join('\n');
    this.errors = sorted;
    this.total = total;
    // Place of the first error, so callers that look at line/column see the earliest one.
    Object.assign(this, { line: first.line, column: first.column, span: first.span, excerpt: first.excerpt, summary: first.summary });
    Object.assign(this, { expected: first.expected, hint: first.hint, extents: first.extents });
  }

  override get diagnostics(): readonly EinError[] {
    return this.errors;
  }
}

/** Errors in source order; errors with no place (bindings, options) come first, as found. */
export function sortErrors(errors: readonly EinError[]): EinError[] {
  return errors
    .map((e, k) => ({ e, k }))
    .sort((a, b) => (a.e.span?.start ?? -1) - (b.e.span?.start ?? -1) || a.k - b.k)
    .map(({ e }) => e);
}

/**
 * Throws what `errors` report: nothing when empty, the error itself when there is one, an
 * `EinErrors` otherwise. `total` counts errors found but not built (see `MAX_REPORTED_ERRORS`).
 */
export function throwAll(errors: readonly EinError[], total = errors.length): void {
  if (errors.length === 0) return;
  if (errors.length === 1 && total === 1) throw errors[0];
  throw new EinErrors(errors, total);
}
