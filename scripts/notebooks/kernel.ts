/**
 * The einnet Jupyter kernel: tslab's kernel (its TypeScript converter, executor and ZeroMQ
 * server, pinned to tslab 1.0.22) with three things tslab does not do.
 *
 * - The stop button stops einnet's long calls. Jupyter interrupts a kernel with SIGINT (the
 *   kernel spec's interrupt_mode is "signal"; tslab answers no `interrupt_request` on the control
 *   channel, so "message" mode would not work). On SIGINT the kernel asks the running `fit`,
 *   `evaluate`, … to stop at its next batch (`requestStop`): the call returns normally, the cell
 *   ends with its result, and the model stays usable. When no long call takes the request within
 *   STOP_GRACE_MS (plain `await`s, a user's own loop), tslab's own interrupt ends the cell.
 * - A failing cell publishes a Jupyter `error` (ename, evalue, traceback) and puts the same into
 *   its execute_reply, so nbconvert and JupyterLab show the real error. An EinError shows as
 *   `EinError` with its code, message, caret excerpt and fix, without stack frames; other errors
 *   keep the stack frames of user and library code.
 * - Every execution publishes `execute_input` with its execution count, so executed notebooks
 *   carry their counts.
 * - Plots stand alone when the notebook is saved: at the end of each cell, every plot it showed is
 *   updated once more to its final form with a PNG (where Chromium is found) and, in the
 *   session's first plot only, plotly.js (kernel-plots.ts).
 * - A cell's last value shows richly when einnet has a display for it (tensor, program, check
 *   report, summary, model: viz/rich.ts); other values print as tslab prints them.
 *
 * Compiled into dist/ by `npm run build`; `npm run kernel:install` points kernel.json at it.
 */
import * as util from 'util';
import { requestStop, takeStopRequest } from '../../core/interrupt';
import { DisplayHandle } from '../../viz/display';
import { richBundle } from '../../viz/rich';
import { finishPlots, type PlotOutputs } from './kernel-plots';

// tslab's internals are CommonJS modules, hence require.
const tslabJupyter = require('tslab/dist/jupyter') as {
  JupyterHandlerImpl: new (executor: Executor, isJs: boolean) => Handler;
  ZmqServer: new (handler: Handler, configPath: string) => Server;
};
const { createConverter } = require('tslab/dist/converter') as typeof import('tslab/dist/converter');
const { createExecutor } = require('tslab/dist/executor') as typeof import('tslab/dist/executor');

type Executor = ReturnType<typeof createExecutor>;
type DisplayContent = { data: Record<string, unknown>; transient?: { display_id?: string } };
interface ExecuteReply {
  status: string;
  execution_count?: number;
  ename?: string;
  evalue?: string;
  traceback?: string[];
}
interface Handler {
  handleExecute(req: { code: string }, writeStream: unknown, writeDisplayData: unknown): Promise<ExecuteReply>;
}
interface ZmqMessage {
  createReply(): { header: { msg_type: string }; content: unknown; signAndSend(key: string, socket: unknown): void };
  content: { code: string };
}
interface Server {
  handler: Handler;
  connInfo: { key: string };
  iopub: unknown;
  handleExecute(sock: unknown, msg: ZmqMessage): Promise<void>;
  init(): void;
}

/** How long a SIGINT waits for a long call to take the stop request before tslab interrupts the cell. */
export const STOP_GRACE_MS = 1500;

/** A Jupyter error: what nbconvert prints as `ename: evalue` and notebooks show as the traceback. */
export interface KernelError {
  readonly ename: string;
  readonly evalue: string;
  readonly traceback: string[];
}

