// Runs our real client against the hostile DC, one mode at a time, and says whether it held: the key exchange
// modes and framing modes through createAuthKey, the session modes through openSession + ping, the −404 modes
// through a DcPool (passed in as `pool`: src/sandbox may not import src/dc). Each run is bounded; a client that
// does not settle within the bound counts as a hang.
import type { RsaKeyPair, RsaPublicKey } from '../../crypto/rsa';
import { generateRsaKeyPair } from '../../crypto/rsa';
import type { TlObject } from '../../tl/types';
import { connectTcp } from '../../transport/tcp';
import { createAuthKey, HandshakeError } from '../../mtproto/handshake-client';
import { openSession } from '../../mtproto/client';
import type { MtprotoSession } from '../../mtproto/session';
import type { WireEvent } from '../../mtproto/wire-event';
import { startHostileDc, type HostileDc, type HostileDcStats } from '../hostile';
import { FORGED_SALT } from './session';
import { HOSTILE_MODES, hostileMode, type HostileExpectation, type HostileGroup, type HostileModeName } from './modes';

/** The parts of src/dc's key store the runner needs (structural: DcKeyStore fits). */
export interface KeyStoreLike {
  loadKey(dcId: number): Promise<{ authKey: Uint8Array; serverSalt?: bigint; timeOffset?: number } | undefined>;
  saveKey(dcId: number, rec: { authKey: Uint8Array; serverSalt?: bigint; timeOffset?: number }): Promise<void>;
  dropKey(dcId: number): Promise<void>;
}

export interface PoolEventLike {
  type: string;
  reason?: string;
  code?: number;
}

export interface PoolLike {
  invoke(dcId: number, method: TlObject, opts?: { timeoutMs?: number }): Promise<unknown>;
  close(): void;
}

/** Builds a DcPool (or anything with its invoke/close) for one DC at host:port. */
export type PoolDriver = (t: {
  host: string;
  port: number;
  dcId: number;
  rsaKey: RsaPublicKey;
  keys: KeyStoreLike;
  onEvent: (e: PoolEventLike) => void;
  onWire: (e: WireEvent) => void;
  callTimeoutMs: number;
  handshakeTimeoutMs: number;
}) => PoolLike;

export interface HostileRunOptions {
  /** Handshake deadline given to the client (default 1500 ms: the framing modes wait it out). */
  handshakeTimeoutMs?: number;
  /** Call deadline given to the client (default 3000 ms). */
  callTimeoutMs?: number;
  /** A run that has not settled after this long is a hang (default 10 s). */
  boundMs?: number;
  /** The DC's RSA key, shared across runs (default: one generated per process). */
  rsa?: RsaKeyPair;
  /** Required for the 'transport' group. */
  pool?: PoolDriver;
}

export interface HostileOutcome {
  mode: HostileModeName;
  group: HostileGroup;
  expect: HostileExpectation;
  /** The check the mode attacks (what the client must name). */
  check: string;
  /** The client held: refused / ignored / probed as the mode requires, never used a refused key, did not hang. */
  rejected: boolean;
  /** The check the client named (HandshakeError.check or reason, the session's check-failed note, the code). */
  named?: string;
  /** The client's error text, or the note of the message it ignored. */
  error: string;
  ms: number;
  /** An encrypted packet went out under a key a correct client refuses. */
  keyUsed: boolean;
  /** Why the outcome is not a rejection (empty when it is). */
  why: string[];
  events: WireEvent[];
  poolEvents: PoolEventLike[];
  /** What the client threw (the HandshakeError, SessionClosedError, TransportError…). */
  thrown?: unknown;
  stats: HostileDcStats;
  /** Keys the run's key store held at the end (transport group) — keys are never saved from a failed exchange. */
  keysStored?: number;
}

const HOST = '127.0.0.1';
let sharedRsa: RsaKeyPair | undefined;

