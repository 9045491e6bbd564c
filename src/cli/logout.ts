// `dclab logout [--local | --forget-keys]`: auth.logOut on every authorized DC (through the lifecycle), then the
// profile's login is forgotten (keys, home DC, user, authorized DCs; api_id/api_hash stay). --local skips the
// server; --forget-keys also asks every DC holding one of our keys to destroy it (destroy_auth_key), so a copy of
// the key left anywhere is useless.
import { flagBool, UsageError, type FlagSpecs, type ParsedArgs } from './args';
import type { CliContext } from './context';

export const LOGOUT_FLAGS: FlagSpecs = {
  '--local': { kind: 'boolean' },
  '--forget-keys': { kind: 'boolean' },
};

async function forget(ctx: CliContext): Promise<void> {
  const [apiId, apiHash, trace] = await Promise.all([ctx.store.getApiId(), ctx.store.getApiHash(), ctx.store.getLastTrace<{ events: unknown[] }>()]);
  await ctx.store.clear();
  if (apiId !== undefined) await ctx.store.setApiId(apiId);
  if (apiHash !== undefined) await ctx.store.setApiHash(apiHash);
  if (trace) await ctx.store.setLastTrace(trace);
}

export async function runLogout(ctx: CliContext, p: ParsedArgs): Promise<number> {
  if (p.positionals.length) throw new UsageError(`unexpected argument: ${p.positionals[0]}`, 'logout');
  const snap = await ctx.store.snapshot();
  const forgetKeys = flagBool(p, '--forget-keys');
  if (forgetKeys && flagBool(p, '--local')) throw new UsageError('--forget-keys asks the DCs to destroy the keys: it does not go with --local', 'logout');
  if (flagBool(p, '--local')) {
    await forget(ctx);
    ctx.io.out(`Forgot the ${ctx.opts.profileName} login in ${ctx.opts.dataDir} (the server was not contacted)\n`);
    return 0;
  }
  if (!forgetKeys && (snap.userId === undefined || !snap.authorizedDcs.length)) {
    await forget(ctx);
    ctx.io.out(`Not logged in on the ${ctx.opts.profileName} profile; stored keys forgotten\n`);
    return 0;
  }
  const profile = await ctx.connectProfile();
  await ctx.beginTrace(false);
  const client = ctx.createClient(profile);
  let ok = true;
  try {
    const st = await ctx.startClient(() => client.start());
    if (st.state === 'authorized') await client.logOut();
    else ok = false;
    if (forgetKeys) {
      const answers = await client.forgetKeys();
      ctx.io.out(`destroy_auth_key: ${[...answers].map(([dc, a]) => `DC${dc} ${a.replace('destroy_auth_key_', '')}`).join(', ') || 'no keys were stored'}\n`);
    }
  } catch (e) {
    ctx.note(`dclab logout: the server could not be told (${(e as Error).message}); forgetting the login locally`);
    ok = false;
  } finally {
    await client.stop();
  }
  await forget(ctx);
  ctx.io.out(
    ok ? `Logged out user ${String(snap.userId)} (home DC ${snap.homeDc ?? '?'}); login forgotten\n` : `Login of user ${String(snap.userId)} forgotten\n`,
  );
  return 0;
}
