// mtcute (@mtcute/node 0.30.3, layer 227), unmodified, against the sandbox: auth-key creation with the sandbox's
// RSA key (p_q_inner_data_dc), PHONE_MIGRATE from DC 2 to the phone's home DC with the address AND port taken from
// the sandbox's help.getConfig, sign-in (plain and SRP 2FA), users.getUsers(self).
// How mtcute is pointed at the sandbox: see helpers/mtcute.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { startInteropSandbox, withTimeout, tails, explained, homeDcOf, codeOf, seededUser, type InteropSandbox } from './helpers/sandbox';
import {
  makeMtcuteClient,
  mtcuteStart,
  mtcuteGetSelfRaw,
  mtcutePrimaryDc,
  registerMtcuteKey,
  mtcuteFingerprintHex,
  type MtcuteHandle,
  type MtcuteTransport,
} from './helpers/mtcute';

let s: InteropSandbox;
before(async () => {
  s = await startInteropSandbox();
});
after(async () => {
  await s?.stop();
});

async function withClient<T>(transport: MtcuteTransport, fn: (h: MtcuteHandle, diag: () => string) => Promise<T>): Promise<T> {
  const h = await makeMtcuteClient(s, { transport });
  const diag = () => tails({ sandbox: s.log, [`mtcute/${transport}`]: h.logs });
  try {
    return await explained(() => fn(h, diag), diag);
  } finally {
    await h.destroy();
  }
}

async function loginThroughMigrate(transport: MtcuteTransport, phone: string, password?: string) {
  const home = homeDcOf(phone);
  return withClient(transport, async (h, diag) => {
    const user = await withTimeout(mtcuteStart(h, phone, codeOf(phone), password), 25_000, `mtcute/${transport} start(${phone})`, diag);
    assert.equal(user.isSelf, true);
    assert.equal(user.phoneNumber, phone);
    assert.equal(h.sentCodeTypes.length, 1, 'auth.sentCode received once (after the migration)');

    // The migration, as mtcute saw it.
    assert.deepEqual(h.dials[0], { dcId: 2, ip: '127.0.0.1', port: s.portOf(2), mediaOnly: false }, 'first dial: defaultDcs = DC 2');
    assert.ok(
      h.logs.some((l) => l.includes(`received PHONE_MIGRATE_${home}, migrating to dc ${home}`)),
      `mtcute saw PHONE_MIGRATE_${home}`,
    );
    const homeDials = h.dials.filter((d) => d.dcId === home);
    assert.ok(homeDials.length > 0, `mtcute dialled DC ${home}`);
    // mtcute uses help.getConfig's dc_options as they are, ports included: they must be the sandbox's listeners.
    for (const d of homeDials) assert.deepEqual(d, { dcId: home, ip: '127.0.0.1', port: s.portOf(home), mediaOnly: false });
    const primary = await mtcutePrimaryDc(h);
    assert.equal(primary.id, home, `mtcute's primary DC is ${home}`);
    assert.equal(primary.port, s.portOf(home));

    const raw = await mtcuteGetSelfRaw(h);
    assert.equal(raw._, 'user');
    assert.equal(raw.self, true, 'users.getUsers(inputUserSelf) returns the user with the self flag');
    assert.equal(raw.phone, phone);
    assert.equal(raw.id, user.id);
    const seeded = seededUser(s, phone);
    assert.equal(String(raw.id), seeded.id, 'the seeded user id (above 2^32, int53 in mtcute)');
    assert.equal(raw.firstName, seeded.firstName);
    assert.equal(seeded.homeDc, home);
    assert.ok(seeded.authDcs.includes(home), `the sandbox recorded an authorization on DC ${home}`);
    assert.ok(!seeded.authDcs.includes(2), 'no authorization on DC 2 (the sign-in happened after the migration)');
    const me = await h.tg.getMe();
    assert.equal(me.id, raw.id);
    assert.equal((await mtcutePrimaryDc(h)).id, home, 'still on the home DC after the calls');
    return { id: String(raw.id), firstName: raw.firstName ?? '' };
  });
}

test('mtcute computes the same fingerprint from the sandbox PEM as the sandbox announces', async () => {
  const fromPem = await registerMtcuteKey(s);
  assert.equal(fromPem, mtcuteFingerprintHex(s.sb.info.rsa.fingerprint));
  assert.equal(BigInt.asIntN(64, s.sb.rsaKey.fingerprint).toString(), s.sb.info.rsa.fingerprint);
  const jwk = createPublicKey(s.sb.info.rsa.pem).export({ format: 'jwk' });
  assert.equal(BigInt(`0x${Buffer.from(jwk.n!, 'base64url').toString('hex')}`), s.sb.rsaKey.n, 'PEM modulus = rsaKey.n');
  assert.equal(BigInt(`0x${Buffer.from(jwk.e!, 'base64url').toString('hex')}`), s.sb.rsaKey.e, 'PEM exponent = rsaKey.e');
});

