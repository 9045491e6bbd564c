// Starts the multi-DC sandbox for the interop tests: ephemeral ports, a temporary data dir, GramJS's layer-198
// schema served beside the bundled layer, and every sandbox log line kept for assertions and diagnostics.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import gramjsApiTl from 'telegram/tl/apiTl.js';
import { LAYER as GRAMJS_LAYER } from 'telegram/tl/AllTLObjects';
import { startSandbox, type Sandbox } from '../../../src/sandbox';

export { GRAMJS_LAYER };

/** Made-up API credentials: the sandbox is not Telegram and needs no registered app. */
export const SANDBOX_API_ID = 12345;
export const SANDBOX_API_HASH = '0123456789abcdef0123456789abcdef';

export interface InteropSandbox {
  sb: Sandbox;
  /** every line the sandbox logged, in order */
  log: string[];
  /** the TCP port of DC `dcId` (IPv4 listener) */
  portOf(dcId: number): number;
  /** dcId → port for every DC of the sandbox */
  ports: Map<number, number>;
  stop(): Promise<void>;
}

export async function startInteropSandbox(): Promise<InteropSandbox> {
  // mtcute 0.30.3 indexes keys by 16 hex digits (zero-padded) but looks server fingerprints up with
  // Long#toString(16) (not padded): a key whose unsigned fingerprint is below 2^60 (1 random key in 16) is never
  // found ("Step 2: ... public key"). Real Telegram keys do not hit this; a fresh sandbox key may, so such a key is
  // thrown away with its data dir and the sandbox restarted (client-side limitation, the server is not changed).
  for (let attempt = 1; ; attempt++) {
    const s = await startOnce();
    if (BigInt.asUintN(64, BigInt(s.sb.info.rsa.fingerprint)) >= 1n << 60n || attempt >= 10) return s;
    await s.stop();
  }
}

async function startOnce(): Promise<InteropSandbox> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dclab-interop-'));
  const log: string[] = [];
  let sb: Sandbox;
  try {
    sb = await startSandbox({
      basePort: 0,
      dataDir,
      extraSchemas: [{ layer: GRAMJS_LAYER, text: gramjsApiTl }],
      log: (line) => log.push(line),
    });
  } catch (e) {
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  const ports = new Map<number, number>();
  for (const dc of sb.info.dcs) ports.set(dc.id, dc.port);
  let stopped = false;
  return {
    sb,
    log,
    ports,
    portOf(dcId) {
      const p = ports.get(dcId);
      if (p === undefined) throw new Error(`sandbox has no DC ${dcId} (has ${[...ports.keys()].join(',')})`);
      return p;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await sb.stop();
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}

/** Rejects after `ms` with `what` and the tail of the diagnostics, so a hang shows where it stuck. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string, diag: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms\n${diag()}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The last `n` lines of each named log, for failure messages. */
export function tails(logs: Record<string, string[]>, n = 40): string {
  return Object.entries(logs)
    .map(([name, lines]) => `--- ${name} (last ${Math.min(n, lines.length)} of ${lines.length}) ---\n${lines.slice(-n).join('\n')}`)
    .join('\n');
}

/** Runs `fn` and, if it throws, appends the diagnostics to the error message. */
export async function explained<T>(fn: () => Promise<T>, diag: () => string): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    if (!err.message.includes('\n--- ')) err.message = `${err.message}\n${diag()}`;
    throw err;
  }
}

/** The numeric DC of a 99966XYYYY test phone. */
export function homeDcOf(phone: string): number {
  const m = /^99966(\d)\d{4}$/.exec(phone);
  if (!m) throw new Error(`${phone} is not a 99966XYYYY test number`);
  return Number(m[1]);
}

/** The login code of a 99966XYYYY test phone: X five times. */
export function codeOf(phone: string): string {
  return String(homeDcOf(phone)).repeat(5);
}

/**
 * The seeded sandbox user behind `phone` (read from the sandbox's world, not through the protocol), checked
 * against what a client read with users.getUsers(self), plus the server-side trace of its login: an
 * authorization on the home DC (where the client signed in after the migration) and none on DC 2.
 */
export function seededUser(s: InteropSandbox, phone: string) {
  const u = s.sb.world.userByPhone(phone);
  if (!u) throw new Error(`sandbox has no seeded user ${phone}`);
  const auths = s.sb.world.authorizationsOf(u.id);
  return {
    id: u.id.toString(),
    firstName: u.firstName,
    lastName: u.lastName,
    homeDc: u.homeDc,
    authDcs: auths.map((a) => a.dcId),
    auths: auths.map((a) => ({ dcId: a.dcId, kind: a.kind })),
  };
}
