// GramJS (npm `telegram` 2.26.22, layer 198), unmodified, against the sandbox: auth-key creation with the sandbox's
// RSA key, PHONE_MIGRATE from DC 2 to the phone's home DC, sign-in (plain and SRP 2FA), users.getUsers(self).
// How GramJS is pointed at the sandbox: see helpers/gramjs.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startInteropSandbox, withTimeout, tails, explained, homeDcOf, codeOf, seededUser, type InteropSandbox } from './helpers/sandbox';
import { Api } from 'telegram';
import { makeGramjsClient, registerGramjsKey, gramjsStart, gramjsGetSelf, rpcErrorText, type GramjsHandle, type GramjsTransport } from './helpers/gramjs';
import { _serverKeys } from 'telegram/crypto/RSA';

let s: InteropSandbox;
before(async () => {
  s = await startInteropSandbox();
});
after(async () => {
  await s?.stop();
});

async function withClient<T>(transport: GramjsTransport, fn: (h: GramjsHandle, diag: () => string) => Promise<T>): Promise<T> {
  const h = makeGramjsClient(s, { transport });
  const diag = () => tails({ sandbox: s.log, [`gramjs/${transport}`]: h.logs });
  try {
    return await explained(() => fn(h, diag), diag);
  } finally {
    await h.destroy();
  }
}

/** Logs in starting on DC 2 and checks the migration, the sign-in and users.getUsers(self). */
async function loginThroughMigrate(transport: GramjsTransport, phone: string, password?: string) {
  const home = homeDcOf(phone);
  return withClient(transport, async (h, diag) => {
    const asked = await withTimeout(gramjsStart(h, phone, codeOf(phone), password), 25_000, `GramJS/${transport} start(${phone})`, diag);
    assert.deepEqual(
      h.authErrors.map((e) => rpcErrorText(e) ?? e.message),
      [],
      'GramJS reported auth errors',
    );
    assert.equal(asked.codeAsked, 1, 'the login code was asked once');
    assert.equal(asked.passwordAsked, password === undefined ? 0 : 1, 'the 2FA password was asked iff the account has one');

    // The migration: first connection on DC 2, GramJS told "Phone migrated to X", then connected to DC X.
    assert.equal(h.dials[0]?.dcId, 2, 'first connection goes to DC 2');
    assert.ok(
      h.logs.some((l) => l.includes(`Phone migrated to ${home}`)),
      `GramJS saw PHONE_MIGRATE_${home}`,
    );
    assert.equal(h.dials.at(-1)?.dcId, home, `last connection goes to DC ${home}`);
    assert.equal(h.session.dcId, home, `GramJS's session ends on DC ${home}`);
    // The address of DC X came from the sandbox's help.getConfig (GramJS takes the first non-IPv6 option).
    for (const d of h.dials) assert.equal(d.ip, '127.0.0.1', `DC ${d.dcId} address from help.getConfig`);

    const me = await gramjsGetSelf(h);
    const seeded = seededUser(s, phone);
    assert.equal(me.phone, phone);
    assert.equal(me.self, true, 'users.getUsers(inputUserSelf) returns the user with the self flag');
    assert.equal(me.id.toString(), seeded.id, 'the seeded user id (a long above 2^32)');
    assert.equal(me.firstName, seeded.firstName);
    assert.equal(seeded.homeDc, home);
    assert.ok(seeded.authDcs.includes(home), `the sandbox recorded an authorization on DC ${home}`);
    assert.ok(!seeded.authDcs.includes(2), 'no authorization on DC 2 (the sign-in happened after the migration)');
    const viaGetMe = await h.client.getMe();
    assert.equal(viaGetMe.id.toString(), me.id.toString());
    // Still on the home DC after the calls (no USER_MIGRATE bounce).
    assert.equal(h.session.dcId, home);
    return { id: me.id.toString(), firstName: me.firstName };
  });
}

test('the sandbox key is registered in GramJS under its signed decimal fingerprint', () => {
  const used = registerGramjsKey(s.sb);
  assert.equal(used, s.sb.info.rsa.fingerprint);
  const key = _serverKeys.get(s.sb.info.rsa.fingerprint);
  assert.ok(key, 'key present under info.rsa.fingerprint');
  assert.equal(key.n.toString(), s.sb.rsaKey.n.toString());
  assert.equal(key.e, Number(s.sb.rsaKey.e));
  assert.match(s.sb.info.rsa.fingerprint, /^-?\d+$/);
});

const ids: string[] = [];
for (const transport of ['full', 'abridged', 'obfuscated'] as const) {
  test(`GramJS/${transport}: 9996641234 logs in through PHONE_MIGRATE_4 and reads users.getUsers(self)`, { timeout: 60_000 }, async () => {
    const r = await loginThroughMigrate(transport, '9996641234');
    ids.push(r.id);
    assert.equal(new Set(ids).size, 1, 'the same seeded user whatever the transport');
  });
}