const ids: string[] = [];
for (const transport of ['intermediate', 'padded', 'obfuscated'] as const) {
  test(`mtcute/${transport}: 9996641234 logs in through PHONE_MIGRATE_4 and reads users.getUsers(self)`, { timeout: 60_000 }, async () => {
    const r = await loginThroughMigrate(transport, '9996641234');
    ids.push(r.id);
    assert.equal(new Set(ids).size, 1, 'the same seeded user whatever the transport');
  });
}

test('mtcute: 2FA number 9996659234 logs in through PHONE_MIGRATE_5 and the SRP check (password "sandbox")', { timeout: 60_000 }, async () => {
  const r = await loginThroughMigrate('intermediate', '9996659234', 'sandbox');
  assert.notEqual(r.id, ids[0]);
});

test('mtcute: a wrong 2FA password is refused with PASSWORD_HASH_INVALID', { timeout: 60_000 }, async () => {
  await withClient('intermediate', async (h, diag) => {
    await assert.rejects(
      withTimeout(mtcuteStart(h, '9996639234', '33333', 'not-the-password'), 25_000, 'mtcute start (wrong password)', diag),
      (e: unknown) => {
        // mtcute calls invalidCodeCallback('password') for PASSWORD_HASH_INVALID; ours throws.
        assert.match(String(e), /the sandbox rejected the password/);
        return true;
      },
    );
  });
});

test('mtcute: calls routed to DC 2 and DC 3 with { dcId } go through auth.exportAuthorization / auth.importAuthorization', { timeout: 60_000 }, async () => {
  const phone = '9996611234';
  await withClient('intermediate', async (h, diag) => {
    await withTimeout(mtcuteStart(h, phone, codeOf(phone)), 25_000, `mtcute start(${phone})`, diag);
    assert.equal((await mtcutePrimaryDc(h)).id, 1, 'PHONE_MIGRATE_1 from DC 2');
    const seededId = seededUser(s, phone).id;
    // DC 2 still has mtcute's pre-migration key (unauthorized: AUTH_KEY_UNREGISTERED, then export/import);
    // DC 3 is new (key creation, then export/import before the call).
    for (const dcId of [2, 3]) {
      const res = await withTimeout(
        h.tg.call({ _: 'users.getUsers', id: [{ _: 'inputUserSelf' }] }, { dcId }),
        25_000,
        `users.getUsers(self) on DC ${dcId}`,
        diag,
      );
      const u = res[0];
      assert.ok(u && u._ === 'user', `DC ${dcId} answered a user`);
      assert.equal(String(u.id), seededId);
      assert.equal(u.phone, phone);
      assert.ok(
        h.logs.some((l) => l.includes(`exporting auth to dc ${dcId}`)),
        `mtcute exported its authorization to DC ${dcId}`,
      );
      assert.ok(
        h.dials.some((d) => d.dcId === dcId && d.port === s.portOf(dcId)),
        `mtcute dialled DC ${dcId} at the port from help.getConfig`,
      );
    }
    const auths = seededUser(s, phone).auths;
    assert.ok(auths.some((a) => a.dcId === 1 && a.kind === 'login'));
    assert.ok(auths.some((a) => a.dcId === 2 && a.kind === 'imported'));
    assert.ok(auths.some((a) => a.dcId === 3 && a.kind === 'imported'));
    assert.equal((await mtcutePrimaryDc(h)).id, 1, 'the primary DC stays 1');
  });
});

test('mtcute over IPv6: PHONE_MIGRATE_4 is followed to the IPv6 dc_option of DC 4 (useIpv6)', { timeout: 60_000 }, async (t) => {
  if (!s.sb.info.dcs.every((d) => d.ipv6)) return t.skip('the sandbox has no IPv6 listeners here');
  const phone = '9996641234';
  const h = await makeMtcuteClient(s, { ipv6: true });
  const diag = () => tails({ sandbox: s.log, 'mtcute/ipv6': h.logs });
  try {
    await explained(async () => {
      await withTimeout(mtcuteStart(h, phone, codeOf(phone)), 25_000, 'mtcute IPv6 start', diag);
      const v6 = s.sb.info.dcs.find((d) => d.id === 4)!.ipv6!;
      const dc4 = h.dials.filter((d) => d.dcId === 4);
      assert.ok(dc4.length > 0);
      for (const d of dc4) assert.deepEqual(d, { dcId: 4, ip: v6.host, port: v6.port, mediaOnly: false });
      const raw = await mtcuteGetSelfRaw(h);
      assert.equal(String(raw.id), seededUser(s, phone).id);
    }, diag);
  } finally {
    await h.destroy();
  }
});

