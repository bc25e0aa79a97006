/**
 * A contender's server process for the side-by-side benchmarks (bench:native, bench:fit): it
 * prints one JSON line saying what it is, then answers each request line with one JSON line.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'child_process';
import { readFileSync } from 'fs';
import * as readline from 'readline';

/** Clock ticks per second of /proc's times (USER_HZ, 100 on Linux). */
const CLOCK_TICKS = 100;

export class LineServer {
  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly lines: AsyncIterator<string>,
    /** The server's first line, e.g. {"torch": version} or {"einnet": backend}. */
    readonly hello: Record<string, string>,
  ) {}

  /** A running server from the first command that starts, or why none did. */
  static async start(commands: readonly (readonly string[])[]): Promise<LineServer | string> {
    let why = 'no command to start';
    for (const [command, ...args] of commands) {
      const child = spawn(command, args);
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const failed = new Promise<string>((resolve) => {
        child.on('error', (e) => resolve(`${command} did not run: ${e.message}`));
        child.on('exit', (code) => resolve(stderr.trim().split('\n').pop() || `${command} exited with ${code}`));
      });
      const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      const first = await Promise.race([lines.next().then((r) => (r.done ? undefined : r.value)), failed]);
      if (first !== undefined && first.startsWith('{')) return new LineServer(child, lines, JSON.parse(first) as Record<string, string>);
      why = first ?? (await failed);
      child.kill();
    }
    return why;
  }

  /** Sends one request line and parses the answer line. */
  async request<T>(line: string): Promise<T> {
    this.child.stdin.write(`${line}\n`);
    const r = await this.lines.next();
    if (r.done) throw new Error(`the server ${JSON.stringify(this.hello)} ended`);
    return JSON.parse(r.value) as T;
  }

  /**
   * The server process's CPU time so far (user + system, all its threads), in milliseconds, from
   * /proc; undefined where there is no /proc (not Linux).
   */
  cpuMs(): number | undefined {
    try {
      // Fields after the command name, which is in parentheses and may hold spaces.
      const stat = readFileSync(`/proc/${this.child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name and state.
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
    } catch {
      return undefined;
    }
  }

  close(): void {
    this.child.stdin.end('quit\n');
  }
}