function text(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A memory key store that counts what happens to keys. */
export function countingKeyStore(): KeyStoreLike & { readonly size: number; saves: number; drops: number } {
  const keys = new Map<number, { authKey: Uint8Array; serverSalt?: bigint; timeOffset?: number }>();
  const store = {
    saves: 0,
    drops: 0,
    get size() {
      return keys.size;
    },
    loadKey: async (dcId: number) => keys.get(dcId),
    saveKey: async (dcId: number, rec: { authKey: Uint8Array; serverSalt?: bigint; timeOffset?: number }) => {
      store.saves++;
      keys.set(dcId, rec);
    },
    dropKey: async (dcId: number) => {
      store.drops++;
      keys.delete(dcId);
    },
  };
  return store;
}

interface RunPart {
  named?: string;
  error: string;
  thrown?: unknown;
  why: string[];
  keysStored?: number;
}

/** Key exchange and framing modes: createAuthKey must throw a HandshakeError naming the check. */
async function runHandshake(dc: HostileDc, check: string, events: WireEvent[], o: Required<Pick<HostileRunOptions, 'handshakeTimeoutMs'>>): Promise<RunPart> {
  const link = await connectTcp({ host: dc.host, port: dc.port, transport: 'intermediate' });
  const why: string[] = [];
  try {
    const res = await createAuthKey(link, { dcId: dc.dcId, rsaKeys: [dc.rsa.publicKey], onWire: (e) => events.push(e), timeoutMs: o.handshakeTimeoutMs });
    return { error: `key accepted (auth_key_id ${res.authKeyId})`, why: ['the client accepted the key'] };
  } catch (e) {
    if (!(e instanceof HandshakeError)) return { error: text(e), thrown: e, why: [`not a HandshakeError: ${text(e)}`] };
    const named = e.check ?? e.reason;
    if (named !== check) why.push(`named '${named}', not '${check}'`);
    if (!events.some((w) => w.kind === 'check-failed')) why.push('no check-failed wire event');
    if (!link.closed) why.push('the connection was left open');
    return { named, error: e.message, thrown: e, why };
  } finally {
    link.close();
  }
}

function checkFailedNote(events: WireEvent[]): string | undefined {
  return events.find((w) => w.kind === 'check-failed')?.note;
}

function waitClosed(s: MtprotoSession, ms: number): Promise<void> {
  if (s.closed) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    s.once('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

/** Session modes: after an honest key exchange, a ping meets the faulty answer. */
async function runSession(
  dc: HostileDc,
  check: string,
  expect: HostileExpectation,
  events: WireEvent[],
  o: Required<Pick<HostileRunOptions, 'handshakeTimeoutMs' | 'callTimeoutMs'>>,
): Promise<RunPart> {
  const opened = await openSession({
    host: dc.host,
    port: dc.port,
    dcId: dc.dcId,
    transport: 'intermediate',
    rsaKeys: [dc.rsa.publicKey],
    onWire: (e) => events.push(e),
    handshakeTimeoutMs: o.handshakeTimeoutMs,
    callTimeoutMs: o.callTimeoutMs,
  });
  const s = opened.session;
  const why: string[] = [];
  try {
    if (expect === 'ignore') {
      await s.ping();
      await s.ping(); // travels behind anything forged: by its pong the forged message was handled
      const note = events.find((w) => w.kind === 'check-failed' && /message ignored/.test(w.note ?? ''))?.note;
      if (!note) why.push('no wire event says a message was ignored');
      if (s.serverSalt === FORGED_SALT) why.push('the forged server_salt was adopted');
      if (s.closed) why.push('the session closed (ignoring was enough)');
      const named = note && /msg_id/.test(note) ? 'msg_id' : undefined;
      if (note && !named) why.push(`the ignored message's note names no msg_id check: ${note}`);
      return { ...(named ? { named } : {}), error: note ?? `salt ${s.serverSalt === FORGED_SALT ? 'forged' : 'kept'}`, why };
    }
    let thrown: unknown;
    await s.ping().catch((e: unknown) => {
      thrown = e;
    });
    await waitClosed(s, o.callTimeoutMs);
    const note = checkFailedNote(events);
    const named = note ? /check failed: ([^;]+);/.exec(note)?.[1] : undefined;
    if (named !== check) why.push(`named '${named ?? 'nothing'}', not '${check}'`);
    if (!s.closed) why.push('the session did not drop the connection');
    if (s.serverSalt === FORGED_SALT) why.push('the forged server_salt was adopted');
    const error = thrown !== undefined ? text(thrown) : (note ?? 'no error');
    return { ...(named ? { named } : {}), error, thrown, why };
  } finally {
    s.close('hostile run over');
  }
}

/** −404 modes, through a real DcPool: probing keeps the key, two in a row drop it. */
async function runTransport(
  dc: HostileDc,
  expect: HostileExpectation,
  events: WireEvent[],
  poolEvents: PoolEventLike[],
  o: Required<Pick<HostileRunOptions, 'handshakeTimeoutMs' | 'callTimeoutMs'>> & { pool?: PoolDriver },
): Promise<RunPart> {
  if (!o.pool) return { error: 'skipped: no pool driver', why: ['no pool driver given'] };
  const keys = countingKeyStore();
  const pool = o.pool({
    host: dc.host,
    port: dc.port,
    dcId: dc.dcId,
    rsaKey: dc.rsa.publicKey,
    keys,
    onEvent: (e) => poolEvents.push(e),
    onWire: (e) => events.push(e),
    callTimeoutMs: o.callTimeoutMs,
    handshakeTimeoutMs: o.handshakeTimeoutMs,
  });
  const why: string[] = [];
  const drops = (): number => poolEvents.filter((e) => e.type === 'key-dropped').length;
  try {
    let result: unknown;
    let thrown: unknown;
    try {
      result = await pool.invoke(dc.dcId, { _: 'help.getNearestDc' }, { timeoutMs: o.callTimeoutMs });
    } catch (e) {
      thrown = e;
    }
    const code = (thrown as { code?: unknown } | undefined)?.code;
    if (expect === 'probe') {
      if (thrown !== undefined) why.push(`the call failed: ${text(thrown)}`);
      if ((result as { _?: string } | undefined)?._ !== 'nearestDc') why.push('no answer after the probe');
      if (drops() > 0) why.push('the key was dropped after one −404');
      if (keys.size !== 1 || keys.saves !== 1) why.push(`key store: ${keys.size} keys after ${keys.saves} saves`);
      const error = thrown !== undefined ? text(thrown) : `one −404 (transport error ${dc.stats.transportErrors}x), fresh connection, key kept, call answered`;
      return { named: '-404', error, thrown, why, keysStored: keys.size };
    }
    if (code !== -404) why.push(`the call did not fail with −404: ${thrown !== undefined ? text(thrown) : 'it succeeded'}`);
    if (drops() === 0) why.push('the key was never dropped');
    if (dc.stats.transportErrors < 2 * drops()) why.push(`a key was dropped after fewer than two −404s (${dc.stats.transportErrors} for ${drops()} drops)`);
    if (keys.size !== 0) why.push('a dropped key is still stored');
    return { ...(code === -404 ? { named: '-404' } : {}), error: thrown !== undefined ? text(thrown) : 'no error', thrown, why, keysStored: keys.size };
  } finally {
    pool.close();
  }
}

/** Runs the client against one mode on a DC of its own (started and closed here). */
export async function runHostileMode(mode: HostileModeName, opts: HostileRunOptions = {}): Promise<HostileOutcome> {
  const info = hostileMode(mode);
  if (!info) throw new RangeError(`unknown hostile mode ${mode}`);
  const o = { handshakeTimeoutMs: opts.handshakeTimeoutMs ?? 1500, callTimeoutMs: opts.callTimeoutMs ?? 3000, pool: opts.pool };
  const boundMs = opts.boundMs ?? 10_000;
  const rsa = opts.rsa ?? (sharedRsa ??= generateRsaKeyPair());
  const dc = await startHostileDc({ mode, host: HOST, rsa });
  const events: WireEvent[] = [];
  const poolEvents: PoolEventLike[] = [];
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  let part: RunPart;
  try {
    const run = (async (): Promise<RunPart> => {
      switch (info.group) {
        case 'handshake':
        case 'framing':
          return runHandshake(dc, info.check, events, o);
        case 'session':
          return runSession(dc, info.check, info.expect, events, o);
        case 'transport':
          return runTransport(dc, info.expect, events, poolEvents, o);
      }
    })();
    const bound = new Promise<RunPart>((resolve) => {
      timer = setTimeout(() => resolve({ error: `hang: nothing settled within ${boundMs} ms`, why: ['the client hung'] }), boundMs);
    });
    part = await Promise.race([run.catch((e: unknown) => ({ error: text(e), thrown: e, why: [`the run failed: ${text(e)}`] })), bound]);
  } finally {
    if (timer) clearTimeout(timer);
  }
  const ms = Date.now() - started;
  await sleep(20); // anything the client still sends under a refused key arrives now
  await dc.close();
  const keyUsed = dc.stats.refusedKeyPackets > 0 || (info.group === 'handshake' && dc.stats.encryptedPackets > 0);
  const why = [...part.why];
  if (keyUsed) why.push(`${dc.stats.encryptedPackets} encrypted packets sent under a key the client had to refuse`);
  return {
    mode,
    group: info.group,
    expect: info.expect,
    check: info.check,
    rejected: why.length === 0,
    ...(part.named !== undefined ? { named: part.named } : {}),
    error: part.error,
    ms,
    keyUsed,
    why,
    events,
    poolEvents,
    ...(part.thrown !== undefined ? { thrown: part.thrown } : {}),
    stats: dc.stats,
    ...(part.keysStored !== undefined ? { keysStored: part.keysStored } : {}),
  };
}

/** The control: against an honest DC ('none') the same client makes a key and gets a pong. */
export async function runHonestControl(opts: HostileRunOptions = {}): Promise<{ ok: boolean; ms: number; error?: string; stats: HostileDcStats }> {
  const rsa = opts.rsa ?? (sharedRsa ??= generateRsaKeyPair());
  const dc = await startHostileDc({ mode: 'none', host: HOST, rsa });
  const started = Date.now();
  try {
    const opened = await openSession({
      host: dc.host,
      port: dc.port,
      dcId: dc.dcId,
      transport: 'intermediate',
      rsaKeys: [rsa.publicKey],
      handshakeTimeoutMs: opts.handshakeTimeoutMs ?? 5000,
      callTimeoutMs: opts.callTimeoutMs ?? 5000,
    });
    try {
      await opened.session.ping();
      await opened.session.invoke({ _: 'help.getNearestDc' });
    } finally {
      opened.session.close('control over');
    }
    return { ok: true, ms: Date.now() - started, stats: dc.stats };
  } catch (e) {
    return { ok: false, ms: Date.now() - started, error: text(e), stats: dc.stats };
  } finally {
    await dc.close();
  }
}

/** Every mode (or the given ones), one after another. */
export async function runHostileModes(
  modes: readonly HostileModeName[] = HOSTILE_MODES.map((x) => x.name),
  opts: HostileRunOptions = {},
  onOutcome?: (o: HostileOutcome) => void,
): Promise<HostileOutcome[]> {
  const out: HostileOutcome[] = [];
  for (const m of modes) {
    const r = await runHostileMode(m, opts);
    out.push(r);
    onOutcome?.(r);
  }
  return out;
}
