/**
 * A minimal Jupyter client (wire protocol 5.3 over ZeroMQ) for tests: starts a kernel from a
 * kernel spec, executes code, and collects what the kernel publishes — what JupyterLab or VS
 * Code would receive. Uses the zeromq binding tslab itself depends on.
 */
import { spawn, type ChildProcess } from 'child_process';
import { createHmac, randomBytes } from 'crypto';
import { createRequire } from 'module';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { ROOT, tempDir } from './helpers';

type Zmq = typeof import('zeromq');
const zmq = createRequire(path.join(ROOT, 'node_modules', 'tslab', 'package.json'))('zeromq') as Zmq;

export interface KernelMessage {
  header: { msg_type: string; msg_id: string };
  parent_header: { msg_id?: string };
  content: Record<string, unknown> & { data?: Record<string, unknown>; transient?: { display_id?: string } };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export class KernelClient {
  private readonly key = randomBytes(16).toString('hex');
  private readonly session = randomBytes(8).toString('hex');
  private shell!: InstanceType<Zmq['Dealer']>;
  private iopub!: InstanceType<Zmq['Subscriber']>;
  private process!: ChildProcess;
  private dir!: string;
  readonly published: KernelMessage[] = [];
  stderr = '';

  /** Starts the kernel whose argv is given (with `{connection_file}`), in `cwd`. */
  async start(argv: readonly string[], cwd: string): Promise<void> {
    this.dir = tempDir('kernel');
    const ports = {
      shell_port: await freePort(),
      iopub_port: await freePort(),
      stdin_port: await freePort(),
      control_port: await freePort(),
      hb_port: await freePort(),
    };
    const connection = path.join(this.dir, 'connection.json');
    fs.writeFileSync(
      connection,
      JSON.stringify({ transport: 'tcp', ip: '127.0.0.1', key: this.key, signature_scheme: 'hmac-sha256', kernel_name: 'einnet-tslab', ...ports }),
    );
    this.process = spawn(
      argv[0],
      argv.slice(1).map((a) => a.replace('{connection_file}', connection)),
      { cwd, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.process.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.process.stdout?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.shell = new zmq.Dealer();
    this.shell.connect(`tcp://127.0.0.1:${ports.shell_port}`);
    this.iopub = new zmq.Subscriber();
    this.iopub.connect(`tcp://127.0.0.1:${ports.iopub_port}`);
    this.iopub.subscribe();
    void (async () => {
      try {
        for await (const frames of this.iopub) this.published.push(this.decode(frames));
      } catch {
        /* closed */
      }
    })();
  }

  /** Sends a request on the shell channel and waits for its reply. */
  async request(msgType: string, content: Record<string, unknown>, timeoutMs = 60_000): Promise<KernelMessage & { id: string }> {
    const header = {
      msg_id: randomBytes(16).toString('hex'),
      session: this.session,
      username: 'test',
      date: new Date().toISOString(),
      msg_type: msgType,
      version: '5.3',
    };
    const bodies = [header, {}, {}, content].map((b) => JSON.stringify(b));
    const hmac = createHmac('sha256', this.key);
    for (const b of bodies) hmac.update(b);
    await this.shell.send(['<IDS|MSG>', hmac.digest('hex'), ...bodies]);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const frames = await Promise.race([this.shell.receive(), new Promise<null>((r) => setTimeout(() => r(null), deadline - Date.now()))]);
      if (frames === null) break;
      const msg = this.decode(frames);
      if (msg.parent_header.msg_id === header.msg_id) return { ...msg, id: header.msg_id };
    }
    throw new Error(`no ${msgType} reply within ${timeoutMs} ms; kernel output:\n${this.stderr}`);
  }

  /** Executes code; returns the reply and, once the kernel is idle again, what it published for it. */
  async execute(code: string): Promise<{ reply: KernelMessage; published: KernelMessage[] }> {
    const reply = await this.request('execute_request', {
      code,
      silent: false,
      store_history: true,
      user_expressions: {},
      allow_stdin: false,
      stop_on_error: true,
    });
    const deadline = Date.now() + 10_000;
    const mine = () => this.published.filter((m) => m.parent_header.msg_id === reply.id);
    while (!mine().some((m) => m.header.msg_type === 'status' && m.content.execution_state === 'idle') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    return { reply, published: mine().filter((m) => m.header.msg_type !== 'status') };
  }

  async stop(): Promise<void> {
    this.process.kill('SIGKILL');
    this.shell.close();
    this.iopub.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private decode(frames: Buffer[]): KernelMessage {
    const delim = frames.findIndex((f) => f.toString() === '<IDS|MSG>');
    const [header, parent, , content] = frames.slice(delim + 2, delim + 6).map((f) => JSON.parse(f.toString()) as unknown);
    return { header, parent_header: parent, content } as KernelMessage;
  }
}
