// `dclab status [--json] [--ping]`: the persisted state of a profile, read from the store only — no connection, no
// handshake, no write (the embedded sandbox is not started either). --ping opens a session per DC that has a
// stored key, with that key (openSession never makes a key when one is given), and measures a ping.
import type { Profile } from '../dc/profile';
import { dcAddress } from '../dc/profile';
import type { Topology } from '../dc/topology';
import { openSession } from '../mtproto/client';
import { keyIdOf } from '../mtproto/message-crypto';
import { flagBool, UsageError, type FlagSpecs, type ParsedArgs } from './args';
import { worldStillThere, type CliContext, type WorldRecord } from './context';

export const STATUS_FLAGS: FlagSpecs = {
  '--json': { kind: 'boolean' },
  '--ping': { kind: 'boolean' },
};

export interface StatusDc {
  dcId: number;
  home: boolean;
  key: boolean;
  keyCreatedAt?: string;
  /** auth_key_id of the stored key (signed decimal, as the sandbox logs it): the id, never the key. */
  authKeyId?: string;
  authorized: boolean;
  connected?: boolean;
  latencyMs?: number;
  pingError?: string;
}

export interface StatusReport {
  profile: string;
  dataDir: string;
  world?: { kind: WorldRecord['kind']; where: string; since: string; current?: boolean; note?: string };
  homeDc?: number;
  userId?: string;
  loggedIn: boolean;
  authorizedDcs: number[];
  dcs: StatusDc[];
  apiId?: number;
  hasApiHash: boolean;
  hasTopology: boolean;
  hasTrace: boolean;
}

export async function collectStatus(ctx: CliContext): Promise<StatusReport> {
  const snap = await ctx.store.snapshot();
  const topo = (await ctx.store.getDcOptions<Topology>())?.options;
  const ids = new Set<number>([...snap.dcKeys.map((k) => k.dcId), ...snap.authorizedDcs]);
  if (snap.homeDc !== undefined) ids.add(snap.homeDc);
  for (const e of topo?.endpoints ?? []) if (!e.cdn && !e.mediaOnly) ids.add(e.id);
  const keyOf = new Map(snap.dcKeys.map((k) => [k.dcId, k]));
  const auth = new Set(snap.authorizedDcs);
  const loggedIn = snap.userId !== undefined && snap.homeDc !== undefined && auth.has(snap.homeDc);
  const keyIds = new Map<number, string>();
  for (const k of snap.dcKeys) {
    const rec = await ctx.store.getDcKey(k.dcId);
    if (rec) keyIds.set(k.dcId, keyIdOf(rec.authKey).toString());
  }
  const report: StatusReport = {
    profile: snap.profile,
    dataDir: ctx.opts.dataDir,
    loggedIn,
    authorizedDcs: snap.authorizedDcs,
    dcs: [...ids]
      .sort((a, b) => a - b)
      .map((dcId) => {
        const k = keyOf.get(dcId);
        return {
          dcId,
          home: dcId === snap.homeDc,
          key: k !== undefined,
          ...(k ? { keyCreatedAt: new Date(k.createdAt).toISOString() } : {}),
          ...(keyIds.has(dcId) ? { authKeyId: keyIds.get(dcId)! } : {}),
          authorized: loggedIn && auth.has(dcId),
        };
      }),
    hasApiHash: snap.hasApiHash,
    hasTopology: snap.hasDcOptions,
    hasTrace: snap.hasLastTrace,
  };
  if (snap.homeDc !== undefined) report.homeDc = snap.homeDc;
  if (snap.userId !== undefined) report.userId = String(snap.userId);
  if (snap.apiId !== undefined) report.apiId = snap.apiId;
  if (ctx.isSandbox) {
    const stored = await ctx.storedWorld();
    if (stored) {
      const w: NonNullable<StatusReport['world']> = { kind: stored.kind, where: stored.where, since: new Date(stored.since).toISOString() };
      if (stored.kind === 'embedded') {
        w.current = false;
        w.note = 'the embedded sandbox ended with the command that used it; the next connecting command drops this state';
      } else if (ctx.opts.sandboxInfoFile) {
        const now = ctx.attachedWorld()!.world;
        w.current = now.id === stored.id;
        if (!w.current) w.note = `${ctx.opts.sandboxInfoFile} describes another sandbox world; the next connecting command drops this state`;
      } else {
        // no --sandbox-info: judge by the stored world's own info file (read only)
        w.current = worldStillThere(stored);
        w.note = w.current
          ? `attach with --sandbox-info ${stored.where} to use it`
          : `${stored.where} is gone or describes another world: that sandbox has ended; the next connecting command drops this state`;
      }
      report.world = w;
    }
  }
  return report;
}