/** Stack frames of Node internals, tslab and this kernel: never the user's concern. */
const INTERNAL_FRAME = /\(node:|at node:|[\\/]node_modules[\\/](tslab|@tslab)[\\/]|[\\/]scripts[\\/]notebooks[\\/]kernel/;

/**
 * The Jupyter error for what a cell threw. An EinError (it has an EIN code) keeps only
 * its message — code, place, caret excerpt, fix — which is the user's whole story; anything else
 * keeps its name, message and the frames of user and library code.
 */
export function kernelError(thrown: unknown): KernelError {
  if (thrown instanceof Error || (thrown !== null && typeof thrown === 'object' && 'message' in thrown)) {
    const e = thrown as Error & { code?: unknown };
    const ename = e.name || 'Error';
    if (ename === 'EinError' && typeof e.code === 'string' && /^EIN\d{4}$/.test(e.code)) {
      return { ename, evalue: e.message, traceback: [`${ename}: ${e.message}`] };
    }
    const frames = String(e.stack ?? '')
      .split('\n')
      .filter((l) => /^\s+at /.test(l) && !INTERNAL_FRAME.test(l))
      // Cell code runs as `evalmachine.<anonymous>`; its positions are in transpiled JS.
      .map((l) => l.replace(/evalmachine\.<anonymous>:\d+:\d+/g, 'notebook cell'))
      .filter((l, i, all) => i === 0 || l !== all[i - 1]);
    return { ename, evalue: e.message, traceback: [`${ename}: ${e.message}`, ...frames] };
  }
  return { ename: 'Error', evalue: `thrown value ${util.inspect(thrown)}`, traceback: [`thrown value ${util.inspect(thrown)}`] };
}

/** What tslab printed through `console.error` for a failed cell, as a Jupyter error. */
export function describePrinted(printed: readonly unknown[][]): KernelError {
  const thrown = printed.find((args) => args.length === 1 && typeof args[0] !== 'string');
  if (thrown !== undefined) return kernelError(thrown[0]);
  // TypeScript diagnostics: tslab prints each as ('%s%d:%d - %s', file, line, column, text).
  const lines = printed.map((args) =>
    typeof args[0] === 'string' && args[0].startsWith('%s%d:%d - %s') ? `${args[2]}:${args[3]} - ${flatten(args[4])}` : util.format(...args),
  );
  if (lines.length === 0) return { ename: 'Error', evalue: 'the cell failed', traceback: ['the cell failed'] };
  const diagnostics = printed.some((args) => typeof args[0] === 'string' && args[0].startsWith('%s%d:%d - %s'));
  return { ename: diagnostics ? 'TypeScriptError' : 'Error', evalue: lines.join('\n'), traceback: lines };
}

function flatten(text: unknown, depth = 0): string {
  if (text !== null && typeof text === 'object' && 'messageText' in text) {
    const chain = text as { messageText: string; next?: unknown[] };
    return [chain.messageText, ...(chain.next ?? []).map((n) => flatten(n, depth + 1))].join('\n' + '  '.repeat(depth + 1));
  }
  return String(text);
}

/** Starts the kernel on the connection file Jupyter passes. */
export function startKernel(configPath: string): void {
  let printed: unknown[][] = [];
  const convs = {
    node: createConverter({ isJS: false, isBrowser: false }),
    browserConverter: undefined as ReturnType<typeof createConverter> | undefined,
    get browser() {
      return (this.browserConverter ??= createConverter({ isJS: false, isBrowser: true }));
    },
    close() {
      this.node.close();
      this.browserConverter?.close();
    },
  };
  const executor = createExecutor(process.cwd(), convs, {
    // tslab logs exactly one thing through this console: the value of the cell's last expression.
    log: (value: unknown) => {
      const bundle = richBundle(value);
      if (bundle !== undefined) new DisplayHandle().bundle(bundle);
      else console.log(value);
    },
    error: (...args: unknown[]) => printed.push(args),
  });
  const handler = new tslabJupyter.JupyterHandlerImpl(executor, false);
  const runCell = handler.handleExecute.bind(handler);
  handler.handleExecute = async (req, writeStream, writeDisplayData) => {
    printed = [];
    const reply = await runCell(req, writeStream, writeDisplayData);
    return reply.status === 'error' ? { ...reply, ...describePrinted(printed) } : reply;
  };
  const server = new tslabJupyter.ZmqServer(handler, configPath);
  let executionCount = 0;
  server.handleExecute = async (sock, msg) => {
    const publish = (msgType: string, content: unknown) => {
      const m = msg.createReply();
      m.header.msg_type = msgType;
      m.content = content;
      m.signAndSend(server.connInfo.key, server.iopub);
    };
    publish('execute_input', { code: msg.content.code, execution_count: ++executionCount });
    const writeStream = (name: string, text: string) => publish('stream', { name, text });
    const plots: PlotOutputs = new Map();
    const writeDisplayData = (data: DisplayContent, update: boolean) => {
      publish(update ? 'update_display_data' : 'display_data', data);
      const id = data.transient?.display_id;
      if (id !== undefined) plots.set(id, data.data);
    };
    const content = await server.handler.handleExecute(msg.content, writeStream, writeDisplayData);
    await finishPlots(plots, (id, data) => publish('update_display_data', { data, metadata: {}, transient: { display_id: id } }));
    const reply = msg.createReply();
    reply.header.msg_type = 'execute_reply';
    reply.content = { ...content, execution_count: executionCount };
    if (content.status === 'error') publish('error', { ename: content.ename, evalue: content.evalue, traceback: content.traceback });
    reply.signAndSend(server.connInfo.key, sock);
  };
  process.on('SIGINT', () => interrupt(executor));
  process.on('uncaughtException', (err) => console.error('uncaught exception:', err));
  process.on('unhandledRejection', (reason) => console.error('unhandled promise rejection:', reason));
  server.init();
}

/**
 * The stop button. Asks the running long call to stop at its next batch; if none has taken the
 * request after STOP_GRACE_MS, interrupts the cell as tslab does. The request stays pending then,
 * so a long call whose batch outlasts the grace period still stops at its next batch boundary.
 */
function interrupt(executor: Executor): void {
  requestStop();
  setTimeout(() => {
    // takeStopRequest uses the request up; put it back when nobody had taken it.
    if (takeStopRequest()) {
      requestStop();
      executor.interrupt();
    }
  }, STOP_GRACE_MS).unref();
}

if (require.main === module) {
  const at = process.argv.indexOf('--config-path');
  startKernel(at >= 0 ? process.argv[at + 1] : '');
}
