// Wall time (ms) of a full phone login that hits PHONE_MIGRATE, with an injected one-way latency (default 50 ms)
// on every DC of the in-process sandbox (sandbox.setLatency(dc, ms) for DC 1..5: every server → client write is
// delayed by that much, so each request/response round trip costs at least that). Each run starts on DC 2 with a
// fresh client (no stored keys) and a fresh phone 99966 4 YYYY (registered on DC 4, code 44444), and is timed from
// "client created" to "authorized, user returned":
//   ours          createDcClient({ profile }) → start() → login({ phone, code })            (src/lifecycle)
//   oursPrewarm   the same with createDcClient({ prewarm: true }): keys for the other DCs start after getConfig
//   (oursPrewarmIdle, login() only: prewarm: true, and login() starts only once the pre-warming is done, as when a
//                 user takes a few seconds to type the number; its start → login wait is not a client cost, so
//                 this variant reports the login() part alone, to compare with the login() part of `ours`)
//   gramjs        new TelegramClient(MemorySession on DC 2) → client.start({ phoneNumber, phoneCode })
//                 (GramJS follows PHONE_MIGRATE_4 itself: _switchDC → new key on DC 4 → repeats auth.sendCode)
// Round trips are counted the same way for every variant, on the server: the sandbox's onWire events with dir 'in' and
// kind 'plain' (handshake messages) or 'encrypted' (API calls) received from the client creation until the client
// is quiet (ours: after login() and client.prewarmed(); GramJS: after start()). Service messages (acks, pings,
// containers themselves) are not round trips the client waits for and are not counted.
// Variants are interleaved (order rotated each round); warm-up rounds are dropped; figures are medians.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogLevel } from 'telegram/extensions/Logger';
import { MemorySession } from 'telegram/sessions';
import { ConnectionTCPAbridged, ConnectionTCPFull } from 'telegram/network';
import gramjsApiTl from 'telegram/tl/apiTl.js';
import { LAYER as GRAMJS_LAYER } from 'telegram/tl/AllTLObjects';
import { startSandbox, type Sandbox } from '../src/sandbox/index';
import type { WireEvent } from '../src/mtproto/wire-event';
import { profileFromSandboxInfo, type Profile } from '../src/dc/index';
import { createDcClient, type LifecycleEvent } from '../src/lifecycle/index';
import { emit, fail, log, median, nowMs, rotate, round } from './_lib';
// GramJS against the sandbox (key registration, port-rewriting connection, in-memory logger, a client whose
// disconnect() also closes borrowed senders): the interop tests' harness, which imports nothing of the test runner.
import { MemoryLogger, registerGramjsKey, SandboxTelegramClient, sandboxConnection } from '../test/interop/helpers/gramjs';

const RUNS = Number(process.env.BENCH_LOGIN_RUNS ?? 9);
const WARMUP = Number(process.env.BENCH_LOGIN_WARMUP ?? 1);
const LATENCY_MS = Number(process.env.BENCH_LOGIN_LATENCY_MS ?? 50);
const TIMEOUT_MS = Number(process.env.BENCH_LOGIN_TIMEOUT_MS ?? 20_000);
const BUDGET_MS = 150_000;
const MAX_GRAMJS_KNOWN_FAILURES = 3;
const GRAMJS_KNOWN_DEFECT = 'Step 3 invalid new nonce hash';
const START_DC = 2;
const HOME_DC = 4;
const CODE = String(HOME_DC).repeat(5);
const TRANSPORT = (process.env.BENCH_TRANSPORT ?? 'full') as 'full' | 'abridged';
if (TRANSPORT !== 'full' && TRANSPORT !== 'abridged') fail(`BENCH_TRANSPORT must be full or abridged (GramJS has no plain intermediate), got ${TRANSPORT}`);
const BENCH = `login-migrate-${LATENCY_MS}ms`;
// Made-up API credentials: the sandbox is not Telegram and needs no registered app.
const API_ID = 12345;
const API_HASH = '0123456789abcdef0123456789abcdef';