test('GramJS: 2FA number 9996639234 logs in through PHONE_MIGRATE_3 and the SRP check (password "sandbox")', { timeout: 60_000 }, async () => {
  const r = await loginThroughMigrate('full', '9996639234', 'sandbox');
  assert.notEqual(r.id, ids[0], 'a different user than 9996641234');
});

test('GramJS: a wrong 2FA password is refused with PASSWORD_HASH_INVALID', { timeout: 60_000 }, async () => {
  await withClient('full', async (h, diag) => {
    await assert.rejects(
      withTimeout(gramjsStart(h, '9996639234', '33333', 'not-the-password'), 25_000, 'GramJS start (wrong password)', diag),
      /AUTH_USER_CANCEL/,
    );
    assert.deepEqual(
      h.authErrors.map((e) => rpcErrorText(e) ?? e.message),
      ['PASSWORD_HASH_INVALID'],
    );
    assert.equal(h.session.dcId, 3, 'the sign-in happened on DC 3 after PHONE_MIGRATE_3');
  });
});

test('GramJS: a wrong login code is refused with PHONE_CODE_INVALID', { timeout: 60_000 }, async () => {
  await withClient('abridged', async (h, diag) => {
    await assert.rejects(withTimeout(gramjsStart(h, '9996641234', '12345'), 25_000, 'GramJS start (wrong code)', diag), /AUTH_USER_CANCEL/);
    assert.deepEqual(
      h.authErrors.map((e) => rpcErrorText(e) ?? e.message),
      ['PHONE_CODE_INVALID'],
    );
  });
});

test('GramJS: a borrowed DC 2 sender (auth.exportAuthorization on DC 5 → auth.importAuthorization on DC 2) reads users.getUsers(self)', {
  timeout: 60_000,
}, async () => {
  const phone = '9996651234';
  await withClient('full', async (h, diag) => {
    await withTimeout(gramjsStart(h, phone, codeOf(phone)), 25_000, `GramJS start(${phone})`, diag);
    assert.equal(h.session.dcId, 5);
    // client.invoke(request, dcId) goes through GramJS's exported-sender machinery: a new auth key on DC 2,
    // auth.exportAuthorization(dc_id 2) on DC 5, then initConnection(auth.importAuthorization) on DC 2.
    const users = await withTimeout(
      h.client.invoke(new Api.users.GetUsers({ id: [new Api.InputUserSelf()] }), 2),
      25_000,
      'users.getUsers(self) on DC 2 through an exported authorization',
      diag,
    );
    const u = users[0];
    assert.ok(u instanceof Api.User);
    assert.equal(u.phone, phone);
    assert.equal(u.id.toString(), seededUser(s, phone).id);
    assert.ok(
      h.logs.some((l) => l.includes('Exporting authorization for data center')),
      'GramJS exported its authorization',
    );
    assert.ok(
      h.dials.some((d) => d.dcId === 2 && h.dials.indexOf(d) > 0),
      'a second connection to DC 2 after the login',
    );
    assert.deepEqual(
      seededUser(s, phone).auths.filter((a) => a.dcId === 2),
      [{ dcId: 2, kind: 'imported' }],
      'the sandbox recorded an imported authorization on DC 2',
    );
    assert.equal(h.session.dcId, 5, 'the home DC stays 5');
    // Exporting to the DC the user is on is refused.
    await assert.rejects(h.client.invoke(new Api.auth.ExportAuthorization({ dcId: 5 })), (e: unknown) => {
      assert.equal(rpcErrorText(e), 'DC_ID_INVALID');
      return true;
    });
  });
});

