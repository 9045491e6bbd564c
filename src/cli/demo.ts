/**
 * `dclab demo`: a scripted run of the lifecycle facade (createDcClient) on an embedded sandbox (ephemeral ports,
 * temporary data dir): a login with a number of another DC (PHONE_MIGRATE), a call on a third DC (transfer:
 * exportAuthorization / importAuthorization), a USER_MIGRATE triggered with sandbox.moveUser and its recovery, then
 * the trace timeline (formatTraceTimeline) and a status table. `--wire` adds the wire-level timeline; `--core` runs
 * the demo that follows the PHONE_MIGRATE by hand with the protocol core (runCoreDemo, below).
 */
import { startSandbox, type Sandbox } from '../sandbox';
import { openSession } from '../mtproto/client';
import { RpcError } from '../mtproto/errors';
import type { MtprotoSession } from '../mtproto/session';
import type { WireEvent } from '../mtproto/wire-event';
import type { TransportName } from '../transport/codec';
import type { TlObject } from '../tl/types';
import { srpProof } from '../crypto/srp';
import { formatTimeline, formatTraceTimeline, TraceStore } from '../trace';
import { profileFromSandboxInfo } from '../dc/profile';
import { createDcClient } from '../lifecycle';
import { progressLine, withoutMachineTransitions } from './events';
import { statusTable, type StatusDc } from './status';
import { UsageError } from './args';

const TRANSPORTS: TransportName[] = ['abridged', 'intermediate', 'padded', 'full'];
const SANDBOX_PASSWORD = 'sandbox';

function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

const DEMO_FLAGS = new Set(['--phone', '--transport', '--wire', '--core', '--details', '--machines']);

export async function runDemo(argv: string[], dataDir: string, out: (line: string) => void): Promise<number> {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!DEMO_FLAGS.has(a)) throw new UsageError(`unknown argument ${a}`, 'demo');
    if (a === '--phone' || a === '--transport') i++;
  }
  if (argv.includes('--core'))
    return runCoreDemo(
      argv.filter((a) => a !== '--core' && a !== '--wire'),
      dataDir,
      out,
    );
  const transport = (option(argv, '--transport') ?? 'intermediate') as TransportName;
  if (!TRANSPORTS.includes(transport)) throw new UsageError(`--transport needs one of ${TRANSPORTS.join(', ')}, got "${transport}"`, 'demo');
  const phone = option(argv, '--phone') ?? '9996641234';
  if (!/^99966[1-5]\d{4}$/.test(phone)) throw new UsageError(`--phone needs a sandbox test number 99966XYYYY (X = 1..5), got "${phone}"`, 'demo');
  const wireOn = argv.includes('--wire');
  const firstDc = 2;

  const sandbox = await startSandbox({ basePort: 0, dataDir, ipv6: false, log: () => {} });
  const trace = new TraceStore();
  const wire: WireEvent[] = [];
  const client = createDcClient({
    profile: profileFromSandboxInfo(sandbox.info, { transport, firstDc }),
    trace,
    onEvent: (e) => {
      const line = progressLine(e);
      if (line) out(line);
    },
    ...(wireOn ? { onWire: (e: WireEvent) => void wire.push(e) } : {}),
  });
  try {
    out(`Embedded sandbox: ${sandbox.info.dcs.map((d) => `DC${d.id}=${d.host}:${d.port}`).join('  ')}`);
    out(`Sandbox RSA key fingerprint ${sandbox.info.rsa.fingerprint}; transport ${transport}`);

    const phoneDc = Number(phone[5]);
    out(`\n1. Start at DC${firstDc} (connect, auth key, help.getConfig)`);
    await client.start();
    out(`\n2. Log in +${phone}: the number lives on DC${phoneDc}, so DC${firstDc} answers PHONE_MIGRATE_${phoneDc}`);
    const started = Date.now();
    const user = await client.login({
      phone,
      code: async () => {
        const got = sandbox.inbox().filter((m) => m.phone === phone && m.time >= started - 1000);
        const last = got[got.length - 1];
        if (!last) throw new Error(`the sandbox delivered no login code for ${phone}`);
        out('  code read from the sandbox inbox (not printed)');
        return last.code;
      },
      password: async () => SANDBOX_PASSWORD,
      signUp: async () => ({ firstName: 'Demo', lastName: 'User' }),
    });
    let home = client.status().homeDc;
    out(`  → authorized as user ${String(user.id)} (${[user.first_name, user.last_name].filter(Boolean).join(' ')}), home DC ${home}`);

    const third = [1, 2, 3, 4, 5].find((d) => d !== home && d !== firstDc)!;
    out(`\n3. users.getUsers(self) on DC${third}: not authorized there yet → transfer (export at DC${home}, import at DC${third})`);
    const [onThird] = await client.call<TlObject[]>({ _: 'users.getUsers', id: [{ _: 'inputUserSelf' }] }, { dcId: third });
    out(`  → DC${third} answers user ${String(onThird?.id)}`);

    const moveTo = [5, 4, 3, 1, 2].find((d) => d !== home && d !== third && d !== firstDc)!;
    out(`\n4. The sandbox moves the user's data to DC${moveTo} (sandbox.moveUser); the next call on DC${home} answers USER_MIGRATE_${moveTo}`);
    sandbox.moveUser(phone, moveTo);
    const [self] = await client.call<TlObject[]>({ _: 'users.getUsers', id: [{ _: 'inputUserSelf' }] });
    home = client.status().homeDc;
    out(`  → recovered: the authorization followed the user, home DC is now ${home}; users.getUsers answers user ${String(self?.id)}`);

    const events = argv.includes('--machines') ? trace.events() : withoutMachineTransitions(trace.events());
    out('\nTrace timeline (one line per chain; the XState transitions are hidden, --machines shows them):');
    out(formatTraceTimeline(events, { details: argv.includes('--details') }));
    const st = client.status();
    const dcs: StatusDc[] = [];
    for (const d of st.dcs.filter((x) => x.hasKey || x.authorized)) {
      let latencyMs = d.latencyMs;
      if (d.connected) latencyMs = await client.ping(d.dcId).catch(() => d.latencyMs);
      dcs.push({
        dcId: d.dcId,
        home: d.dcId === st.homeDc,
        key: d.hasKey,
        authorized: d.authorized,
        connected: d.connected,
        ...(latencyMs !== undefined ? { latencyMs: Math.round(latencyMs * 10) / 10 } : {}),
      });
    }

    out(`\nStatus: user ${st.userId ?? '-'}, home DC ${st.homeDc}, authorized on DC ${st.authorizedDcs.join(', ')}`);
    out(statusTable(dcs));
    if (wireOn) {
      out('\nWire-level trace:');
      out(formatTimeline(wire));
    }
    return 0;
  } finally {
    await client.stop();
    await sandbox.stop();
  }
}

/** The core demo: PHONE_MIGRATE and the transfer followed by hand with the protocol core. */
export async function runCoreDemo(argv: string[], dataDir: string, out: (line: string) => void): Promise<number> {
  const transport = (option(argv, '--transport') ?? 'intermediate') as TransportName;
  if (!TRANSPORTS.includes(transport)) throw new UsageError(`--transport needs one of ${TRANSPORTS.join(', ')}, got "${transport}"`, 'demo');
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
