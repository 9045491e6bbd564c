// The process surface the commands use (so tests can run a command in-process with captured output), the TTY
// prompts (no echo for passwords) and stdin line reading for --password-stdin / --api-hash-stdin.
import { createInterface } from 'node:readline';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  env: NodeJS.ProcessEnv;
  /** Whether prompts can be shown (stdin and stderr are terminals). */
  interactive: boolean;
}

export function processIo(): CliIo {
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    stdin: process.stdin,
    env: process.env,
    interactive: process.stdin.isTTY === true && process.stderr.isTTY === true,
  };
}

/** Lines of stdin (read once, when a command asked for a secret on stdin). */
export class StdinLines {
  private lines: Promise<string[]> | undefined;
  private next = 0;
  constructor(private readonly io: CliIo) {}

  private all(): Promise<string[]> {
    this.lines ??= new Promise<string[]>((resolve, reject) => {
      const chunks: Buffer[] = [];
      this.io.stdin.on('data', (d: Buffer | string) => chunks.push(typeof d === 'string' ? Buffer.from(d) : d));
      this.io.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8').split(/\r?\n/)));
      this.io.stdin.on('error', reject);
      this.io.stdin.resume?.();
    });
    return this.lines;
  }

  /** The next line of stdin; throws naming `what` when stdin has no more lines. */
  async line(what: string): Promise<string> {
    const lines = await this.all();
    const v = lines[this.next++];
    if (v === undefined || (v === '' && this.next >= lines.length)) throw new Error(`${what}: stdin ended before a line was read`);
    return v;
  }
}

/** Asks on the terminal (prompt on stderr). `secret` turns echo off. */
export function prompt(io: CliIo, question: string, opts: { secret?: boolean } = {}): Promise<string> {
  if (!io.interactive) return Promise.reject(new Error(`cannot ask "${question.trim()}": stdin is not a terminal`));
  if (!opts.secret) {
    const rl = createInterface({ input: io.stdin, output: process.stderr, terminal: true });
    return new Promise((resolve) => {
      rl.question(question, (answer) => {
        rl.close();
        resolve(answer.trim());
      });
    });
  }
  return new Promise((resolve, reject) => {
    const stdin = io.stdin;
    io.err(question);
    let value = '';
    stdin.setRawMode?.(true);
    stdin.resume();
    stdin.setEncoding?.('utf8');
    const done = (err?: Error): void => {
      stdin.off('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      io.err('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string | Buffer): void => {
      for (const ch of String(chunk)) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(new Error('interrupted'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}
