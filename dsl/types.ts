/**
 * Type-level reading of a program's source, so that TypeScript knows its tensor names when the
 * source is a string literal: `ein('Y[b,j] = W[I,j] · X[b,I]')` runs with bindings whose keys
 * are `W` and `X` (a misspelled key is a compile error) and returns an object with key `Y`.
 *
 * The reading is deliberately shallow — names before `[` — and errs towards accepting: every
 * tensor read but not assigned may be bound (inputs and parameters look alike until a call binds
 * them); those declared with `input` must be. For a source TypeScript does not know as a whole
 * (of type `string`, or a template with a `${string}` part) everything stays `string`.
 */

type Delimiter = ' ' | '\t' | '(' | ')' | ',' | '·' | '⋅' | '×' | '*' | '∗' | '+' | '-' | '−' | '/' | '^' | ';' | ']' | '=' | ':' | '~';

/** Text after the last delimiter: the identifier right before a `[`. */
type LastWord<S extends string> = S extends `${string}${Delimiter}${infer Rest}` ? LastWord<Rest> : S;

type StripComment<L extends string> = L extends `${infer Code}#${string}` ? Code : L extends `${infer Code}//${string}` ? Code : L;

type Trim<S extends string> = S extends ` ${infer R}` | `\t${infer R}` | `\r${infer R}`
  ? Trim<R>
  : S extends `${infer R} ` | `${infer R}\t` | `${infer R}\r`
    ? Trim<R>
    : S;

/** True when the text has a part TypeScript only knows as `string` or a number (`${part}`). */
type WideLine<S extends string> = string extends S
  ? true
  : S extends `${infer A}${infer B}`
    ? string extends A
      ? true
      : `${number}` extends A
        ? true
        : WideLine<B>
    : false;
type AnyWide<T extends string[]> = true extends { [K in keyof T]: WideLine<T[K]> }[number] ? true : false;

type Lines<S extends string> = S extends `${infer Line}\n${infer Rest}` ? [StripComment<Line>, ...Lines<Rest>] : [StripComment<S>];

type NotNames = 'sum' | 'max' | 'min' | 'mean' | 'Σ' | '∑' | 'clamp' | 'wrap' | 'reflect' | '';

/** Every identifier followed by `[` in a text. */
type Indexed<S extends string> = S extends `${infer Before}[${infer After}` ? Exclude<LastWord<Before>, NotNames> | Indexed<After> : never;

/** The tensor a line assigns, if it is an assignment. */
type AssignedIn<L extends string> =
  Trim<L> extends `${'input' | 'param' | 'const'} ${string}`
    ? never
    : L extends `${infer Lhs}=${string}`
      ? Trim<Lhs> extends `${infer Name}[${string}`
        ? Trim<Name>
        : Trim<Lhs>
      : never;

/** The right-hand side of an assignment line, or the whole line for a continuation. */
type ReadsIn<L extends string> =
  Trim<L> extends `${'input' | 'param' | 'const'} ${string}` ? never : L extends `${string}=${infer Rhs}` ? Indexed<Rhs> : Indexed<L>;

type DeclaredInput<L extends string> = Trim<L> extends `input ${infer Rest}` ? (Trim<Rest> extends `${infer Name}[${string}` ? Trim<Name> : never) : never;
type DeclaredParam<L extends string> =
  Trim<L> extends `param ${infer Rest}`
    ? LastWord<Trim<Rest> extends `${infer Name}[${string}` ? Trim<Name> : Trim<Rest> extends `${infer Name} ${string}` ? Name : Trim<Rest>>
    : never;

type Each<T extends string[], F extends 'assigned' | 'reads' | 'inputs' | 'params'> = T[number] extends infer L
  ? L extends string
    ? F extends 'assigned'
      ? AssignedIn<L>
      : F extends 'reads'
        ? ReadsIn<L>
        : F extends 'inputs'
          ? DeclaredInput<L>
          : DeclaredParam<L>
    : never
  : never;

/** A source whose text TypeScript does not fully know (a `string`, or `${part}` of one). */
type Unknowable<S extends string> = string extends S ? true : AnyWide<Lines<S>>;

/** Names the program assigns. */
export type AssignedNames<S extends string> = Unknowable<S> extends true ? string : Each<Lines<S>, 'assigned'>;

/** Names that may be bound: read or declared, never assigned. */
export type BindableNames<S extends string> =
  Unknowable<S> extends true ? string : Exclude<Each<Lines<S>, 'reads'> | Each<Lines<S>, 'inputs'> | Each<Lines<S>, 'params'>, Each<Lines<S>, 'assigned'>>;

/** Names that must be bound: declared `input`. */
export type RequiredNames<S extends string> = Unknowable<S> extends true ? never : Each<Lines<S>, 'inputs'>;

/** The bindings object `run` takes. */
export type Bindings<In extends string, Req extends string, T> = string extends In
  ? Readonly<Record<string, T>>
  : { readonly [K in In]?: T } & { readonly [K in Req]: T };