test('mtcute: a registered non-test number on DC 2 asked on DC 3 (PHONE_MIGRATE_2), code read from the sandbox inbox', { timeout: 60_000 }, async () => {
  const phone = '15550005678';
  s.sb.registerUser(phone, 'Ada', 'Lovelace');
  const h = await makeMtcuteClient(s, { startDc: 3 });
  const diag = () => tails({ sandbox: s.log, 'mtcute/registered': h.logs });
  try {
    await explained(async () => {
      const user = await withTimeout(
        h.tg.start({
          phone,
          code: async () => {
            const sent = s.sb.inbox().filter((e) => e.phone.replace(/\D/g, '') === phone);
            assert.equal(sent.length, 1, 'one code delivered to the inbox');
            return sent[0]!.code;
          },
          codeSentCallback: async () => {},
          invalidCodeCallback: async (kind) => {
            throw new Error(`the sandbox rejected the ${kind}`);
          },
        }),
        25_000,
        'mtcute start (registered number)',
        diag,
      );
      assert.equal(user.phoneNumber, phone);
      assert.equal(user.firstName, 'Ada');
      assert.equal(user.lastName, 'Lovelace');
      assert.equal(h.dials[0]?.dcId, 3);
      assert.ok(h.logs.some((l) => l.includes('received PHONE_MIGRATE_2, migrating to dc 2')));
      assert.equal((await mtcutePrimaryDc(h)).id, 2);
      assert.equal(String(user.id), s.sb.world.userByPhone(phone)!.id.toString());
    }, diag);
  } finally {
    await h.destroy();
  }
});

test('mtcute: auth.logOut ends the authorization (AUTH_KEY_UNREGISTERED afterwards)', { timeout: 60_000 }, async () => {
  const phone = '9996621234';
  await withClient('intermediate', async (h, diag) => {
    await withTimeout(mtcuteStart(h, phone, codeOf(phone)), 25_000, `mtcute start(${phone})`, diag);
    // Home DC 2: no migration for this one.
    assert.ok(!h.logs.some((l) => l.includes('_MIGRATE_')));
    assert.ok(seededUser(s, phone).authDcs.includes(2));
    const res = await h.tg.call({ _: 'auth.logOut' });
    assert.equal(res._, 'auth.loggedOut');
    assert.ok(!seededUser(s, phone).authDcs.includes(2), 'the sandbox dropped the authorization');
    await assert.rejects(h.tg.call({ _: 'users.getUsers', id: [{ _: 'inputUserSelf' }] }), (e: unknown) => {
      assert.match(String(e), /AUTH_KEY_UNREGISTERED/);
      return true;
    });
  });
});

test('mtcute: destroy_session for its pre-reconnect session on the same auth key answers destroy_session_ok', { timeout: 60_000 }, async () => {
  // With disableUpdates, mtcute resets its sessions right after auth.signIn: it drops the TCP connection, opens a
  // new one with a new session_id on the same auth key, and sends destroy_session(old session_id). Sessions belong
  // to the auth key, not to a TCP connection (core.telegram.org/mtproto/description#session), so the server knows
  // the old session and must answer destroy_session_ok; destroy_session_none means it forgot it with the socket.
  const phone = '9996631234';
  await withClient('intermediate', async (h, diag) => {
    await withTimeout(mtcuteStart(h, phone, codeOf(phone)), 25_000, `mtcute start(${phone})`, diag);
    await mtcuteGetSelfRaw(h);
    const answered = () => h.logs.filter((l) => /received mt_destroy_session_(ok|none) \(msg_id: /.test(l));
    for (let i = 0; i < 40 && answered().length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    const lines = answered();
    assert.ok(lines.length > 0, 'mtcute sent destroy_session and got an answer');
    assert.deepEqual(
      lines.map((l) => (l.includes('destroy_session_ok') ? 'destroy_session_ok' : 'destroy_session_none')),
      lines.map(() => 'destroy_session_ok'),
      'the sandbox forgot the session when its TCP connection closed',
    );
  });
});