type Variant = 'ours' | 'oursPrewarm' | 'oursPrewarmIdle' | 'gramjs';
const VARIANTS: Variant[] = ['ours', 'oursPrewarm', 'oursPrewarmIdle', 'gramjs'];

interface RunResult {
  ms: number;
  /** server-side: plain + encrypted messages received from this client */
  roundTrips: number;
  /** server-side: auth keys created for this client */
  keys: number;
  /** server-side: connections this client opened */
  connections: number;
  /** the counted messages in arrival order ("DC2 auth.sendCode") */
  sequence: string[];
  /** server-side duration of each auth key creation: first handshake message received → key created */
  keyMs: number[];
  /** ours only: ms of start() (connect + key + getConfig) and of login() */
  startMs?: number;
  loginMs?: number;
  /** oursPrewarm only: DC 4's key was already created when PHONE_MIGRATE_4 arrived / its connect had started */
  keyReadyAtRedirect?: boolean;
  keyStartedAtRedirect?: boolean;
}

function withTimeout<T>(p: Promise<T>, what: string, diag: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no result after ${TIMEOUT_MS} ms\n${diag()}`)), TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------- server-side counting

let collector: WireEvent[] | undefined;

function summarize(events: WireEvent[]): Pick<RunResult, 'roundTrips' | 'keys' | 'connections' | 'sequence' | 'keyMs'> {
  const counted = events.filter((e) => e.dir === 'in' && (e.kind === 'plain' || e.kind === 'encrypted'));
  const sequence = counted.map((e) => `DC${e.dcId} ${e.ctor}${e.note?.startsWith('rejected') ? ` (${e.note})` : ''}`);
  const keyEvents = events.filter((e) => e.dir === 'local' && e.kind === 'key');
  const keyMs: number[] = [];
  for (const k of keyEvents) {
    const first = events.find((e) => e.connId === k.connId && e.dir === 'in' && e.kind === 'plain');
    if (first) keyMs.push(k.time - first.time);
  }
  return {
    roundTrips: counted.length,
    keys: keyEvents.length,
    keyMs,
    connections: new Set(events.filter((e) => e.dir === 'in').map((e) => e.connId)).size,
    sequence,
  };
}

function describe(sequence: string[]): string {
  return sequence.join(', ');
}

// ---------------------------------------------------------------- ours

async function oursOnce(profile: Profile, phone: string, v: 'ours' | 'oursPrewarm' | 'oursPrewarmIdle', diag: () => string): Promise<RunResult> {
  const prewarm = v !== 'ours';
  const events: LifecycleEvent[] = [];
  const wire: WireEvent[] = [];
  collector = wire;
  const t0 = nowMs();
  const client = createDcClient({ profile, prewarm, onEvent: (e) => void events.push(e), callTimeoutMs: TIMEOUT_MS });
  try {
    await withTimeout(client.start(), `${v} start()`, diag);
    if (v === 'oursPrewarmIdle') await withTimeout(client.prewarmed(), `${v} prewarmed()`, diag);
    const tStarted = nowMs();
    const user = (await withTimeout(client.login({ phone, code: async () => CODE }), `${v} login()`, diag)) as {
      _: string;
      phone?: string;
      self?: boolean;
    };
    const t1 = nowMs();
    if (user._ !== 'user' || user.phone !== phone)
      throw new Error(
        `ours: login() returned ${JSON.stringify(user, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}, expected the user of +${phone}`,
      );
    const st = client.status();
    if (st.state !== 'authorized' || st.homeDc !== HOME_DC)
      throw new Error(`ours: after login the status is ${st.state} on home DC ${st.homeDc}, expected authorized on DC ${HOME_DC}`);
    await withTimeout(client.prewarmed(), 'ours prewarmed()', diag); // not timed: lets the pre-warm round trips be counted
    collector = undefined;
    const redirect = events.find((e) => e.kind === 'redirect' && e.name === `PHONE_MIGRATE_${HOME_DC}`);
    if (!redirect)
      throw new Error(
        `ours: no PHONE_MIGRATE_${HOME_DC} redirect among the lifecycle events: ${events.map((e) => `${e.kind}:${e.name}@DC${e.dcId}`).join(', ')}`,
      );
    const keyEv = events.find((e) => e.kind === 'key' && e.name === 'auth key' && e.dcId === HOME_DC);
    const connEv = events.find((e) => e.kind === 'state' && e.name === 'connect' && e.dcId === HOME_DC);
    if (v === 'oursPrewarmIdle' && !(keyEv && keyEv.id < redirect.id))
      throw new Error(`${v}: the DC ${HOME_DC} key was not ready at PHONE_MIGRATE_${HOME_DC} although login() started after prewarmed()`);
    return {
      ms: t1 - t0,
      startMs: tStarted - t0,
      loginMs: t1 - tStarted,
      ...summarize(wire),
      ...(prewarm
        ? {
            keyReadyAtRedirect: !!keyEv && keyEv.id < redirect.id,
            keyStartedAtRedirect: !!connEv && connEv.id < redirect.id,
          }
        : {}),
    };
  } finally {
    collector = undefined;
    await client.stop();
  }
}

// ---------------------------------------------------------------- GramJS

async function gramjsOnce(sb: Sandbox, phone: string, lines: string[], diag: () => string): Promise<RunResult> {
  const wire: WireEvent[] = [];
  const errors: Error[] = [];
  const dc = sb.info.dcs.find((d) => d.id === START_DC)!;
  collector = wire;
  const t0 = nowMs();
  const session = new MemorySession();
  session.setDC(START_DC, dc.host, dc.port);
  const client = new SandboxTelegramClient(session, API_ID, API_HASH, {
    connection: sandboxConnection(TRANSPORT === 'full' ? ConnectionTCPFull : ConnectionTCPAbridged, sb),
    baseLogger: new MemoryLogger(lines, LogLevel.INFO),
    useWSS: false,
    useIPV6: false,
    autoReconnect: false,
    connectionRetries: 1,
    retryDelay: 100,
    requestRetries: 2,
    timeout: TIMEOUT_MS / 1000,
    deviceModel: 'dclab-bench',
    systemVersion: process.version,
    appVersion: '1.0',
  });
  // Top-level errors (a failed connect or handshake: GramJS then goes on with a dead sender) end the run at once.
  let abort!: (e: Error) => void;
  const aborted = new Promise<never>((_, reject) => (abort = reject));
  aborted.catch(() => undefined);
  client.onError = async (err: Error) => abort(err);
  try {
    await withTimeout(
      Promise.race([
        aborted,
        client.start({
          phoneNumber: async () => phone,
          phoneCode: async () => CODE,
          password: async () => {
            throw new Error('the sandbox asked for a 2FA password');
          },
          onError: async (err: Error) => {
            errors.push(err);
            return true; // stop at the first error (GramJS then throws AUTH_USER_CANCEL)
          },
        }),
      ]),
      'gramjs start()',
      diag,
    );
    const t1 = nowMs();
    collector = undefined;
    if (errors.length) throw new Error(`gramjs: start() reported ${errors.map((e) => e.message).join('; ')}`);
    // GramJS's start() returns nothing: check on the server that this login is what we think it is.
    const user = sb.world.userByPhone(phone);
    const auths = user ? sb.world.authorizationsOf(user.id) : [];
    if (session.dcId !== HOME_DC) throw new Error(`gramjs: the session ended on DC ${session.dcId}, expected ${HOME_DC} after PHONE_MIGRATE_${HOME_DC}`);
    if (!auths.some((a) => a.dcId === HOME_DC && a.kind === 'login'))
      throw new Error(`gramjs: the sandbox has no login authorization of +${phone} on DC ${HOME_DC}`);
    if (!lines.some((l) => l.includes(`Phone migrated to ${HOME_DC}`))) throw new Error(`gramjs: GramJS did not log "Phone migrated to ${HOME_DC}"`);
    return { ms: t1 - t0, ...summarize(wire) };
  } finally {
    collector = undefined;
    await client.destroy().catch(() => undefined);
  }
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const guard = setTimeout(() => fail(`${BENCH} bench exceeded ${BUDGET_MS / 1000} s`), BUDGET_MS);
  guard.unref();
  const dataDir = mkdtempSync(join(tmpdir(), 'dclab-bench-'));
  const sandboxLog: string[] = [];
  const sb = await startSandbox({
    basePort: 0,
    dataDir,
    ipv6: false,
    extraSchemas: [{ layer: GRAMJS_LAYER, text: gramjsApiTl }],
    log: (line: string) => {
      sandboxLog.push(line);
      if (sandboxLog.length > 400) sandboxLog.splice(0, 200);
    },
    onWire: (e) => collector?.push(e),
  });
  try {
    for (let dc = 1; dc <= 5; dc++) sb.setLatency(dc, LATENCY_MS);
    registerGramjsKey(sb); // GramJS looks the server key up by its signed decimal fingerprint
    const profile = profileFromSandboxInfo(sb.info, { firstDc: START_DC, transport: TRANSPORT, apiId: API_ID, apiHash: API_HASH });
    log(
      `sandbox DCs ${sb.info.dcs.map((d) => `${d.id}:${d.port}`).join(' ')}, latency ${LATENCY_MS} ms on DC 1..5, transport ${TRANSPORT}, GramJS layer ${GRAMJS_LAYER}`,
    );

    let phoneSeq = 0;
    const nextPhone = (): string => {
      // 99966 4 YYYY: DC 4, code 44444; YYYY from 2000 (no 9YYY = 2FA numbers, no seeded 1234); a fresh user per run
      const phone = `99966${HOME_DC}${String(2000 + ++phoneSeq).padStart(4, '0')}`;
      sb.registerUser(phone, 'Bench', `Run ${phoneSeq}`);
      return phone;
    };

    const results: Record<Variant, RunResult[]> = { ours: [], oursPrewarm: [], oursPrewarmIdle: [], gramjs: [] };
    let gramjsFailures = 0;
    const tStart = nowMs();
    for (let r = 0; r < WARMUP + RUNS; r++) {
      for (const v of rotate(VARIANTS, r)) {
        const phone = nextPhone();
        const gramLines: string[] = [];
        const diag = (): string =>
          `--- sandbox log (last 25) ---\n${sandboxLog.slice(-25).join('\n')}` +
          (v === 'gramjs' ? `\n--- GramJS log (last 25) ---\n${gramLines.slice(-25).join('\n')}` : '');
        let res: RunResult | undefined;
        while (!res) {
          try {
            res = v === 'gramjs' ? await gramjsOnce(sb, phone, gramLines, diag) : await oursOnce(profile, phone, v, diag);
          } catch (e) {
            // GramJS defect (see auth-key in README.md): 1 auth key in 256 starts with 0x00 and GramJS then rejects
            // the server's correct new_nonce_hash1. Such a run is not timed and is redone with a new client.
            if (v === 'gramjs' && (e as Error).message === GRAMJS_KNOWN_DEFECT && gramjsFailures < MAX_GRAMJS_KNOWN_FAILURES) {
              gramjsFailures++;
              log(`round ${r}: gramjs failed with "${GRAMJS_KNOWN_DEFECT}" (GramJS 255-byte auth key defect); run redone, not timed`);
              gramLines.length = 0;
              continue;
            }
            fail(`${v} failed in round ${r} (+${phone}): ${(e as Error).stack ?? String(e)}\n${diag()}`);
          }
        }
        if (r >= WARMUP) results[v].push(res);
        const extra =
          (res.startMs !== undefined
            ? ` (start${v === 'oursPrewarmIdle' ? ' + pre-warm wait' : ''} ${res.startMs.toFixed(0)} + login ${res.loginMs!.toFixed(0)})`
            : '') +
          (res.keyReadyAtRedirect !== undefined
            ? `, DC${HOME_DC} key at redirect: ${res.keyReadyAtRedirect ? 'ready' : res.keyStartedAtRedirect ? 'in flight' : 'not started'}`
            : '');
        log(
          `round ${r}${r < WARMUP ? ' (warm-up)' : ''}: ${v} ${res.ms.toFixed(1)} ms${extra}; ${res.roundTrips} round trips, ${res.keys} keys (${res.keyMs.join('/')} ms), ${res.connections} connections`,
        );
        if (r === WARMUP) log(`  ${v} round trips: ${describe(res.sequence)}`);
      }
    }
    const ms = (v: Variant) => results[v].map((x) => x.ms);
    for (const v of VARIANTS)
      log(
        `${v}${v === 'oursPrewarmIdle' ? ' (includes the wait for pre-warming; not reported)' : ''}: min/median/max ${Math.min(...ms(v)).toFixed(1)}/${median(ms(v)).toFixed(1)}/${Math.max(...ms(v)).toFixed(1)} ms`,
      );
    log(`${RUNS} timed rounds + ${WARMUP} warm-up in ${((nowMs() - tStart) / 1000).toFixed(1)} s`);

    /** the single value when every run agrees, else the list */
    const same = (xs: number[]): number | number[] => (new Set(xs).size === 1 ? xs[0]! : xs);
    const o = median(ms('ours'));
    const op = median(ms('oursPrewarm'));
    const g = median(ms('gramjs'));
    emit({
      bench: BENCH,
      unit: 'ms',
      ours: round(o, 1),
      oursPrewarm: round(op, 1),
      gramjs: round(g, 1),
      ratio: round(o / g, 2),
      ratioPrewarm: round(op / g, 2),
      roundTripsOurs: same(results.ours.map((x) => x.roundTrips)),
      roundTripsOursPrewarm: same(results.oursPrewarm.map((x) => x.roundTrips)),
      roundTripsGramjs: same(results.gramjs.map((x) => x.roundTrips)),
      keysOurs: same(results.ours.map((x) => x.keys)),
      keysOursPrewarm: same(results.oursPrewarm.map((x) => x.keys)),
      keysGramjs: same(results.gramjs.map((x) => x.keys)),
      keyMsOurs: round(median(results.ours.flatMap((x) => x.keyMs)), 1),
      keyMsGramjs: round(median(results.gramjs.flatMap((x) => x.keyMs)), 1),
      oursLogin: round(median(results.ours.map((x) => x.loginMs!)), 1),
      oursPrewarmLogin: round(median(results.oursPrewarm.map((x) => x.loginMs!)), 1),
      oursPrewarmIdleLogin: round(median(results.oursPrewarmIdle.map((x) => x.loginMs!)), 1),
      roundTripsOursPrewarmIdle: same(results.oursPrewarmIdle.map((x) => x.roundTrips)),
      prewarmKeyReadyAtRedirect: results.oursPrewarm.filter((x) => x.keyReadyAtRedirect).length,
      prewarmKeyInFlightAtRedirect: results.oursPrewarm.filter((x) => !x.keyReadyAtRedirect && x.keyStartedAtRedirect).length,
      latencyMs: LATENCY_MS,
      transport: TRANSPORT,
      gramjsFailures,
      runs: RUNS,
    });
  } finally {
    await sb.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0), // GramJS leaves finished send/update loops' promises around; do not wait on stray handles
  (e: unknown) => fail((e as Error).stack ?? String(e)),
);
