// Decrypting big incoming messages on worker threads. AES-IGE decryption cannot use node:crypto (its chain runs
// through the inverse cipher on plaintext not known yet), so a 1 MiB file part costs ~7–10 ms of WebAssembly AES
// (more on the JS fallback). On the main thread that time blocks parsing, acks, disk writes and every other
// session; on workers the messages of several connections decrypt in parallel and the main thread keeps the
// pipeline fed. Each message is independent (its own msg_key, key and IV), so any worker can take any message; the
// caller keeps the order. Small messages are cheaper to decrypt in place than to post (see OFFLOAD_MIN_BYTES).
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { exclusivePayloadBuffers } from '../transport/frames';
import { MessageCheckError, type EncryptedMessageFields } from './message-crypto';

/** Below this packet size the main thread decrypts itself (posting + waking a worker costs ~0.1 ms). */
export const OFFLOAD_MIN_BYTES = 64 * 1024;

/** Request to a worker. `packet` is transferred (the worker decrypts it in place and sends the buffer back). */
export interface DecryptJob {
  id: number;
  authKey: Uint8Array;
  packet: Uint8Array;
  x: 0 | 8;
}

/** A worker's answer: the fields (body as offset/length into the returned buffer) or the failed check. */
export type DecryptReply =
  | { id: number; ok: true; salt: bigint; sessionId: bigint; msgId: bigint; seqno: number; buffer: ArrayBuffer; bodyOffset: number; bodyLength: number }
  | { id: number; ok: false; check?: string; detail?: string; error?: string };

interface PendingJob {
  resolve(fields: EncryptedMessageFields): void;
  reject(e: unknown): void;
}

interface PoolWorker {
  worker: Worker;
  inFlight: number;
}

/** The worker script next to this module: the bundle's `decrypt-worker.js`, or the `.ts` source under tsx. */
function workerScript(): string | undefined {
  for (const name of ['decrypt-worker.js', 'decrypt-worker.ts']) {
    const p = join(__dirname, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

export class DecryptPool {
  private readonly workers: PoolWorker[] = [];
  private readonly pending = new Map<number, PendingJob>();
  private nextId = 1;
  private broken: string | undefined;

  constructor(
    private readonly size: number,
    private readonly script: string,
  ) {}

  /** Why the pool stopped working (a worker failed to start or died); callers then decrypt on their own thread. */
  get unavailable(): string | undefined {
    return this.broken;
  }

  decrypt(authKey: Uint8Array, packet: Uint8Array, x: 0 | 8): Promise<EncryptedMessageFields> {
    if (this.broken) return Promise.reject(new Error(`decrypt pool unavailable: ${this.broken}`));
    const w = this.pick();
    const id = this.nextId++;
    // Transfer the packet's buffer when nothing else uses it (a copy of its own, or a buffer the transport let go
    // of: exclusivePayloadBuffers); otherwise copy once. A view travels with its offset into the transferred buffer.
    const owned =
      packet.buffer instanceof ArrayBuffer &&
      ((packet.byteOffset === 0 && packet.byteLength === packet.buffer.byteLength) || exclusivePayloadBuffers.has(packet.buffer));
    const data = owned ? packet : packet.slice();
    const job: DecryptJob = { id, authKey, packet: data, x };
    return new Promise<EncryptedMessageFields>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (w.inFlight++ === 0) w.worker.ref(); // a job in flight keeps the process alive, an idle worker does not
      w.worker.postMessage(job, [data.buffer as ArrayBuffer]);
    }).finally(() => {
      if (--w.inFlight === 0) w.worker.unref();
    });
  }

  /**
   * Starts every worker now (idle workers keep no process alive). A worker takes tens of milliseconds to boot
   * (hundreds under tsx): a client starts them while it connects, not when the first file part arrives.
   */
  warm(): void {
    if (this.broken) return;
    while (this.workers.length < this.size) this.spawn();
  }

  private pick(): PoolWorker {
    if (this.workers.length < this.size) {
      const idle = this.workers.find((w) => w.inFlight === 0);
      if (idle) return idle;
      return this.spawn();
    }
    let best = this.workers[0]!;
    for (const w of this.workers) if (w.inFlight < best.inFlight) best = w;
    return best;
  }

  private spawn(): PoolWorker {
    // Under tsx (tests, benches) a worker does not inherit the TypeScript loader: register it first.
    const worker = this.script.endsWith('.ts')
      ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(this.script)});`, { eval: true })
      : new Worker(this.script);
    const entry: PoolWorker = { worker, inFlight: 0 };
    worker.on('message', (reply: DecryptReply) => this.onReply(reply));
    worker.on('error', (e) => this.fail(`worker error: ${e instanceof Error ? e.message : String(e)}`));
    worker.on('exit', (code) => {
      const i = this.workers.indexOf(entry);
      if (i >= 0) this.workers.splice(i, 1);
      if (entry.inFlight > 0) this.fail(`worker exited with code ${code}`);
    });
    worker.unref(); // never keeps a CLI or a test process alive (after the listeners: adding one re-refs)
    this.workers.push(entry);
    return entry;
  }

  private onReply(reply: DecryptReply): void {
    const job = this.pending.get(reply.id);
    if (!job) return;
    this.pending.delete(reply.id);
    if (reply.ok) {
      const { salt, sessionId, msgId, seqno } = reply;
      job.resolve({ salt, sessionId, msgId, seqno, body: new Uint8Array(reply.buffer, reply.bodyOffset, reply.bodyLength) });
    } else if (reply.check !== undefined) {
      job.reject(new MessageCheckError(reply.check, reply.detail));
    } else {
      job.reject(new Error(reply.error ?? 'decrypt worker failed'));
    }
  }

  private fail(reason: string): void {
    this.broken ??= reason;
    for (const [, job] of this.pending) job.reject(new Error(`decrypt pool unavailable: ${reason}`));
    this.pending.clear();
    for (const w of this.workers.splice(0)) void w.worker.terminate();
  }

  /** Stops the workers (tests; the process-wide pool is unref'd and needs no closing). */
  async close(): Promise<void> {
    this.fail('closed');
  }
}

let shared: DecryptPool | null | undefined;

/**
 * The process-wide pool, created on first use; null where workers cannot run (no worker script next to the
 * bundle, `DCLAB_DECRYPT_WORKERS=0`). Size: `DCLAB_DECRYPT_WORKERS`, else the cores minus one, at least 1, at most 4.
 */
export function sharedDecryptPool(): DecryptPool | null {
  if (shared !== undefined) return shared && !shared.unavailable ? shared : null;
  const env = process.env.DCLAB_DECRYPT_WORKERS;
  // The cores minus one (the main thread keeps one busy): with the WebAssembly decryption one worker on 2 cores
  // measured ~67 MB/s on bench/download.bench.ts (sandbox on the same cores) vs ~61 with two.
  const size = env !== undefined && env !== '' ? Number(env) : Math.min(4, Math.max(1, availableParallelism() - 1));
  const script = workerScript();
  shared = Number.isInteger(size) && size > 0 && script ? new DecryptPool(size, script) : null;
  return shared;
}