async function pingAll(ctx: CliContext, profile: Profile, report: StatusReport): Promise<void> {
  const topo = (await ctx.store.getDcOptions<Topology>())?.options;
  const mark = await ctx.beginTrace(false, 'ping with stored keys');
  await Promise.all(
    report.dcs
      .filter((d) => d.key)
      .map(async (d) => {
        const rec = await ctx.store.getDcKey(d.dcId);
        if (!rec) return;
        let addr: { host: string; port: number };
        try {
          addr = dcAddress(profile, d.dcId, ctx.isSandbox ? undefined : topo);
        } catch (e) {
          d.connected = false;
          d.pingError = (e as Error).message;
          return;
        }
        try {
          const { session, created } = await openSession({
            ...addr,
            dcId: d.dcId,
            transport: profile.transport,
            rsaKeys: profile.rsaKeys,
            authKey: rec.authKey,
            serverSalt: rec.serverSalt,
            timeOffset: rec.timeOffset,
            connectTimeoutMs: 5000,
            callTimeoutMs: 5000,
          });
          if (created) throw new Error('internal: a key was created');
          try {
            d.latencyMs = Math.round((await session.ping()) * 10) / 10;
            d.connected = true;
            ctx.trace.add({ kind: 'state', name: 'ping', dcId: d.dcId, durationMs: d.latencyMs, parentId: mark, note: 'stored key' });
          } finally {
            session.close();
          }
        } catch (e) {
          d.connected = false;
          d.pingError = (e as Error).message;
          ctx.trace.add({ kind: 'error', name: 'ping failed', dcId: d.dcId, parentId: mark, note: d.pingError });
        }
      }),
  );
}

export async function runStatus(ctx: CliContext, p: ParsedArgs): Promise<number> {
  if (p.positionals.length) throw new UsageError(`unexpected argument: ${p.positionals[0]}`, 'status');
  const report = await collectStatus(ctx);
  if (flagBool(p, '--ping')) {
    if (ctx.embedded) throw new Error('--ping: the embedded sandbox of an earlier command is gone, so its keys cannot be used; attach with --sandbox-info F');
    if (report.world && report.world.current === false) throw new Error(`--ping: ${report.world.note}`);
    const profile = await ctx.connectProfile();
    await pingAll(ctx, profile, report);
  }
  // --ping: a DC with a stored key that did not answer makes the command fail (after printing the report)
  const code = report.dcs.some((d) => d.key && d.connected === false) ? 1 : 0;
  if (flagBool(p, '--json')) {
    ctx.io.out(`${JSON.stringify(report, null, 2)}\n`);
    return code;
  }
  const lines: string[] = [];
  lines.push(`profile   ${report.profile}   (data dir ${report.dataDir})`);
  if (report.world) {
    lines.push(
      `sandbox   ${report.world.kind} — ${report.world.where}, since ${report.world.since}${report.world.current === true ? (ctx.opts.sandboxInfoFile ? ' (current)' : ' (its info file is unchanged)') : ''}`,
    );
    if (report.world.note) lines.push(`          note: ${report.world.note}`);
  }
  lines.push(`home DC   ${report.homeDc ?? '-'}`);
  lines.push(
    `user      ${report.userId ?? '-'}${report.loggedIn ? (report.world?.current === false ? ' (logged in, in a sandbox world that has ended)' : ' (logged in)') : ' (not logged in)'}`,
  );
  if (report.apiId !== undefined || report.hasApiHash)
    lines.push(`api       api_id ${report.apiId ?? '-'}, api_hash ${report.hasApiHash ? 'stored (secrets.json)' : 'missing'}`);
  lines.push('');
  lines.push(statusTable(report.dcs));
  ctx.io.out(`${lines.join('\n')}\n`);
  return code;
}

export function statusTable(dcs: StatusDc[]): string {
  if (dcs.length === 0) return '(no DC used yet)';
  // the key id column only where ids are known (the demo's live table has none)
  const ids = dcs.some((d) => d.authKeyId !== undefined);
  const rows = [['DC', 'home', 'auth key', ...(ids ? ['auth_key_id'] : []), 'authorized', 'connected', 'latency']];
  for (const d of dcs) {
    rows.push([
      `DC${d.dcId}`,
      d.home ? '*' : '',
      d.key ? (d.keyCreatedAt ? `yes (${d.keyCreatedAt.replace('T', ' ').slice(0, 19)})` : 'yes') : 'no',
      ...(ids ? [d.authKeyId ?? '-'] : []),
      d.authorized ? 'yes' : 'no',
      d.connected === undefined ? '-' : d.connected ? 'yes' : `no${d.pingError ? ` (${d.pingError})` : ''}`,
      d.latencyMs !== undefined ? `${d.latencyMs} ms` : '-',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
