/**
 * One Python process (torch_server.py) for a whole test file: exported modules go in as JSON
 * lines, their outputs and the gradients of sum(last²) come back. Starting Python and importing
 * torch takes seconds; a request takes milliseconds.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface TorchTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface TorchAnswer {
  readonly outputs: Record<string, TorchTensor>;
  readonly gradients: Record<string, TorchTensor>;
}

const encode = (data: ArrayLike<number>) => Buffer.from(Float32Array.from(data).buffer).toString('base64');

function decode(t: { shape: number[]; data: string }): TorchTensor {
  const bytes = Buffer.from(t.data, 'base64');
  const data = new Float32Array(bytes.length / 4);
  for (let k = 0; k < data.length; k++) data[k] = bytes.readFloatLE(4 * k);
  return { shape: t.shape, data };
}

export class TorchServer {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: ((line: string) => void)[] = [];

  constructor(python: string) {
    this.child = spawn(python, [join(__dirname, 'torch_server.py')], { stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: this.child.stdout }).on('line', (line) => this.waiting.shift()?.(line));
  }

  /** Runs `source`'s class on `tensors`; the loss is sum(`output`²) (other outputs with weight 0). */
  run(source: string, className: string, tensors: Record<string, { shape: readonly number[]; data: ArrayLike<number> }>, output: string): Promise<TorchAnswer> {
    const request = {
      source,
      className,
      output,
      tensors: Object.fromEntries(Object.entries(tensors).map(([n, t]) => [n, { shape: t.shape, data: encode(t.data) }])),
    };
    return new Promise((resolve, reject) => {
      this.waiting.push((line) => {
        const reply = JSON.parse(line);
        if (reply.error !== undefined) reject(new Error(`PyTorch failed:\n${reply.error}\n${source}`));
        else {
          const map = (r: Record<string, { shape: number[]; data: string }>) => Object.fromEntries(Object.entries(r).map(([n, t]) => [n, decode(t)]));
          resolve({ outputs: map(reply.outputs), gradients: map(reply.gradients) });
        }
      });
      this.child.stdin.write(JSON.stringify(request) + '\n');
    });
  }

  close(): void {
    this.child.stdin.end();
  }
}