test('GramJS: raw auth.importAuthorization on a fresh DC 1 client: tampered bytes → AUTH_BYTES_INVALID, real bytes → signed in', {
  timeout: 60_000,
}, async () => {
  const phone = '9996651234';
  await withClient('abridged', async (home, diag) => {
    await withTimeout(gramjsStart(home, phone, codeOf(phone)), 25_000, `GramJS start(${phone})`, diag);
    const exported = await home.client.invoke(new Api.auth.ExportAuthorization({ dcId: 1 }));
    assert.ok(exported.bytes.length > 0);
    const fresh = makeGramjsClient(s, { transport: 'full', startDc: 1 });
    const diag2 = () => `${diag()}\n${tails({ 'gramjs/fresh DC 1': fresh.logs })}`;
    try {
      await withTimeout(fresh.client.connect(), 15_000, 'fresh client connect to DC 1', diag2);
      // Not authorized yet on DC 1.
      await assert.rejects(fresh.client.invoke(new Api.users.GetUsers({ id: [new Api.InputUserSelf()] })), (e: unknown) => {
        assert.equal(rpcErrorText(e), 'AUTH_KEY_UNREGISTERED');
        return true;
      });
      const tampered = Buffer.from(exported.bytes);
      tampered[tampered.length - 1]! ^= 0x55;
      await assert.rejects(fresh.client.invoke(new Api.auth.ImportAuthorization({ id: exported.id, bytes: tampered })), (e: unknown) => {
        assert.equal(rpcErrorText(e), 'AUTH_BYTES_INVALID');
        return true;
      });
      const auth = await fresh.client.invoke(new Api.auth.ImportAuthorization({ id: exported.id, bytes: exported.bytes }));
      assert.ok(auth instanceof Api.auth.Authorization, `importAuthorization answered ${auth.className}`);
      assert.ok(auth.user instanceof Api.User);
      assert.equal(auth.user.phone, phone);
      const me = await gramjsGetSelf(fresh);
      assert.equal(me.id.toString(), seededUser(s, phone).id);
      assert.ok(seededUser(s, phone).auths.some((a) => a.dcId === 1 && a.kind === 'imported'));
    } finally {
      await fresh.destroy();
    }
  });
});

test('GramJS over IPv6: starts on [::1] DC 2, follows PHONE_MIGRATE_4 to the IPv6 dc_option of DC 4', { timeout: 60_000 }, async (t) => {
  if (!s.sb.info.dcs.every((d) => d.ipv6)) return t.skip('the sandbox has no IPv6 listeners here');
  const phone = '9996641234';
  const h = makeGramjsClient(s, { transport: 'full', ipv6: true });
  const diag = () => tails({ sandbox: s.log, 'gramjs/ipv6': h.logs });
  try {
    await explained(async () => {
      await withTimeout(gramjsStart(h, phone, codeOf(phone)), 25_000, 'GramJS IPv6 start', diag);
      assert.deepEqual(h.authErrors, []);
      assert.equal(h.session.dcId, 4);
      assert.ok(h.dials.length >= 2);
      for (const d of h.dials) assert.equal(d.ip, '::1', `DC ${d.dcId} dialled over IPv6 (address from help.getConfig)`);
      assert.equal(h.dials.at(-1)?.port, s.sb.info.dcs.find((d) => d.id === 4)!.ipv6!.port);
      const me = await gramjsGetSelf(h);
      assert.equal(me.id.toString(), seededUser(s, phone).id);
      assert.ok(
        s.log.some((l) => /^DC4: \S+ from \[?::1\]?:\d+/.test(l)),
        'the sandbox logged a DC 4 connection from ::1',
      );
    }, diag);
  } finally {
    await h.destroy();
  }
});

test('GramJS signs up a new number: NETWORK_MIGRATE_2 from DC 1, code read from the sandbox inbox, auth.signUp', { timeout: 60_000 }, async () => {
  const phone = '15550001234';
  assert.equal(s.sb.world.userByPhone(phone), undefined, 'not registered yet');
  const h = makeGramjsClient(s, { transport: 'abridged', startDc: 1 });
  const diag = () => tails({ sandbox: s.log, 'gramjs/signup': h.logs });
  try {
    await explained(async () => {
      await withTimeout(
        h.client.start({
          phoneNumber: async () => phone,
          phoneCode: async () => {
            const sent = s.sb.inbox().filter((e) => e.phone.replace(/\D/g, '') === phone);
            assert.equal(sent.length, 1, 'one code delivered to the inbox');
            assert.equal(sent[0]!.dcId, 2, 'delivered by DC 2 (the nearest DC)');
            return sent[0]!.code;
          },
          firstAndLastNames: async () => ['Grace', 'Hopper'],
          onError: async (err: Error) => {
            h.authErrors.push(err);
            return true;
          },
        }),
        25_000,
        'GramJS sign-up',
        diag,
      );
      assert.deepEqual(
        h.authErrors.map((e) => rpcErrorText(e) ?? e.message),
        [],
      );
      assert.ok(
        h.logs.some((l) => l.includes('Phone migrated to 2')),
        'GramJS handled NETWORK_MIGRATE_2 (it logs every *_MIGRATE as "Phone migrated")',
      );
      assert.equal(h.dials[0]?.dcId, 1);
      assert.equal(h.session.dcId, 2);
      const me = await gramjsGetSelf(h);
      assert.equal(me.phone, phone);
      assert.equal(me.firstName, 'Grace');
      assert.equal(me.lastName, 'Hopper');
      const u = s.sb.world.userByPhone(phone);
      assert.ok(u, 'the sandbox registered the user');
      assert.equal(u.homeDc, 2);
      assert.equal(me.id.toString(), u.id.toString());
    }, diag);
  } finally {
    await h.destroy();
  }
});
