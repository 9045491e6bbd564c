/**
 * The issue-2 demo: an embedded sandbox, a login that starts on DC 2 and is redirected (PHONE_MIGRATE) to the
 * phone's DC, a new auth key there, the code read from the sandbox inbox, then an authorization transfer to a third
 * DC. Redirects are followed by hand with the protocol core; the XState lifecycle of issue 3 takes this over.
 */
import { startSandbox, type Sandbox } from './sandbox';
import { openSession } from './mtproto/client';
import { RpcError } from './mtproto/errors';
import type { MtprotoSession } from './mtproto/session';
import type { WireEvent } from './mtproto/wire-event';
import type { TransportName } from './transport/codec';
import type { TlObject } from './tl/types';
import { srpProof } from './crypto/srp';
import { formatTimeline } from './trace/timeline';

const TRANSPORTS: TransportName[] = ['abridged', 'intermediate', 'padded', 'full'];
const SANDBOX_PASSWORD = 'sandbox';

function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

export async function runDemo(argv: string[], dataDir: string, out: (line: string) => void): Promise<number> {
  const transport = (option(argv, '--transport') ?? 'intermediate') as TransportName;
  if (!TRANSPORTS.includes(transport)) throw new Error(`--transport must be one of ${TRANSPORTS.join(', ')}, got "${transport}"`);
  const phone = option(argv, '--phone') ?? '9996641234';
  const firstDc = 2;

  const sandbox = await startSandbox({ basePort: 0, dataDir, log: () => {} });
  const events: WireEvent[] = [];
  const sessions: MtprotoSession[] = [];
  try {
    out(`Sandbox up: ${sandbox.info.dcs.map((d) => `DC${d.id}=${d.host}:${d.port}`).join('  ')}`);
    out(`Sandbox RSA key fingerprint ${sandbox.info.rsa.fingerprint}`);
    const connect = async (dcId: number): Promise<MtprotoSession> => {
      const dc = sandbox.info.dcs.find((d) => d.id === dcId);
      if (!dc) throw new Error(`DC ${dcId} is not in the sandbox's DC list`);
      const { session, created } = await openSession({
        host: dc.host,
        port: dc.port,
        dcId,
        transport,
        rsaKeys: [sandbox.rsaKey],
        onWire: (e) => events.push(e),
      });
      sessions.push(session);
      out(`Connected to DC ${dcId} over ${transport}${created ? ', new auth key created' : ''}`);
      return session;
    };

    let home = firstDc;
    let session = await connect(home);
    const config = (await session.invoke({ _: 'help.getConfig' })) as TlObject;
    const options = (config.dc_options as TlObject[]) ?? [];
    out(`help.getConfig: this_dc=${String(config.this_dc)}, ${options.length} dc_options:`);
    for (const o of options) {
      const flags = ['ipv6', 'media_only', 'cdn', 'static', 'tcpo_only', 'this_port_only'].filter((f) => o[f] === true);
      out(`  DC${String(o.id)} ${String(o.ip_address)}:${String(o.port)}${flags.length ? ` [${flags.join(', ')}]` : ''}`);
    }

    const sendCode = (s: MtprotoSession) =>
      s.invoke({ _: 'auth.sendCode', phone_number: phone, api_id: 1, api_hash: 'sandbox', settings: { _: 'codeSettings' } });
    let sent: TlObject;
    try {
      sent = (await sendCode(session)) as TlObject;
    } catch (err) {
      if (!(err instanceof RpcError) || (err.kind !== 'PHONE_MIGRATE' && err.kind !== 'NETWORK_MIGRATE') || !err.value) throw err;
      out(`auth.sendCode on DC ${home} → ${err.errorMessage}: the phone lives on DC ${err.value}; new connection, new key there`);
      home = err.value;
      session = await connect(home);
      sent = (await sendCode(session)) as TlObject;
    }
    out(`auth.sendCode on DC ${home} → ${sent._}`);

    const code = codeFromInbox(sandbox, phone);
    out('Login code read from the sandbox inbox (not printed)');
    let authorization: TlObject;
    try {
      authorization = (await session.invoke({
        _: 'auth.signIn',
        phone_number: phone,
        phone_code_hash: sent.phone_code_hash,
        phone_code: code,
      })) as TlObject;
    } catch (err) {
      if (!(err instanceof RpcError) || err.errorMessage !== 'SESSION_PASSWORD_NEEDED') throw err;
      out('auth.signIn → SESSION_PASSWORD_NEEDED: 2FA, answering with an SRP proof');
      authorization = await checkPassword(session, SANDBOX_PASSWORD);
    }
    if (authorization._ === 'auth.authorizationSignUpRequired') {
      out('auth.signIn → auth.authorizationSignUpRequired: signing up');
      authorization = (await session.invoke({
        _: 'auth.signUp',
        phone_number: phone,
        phone_code_hash: sent.phone_code_hash,
        first_name: 'Demo',
        last_name: 'User',
      })) as TlObject;
    }
    const user = authorization.user as TlObject;
    out(`Authorized on DC ${home} as user ${String(user.id)} (${[user.first_name, user.last_name].filter(Boolean).join(' ')})`);

    const target = [1, 2, 3, 4, 5].find((d) => d !== home && d !== firstDc)!;
    const exported = (await session.invoke({ _: 'auth.exportAuthorization', dc_id: target })) as TlObject;
    out(`auth.exportAuthorization(dc_id=${target}) on DC ${home} → id ${String(exported.id)} (bytes not printed)`);
    const targetSession = await connect(target);
    await targetSession.invoke({ _: 'auth.importAuthorization', id: exported.id, bytes: exported.bytes });
    const [self] = (await targetSession.invoke({ _: 'users.getUsers', id: [{ _: 'inputUserSelf' }] })) as TlObject[];
    out(`auth.importAuthorization on DC ${target} → users.getUsers(self) there answers user ${String(self?.id)}`);

    out('\nWire-level trace:');
    out(formatTimeline(events));
    return 0;
  } finally {
    for (const s of sessions) s.close();
    await sandbox.stop();
  }
}

function codeFromInbox(sandbox: Sandbox, phone: string): string {
  const delivered = sandbox.inbox().filter((m) => m.phone === phone);
  const last = delivered[delivered.length - 1];
  if (!last) throw new Error(`the sandbox delivered no login code for ${phone}`);
  return last.code;
}

async function checkPassword(session: MtprotoSession, password: string): Promise<TlObject> {
  const info = (await session.invoke({ _: 'account.getPassword' })) as TlObject;
  const algo = info.current_algo as TlObject;
  const proof = srpProof({
    password,
    salt1: algo.salt1 as Uint8Array,
    salt2: algo.salt2 as Uint8Array,
    g: algo.g as number,
    p: algo.p as Uint8Array,
    srpB: info.srp_B as Uint8Array,
    srpId: info.srp_id as bigint,
  });
  return (await session.invoke({
    _: 'auth.checkPassword',
    password: { _: 'inputCheckPasswordSRP', srp_id: info.srp_id, A: proof.A, M1: proof.M1 },
  })) as TlObject;
}
