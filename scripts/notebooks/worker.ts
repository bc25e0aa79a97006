/**
 * Executes one notebook's code cells with tslab's own converter and executor (what the Jupyter
 * kernel runs), without Jupyter or ZeroMQ. Started by `run.ts` as a child process whose working
 * folder is the notebook's folder, as Jupyter starts kernels; talks to its parent over IPC.
 *
 * It collects what a kernel would send: stdout/stderr streams, display data (with
 * `update_display_data` applied to the output it targets), and the value of a cell's last
 * expression. tslab reports failures by calling its console's `error` with the Error object
 * (runtime) or with formatted diagnostics (TypeScript), so the real message is captured here.
 */
import { createRequire } from 'module';
import * as path from 'path';
import * as util from 'util';
import type { NotebookOutput } from './ipynb';
import type { CellFailure, RunRequest, WorkerMessage } from './protocol';

// tslab's internals are CommonJS modules, hence require.
const jupyter = require('tslab/dist/jupyter') as { lastWriteDisplayData: unknown };
const { createConverter } = require('tslab/dist/converter') as typeof import('tslab/dist/converter');
const { createExecutor } = require('tslab/dist/executor') as typeof import('tslab/dist/executor');

type DisplayContent = { data: Record<string, unknown>; metadata?: Record<string, unknown>; transient?: { display_id?: string } };

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve, reject) => process.send!(message, (e: Error | null) => (e ? reject(e) : resolve())));
}

async function run(request: RunRequest): Promise<void> {
  const outputs: Record<number, NotebookOutput[]> = {};
  const executionCounts: Record<number, number> = {};
  const byDisplayId = new Map<string, { data: Record<string, unknown> }[]>();
  let current: NotebookOutput[] = [];
  let printedErrors: unknown[][] = [];
  let late: { kind: 'rejection' | 'uncaught'; reason: unknown } | undefined;

  const appendStream = (name: 'stdout' | 'stderr', text: string) => {
    const last = current[current.length - 1];
    if (last !== undefined && last.output_type === 'stream' && last.name === name) last.text = String(last.text) + text;
    else current.push({ output_type: 'stream', name, text });
  };
  // Output written after a cell finished (timers, promises) goes to the latest cell, as in tslab.
  const streamWriter = (name: 'stdout' | 'stderr') =>
    ((chunk: string | Uint8Array, encoding?: unknown, callback?: unknown) => {
      appendStream(name, typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const cb = typeof encoding === 'function' ? encoding : callback;
      if (typeof cb === 'function') cb();
      return true;
    }) as typeof process.stdout.write;
  process.stdout.write = streamWriter('stdout');
  process.stderr.write = streamWriter('stderr');

  jupyter.lastWriteDisplayData = (content: DisplayContent, update: boolean) => {
    const id = content.transient?.display_id;
    if (update) {
      // Jupyter semantics: an update replaces every output shown with that id; unknown ids are ignored.
      for (const out of (id !== undefined && byDisplayId.get(id)) || []) out.data = content.data;
      return;
    }
    const out: NotebookOutput = { output_type: 'display_data', data: content.data, metadata: content.metadata ?? {} };
    current.push(out);
    if (id !== undefined) byDisplayId.set(id, [...(byDisplayId.get(id) ?? []), out]);
  };

  process.on('unhandledRejection', (reason) => {
    late ??= { kind: 'rejection', reason };
  });
  process.on('uncaughtException', (error) => {
    late ??= { kind: 'uncaught', reason: error };
  });

  const convs = {
    node: createConverter({ isJS: false, isBrowser: false }),
    _browser: undefined as ReturnType<typeof createConverter> | undefined,
    get browser() {
      return (this._browser ??= createConverter({ isJS: false, isBrowser: true }));
    },
    close() {
      this.node.close();
      this._browser?.close();
    },
  };
  const executor = createExecutor(process.cwd(), convs, {
    // tslab logs exactly one thing through this console: the value of the cell's last expression.
    log: (value: unknown) => {
      const bundle = einnetRichBundle(value);
      if (bundle !== undefined) current.push({ output_type: 'display_data', data: bundle, metadata: {} });
      else appendStream('stdout', util.format(value) + '\n');
    },
    error: (...args: unknown[]) => {
      printedErrors.push(args);
    },
  });

  let failure: CellFailure | undefined;
  let count = 0;
  for (const cell of request.cells) {
    await send({ type: 'cell-start', index: cell.index });
    current = [];
    outputs[cell.index] = current;
    executionCounts[cell.index] = ++count;
    printedErrors = [];
    const ok = await executor.execute(cell.source);
    await settle();
    if (!ok) {
      failure = describeFailure(cell.index, printedErrors);
      break;
    }
    if (late !== undefined) {
      failure = lateFailure(cell.index, late);
      break;
    }
  }
  if (failure === undefined && request.cells.length > 0) {
    // Late failures of the last cell: a timer or promise it left running may still throw.
    await quiet(() => late !== undefined);
    if (late !== undefined) failure = lateFailure(request.cells[request.cells.length - 1].index, late);
  }
  await send({ type: 'done', outputs, executionCounts, failure });
  executor.close();
}

/**
 * The rich display of a cell's last value, from the einnet the notebook itself imports (resolved
 * from its folder, as its `import ... from 'einnet'` is), so displays its code registered count.
 */
function einnetRichBundle(value: unknown): Record<string, unknown> | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  try {
    const einnet = createRequire(path.join(process.cwd(), 'notebook.js'))('einnet') as { richBundle?: (v: unknown) => Record<string, unknown> | undefined };
    return einnet.richBundle?.(value);
  } catch {
    return undefined;
  }
}

