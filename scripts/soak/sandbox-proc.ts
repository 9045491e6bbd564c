// Parent side of sandbox-child.ts: forks it (through tsx), waits for its info, and asks it for memory figures.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Sandbox, SandboxInfo } from '../../src/sandbox';
import { parseRsaPublicKeyPem } from '../../src/crypto/rsa';
import type { SandboxFileInfo } from '../../src/sandbox/files';

export interface MemSample {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  /** The sandbox's event-loop delay p99 since the previous sample, ms. */
  loopDelayP99?: number;
}

export interface SandboxProc {
  pid: number;
  info: SandboxInfo;
  files: SandboxFileInfo[];
  /** What the interop helpers read of a Sandbox: its info and public key. */
  view: Pick<Sandbox, 'info' | 'rsaKey'>;
  mem(): Promise<MemSample>;
  gc(): Promise<boolean>;
  connections(): Promise<number>;
  logTail(): Promise<string[]>;
  registerUsers(phones: string[]): Promise<void>;
  /** Writes a heap snapshot of the sandbox process; returns its file name. */
  heapSnapshot(): Promise<string>;
  /** The child ended on its own (crash): its exit code / signal. */
  exited(): string | undefined;
  stop(): Promise<void>;
}

/** Options of startSandbox that travel as JSON (no functions). */
export type ChildSandboxOptions = Record<string, number | boolean | string | Record<string, number>>;

export async function startSandboxProc(opts: ChildSandboxOptions = {}, childArgs: { exposeGc?: boolean } = {}): Promise<SandboxProc> {
  const child: ChildProcess = fork(join(__dirname, 'sandbox-child.ts'), [JSON.stringify(opts)], {
    execArgv: ['--import', 'tsx', ...(childArgs.exposeGc ? ['--expose-gc'] : [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let exit: string | undefined;
  const waiting = new Map<number, (m: Record<string, unknown>) => void>();
  let seq = 0;
  child.on('exit', (code, signal) => {
    exit = signal ? `signal ${signal}` : `exit code ${code}`;
    for (const w of waiting.values()) w({ type: 'gone' });
    waiting.clear();
  });
  const ready = new Promise<{ info: SandboxInfo; files: SandboxFileInfo[] }>((resolve, reject) => {
    child.on('message', (raw: unknown) => {
      const m = raw as Record<string, unknown>;
      if (m.type === 'ready') resolve({ info: m.info as SandboxInfo, files: m.files as SandboxFileInfo[] });
      else if (typeof m.id === 'number') {
        const w = waiting.get(m.id);
        waiting.delete(m.id);
        w?.(m);
      }
    });
    child.once('exit', () => reject(new Error(`sandbox child ended before it was ready (${exit})`)));
  });
  const ask = (type: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      if (exit !== undefined || !child.connected) return reject(new Error(`sandbox child gone (${exit ?? 'disconnected'})`));
      const id = ++seq;
      waiting.set(id, (m) => (m.type === 'gone' ? reject(new Error(`sandbox child gone (${exit})`)) : resolve(m)));
      child.send({ ...extra, type, id });
    });
  const { info, files } = await ready;
  return {
    pid: child.pid ?? 0,
    info,
    files,
    view: { info, rsaKey: parseRsaPublicKeyPem(info.rsa.pem) },
    async mem() {
      const m = await ask('mem');
      return {
        rss: m.rss as number,
        heapTotal: m.heapTotal as number,
        heapUsed: m.heapUsed as number,
        external: m.external as number,
        arrayBuffers: m.arrayBuffers as number,
        ...(typeof m.loopDelayP99 === 'number' ? { loopDelayP99: m.loopDelayP99 } : {}),
      };
    },
    async gc() {
      return (await ask('gc')).done === true;
    },
    async connections() {
      return (await ask('status')).connections as number;
    },
    async heapSnapshot() {
      return (await ask('snapshot')).file as string;
    },
    async registerUsers(phones) {
      await ask('register', { phones });
    },
    async logTail() {
      return (await ask('log')).lines as string[];
    },
    exited: () => exit,
    async stop() {
      if (exit !== undefined) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      if (child.connected) child.send({ type: 'stop' });
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(t);
    },
  };
}

export const MB = 1024 * 1024;
export const mb = (bytes: number): number => Math.round((bytes / MB) * 10) / 10;