/** A failure that came after a cell returned: an unhandled rejection or an uncaught exception. */
function lateFailure(index: number, late: { kind: 'rejection' | 'uncaught'; reason: unknown }): CellFailure {
  const prefix = late.kind === 'rejection' ? 'unhandled promise rejection: ' : 'uncaught exception: ';
  return { index, kind: late.kind, ...errorText(late.reason, prefix) };
}

/** At least this long after the last cell, the worker waits for late errors. */
const LATE_MIN_MS = 50;
/** At most this long it waits for timers the notebook left to fire (an interval never stops). */
const LATE_MAX_MS = 5000;

/**
 * Waits until the notebook's code has nothing left to run — no pending timer or immediate keeps
 * the process alive (unref'd ones do not count) — or `stop()` is true, between LATE_MIN_MS and
 * LATE_MAX_MS after the last cell.
 */
async function quiet(stop: () => boolean): Promise<void> {
  const started = Date.now();
  await new Promise((r) => setTimeout(r, LATE_MIN_MS));
  const pending = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'Immediate').length;
  while (!stop() && pending() > 0 && Date.now() - started < LATE_MAX_MS) await settle();
  await settle();
}

/** Lets pending microtasks and `unhandledRejection` events run before a cell is judged. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setTimeout(resolve, 0)));
}

/** Turns what tslab passed to `console.error` into the user's error. */
function describeFailure(index: number, printed: unknown[][]): CellFailure {
  const thrown = printed.find((args) => args.length === 1 && typeof args[0] !== 'string');
  if (thrown !== undefined) return { index, kind: 'runtime', ...errorText(thrown[0], '') };
  const diagnostics = printed.filter((args) => typeof args[0] === 'string' && args[0].startsWith('%s%d:%d - %s'));
  if (diagnostics.length > 0) {
    const lines = diagnostics.map(([, file, line, column, text]) => {
      return `TypeScript error at line ${line}, column ${column}${file ? ` of ${String(file).trim()}` : ''}: ${flattenMessage(text)}`;
    });
    return { index, kind: 'typescript', message: lines.join('\n'), frames: [] };
  }
  if (printed.length > 0) return { index, kind: 'runtime', message: printed.map((a) => util.format(...a)).join('\n'), frames: [] };
  return { index, kind: 'runtime', message: 'the cell failed without an error message (tslab returned false)', frames: [] };
}

/** A TypeScript DiagnosticMessageChain or string, as text. */
function flattenMessage(text: unknown, depth = 0): string {
  if (typeof text === 'string') return text;
  if (text !== null && typeof text === 'object' && 'messageText' in text) {
    const chain = text as { messageText: string; next?: unknown[] };
    return [chain.messageText, ...(chain.next ?? []).map((n) => flattenMessage(n, depth + 1))].join('\n' + '  '.repeat(depth + 1));
  }
  return String(text);
}

/** Name, message and the stack frames that belong to user or einnet code. */
function errorText(error: unknown, prefix: string): { message: string; frames: string[] } {
  if (error instanceof Error || (error !== null && typeof error === 'object' && 'message' in error)) {
    const e = error as Error;
    const name = e.name && e.name !== 'Error' ? `${e.name}: ` : 'Error: ';
    const frames = String(e.stack ?? '')
      .split('\n')
      .filter((l) => /^\s+at /.test(l))
      .filter((l) => !/\(node:|at node:|[\\/]node_modules[\\/](tslab|@tslab)[\\/]|[\\/]scripts[\\/]notebooks[\\/]worker/.test(l))
      // Cell code runs as `evalmachine.<anonymous>`; its positions are in transpiled JS, so drop them.
      .map((l) => l.trim().replace(/evalmachine\.<anonymous>:\d+:\d+/g, 'notebook cell'))
      .filter((l, i, all) => i === 0 || l !== all[i - 1])
      .slice(0, 6);
    return { message: `${prefix}${name}${e.message}`, frames };
  }
  return { message: `${prefix}thrown value ${util.inspect(error)}`, frames: [] };
}

process.once('message', (message: RunRequest) => {
  run(message).then(
    () => process.disconnect?.(),
    async (e: unknown) => {
      // A failure of the runner itself, not of the notebook: report it as such.
      await send({ type: 'done', outputs: {}, executionCounts: {}, failure: { index: -1, kind: 'runtime', ...errorText(e, 'notebook runner failed: ') } });
      process.disconnect?.();
    },
  );
});
