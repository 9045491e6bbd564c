// Profiles (builders, test mode, addresses) and topology from help.getConfig's dc_options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateRsaKeyPair, TELEGRAM_PRODUCTION_KEYS, TELEGRAM_TEST_KEYS } from '../../src/crypto/rsa';
import { dcEndpoints, customProfile, dcAddress, handshakeDcId, productionProfile, profileFromSandboxInfo, testProfile } from '../../src/dc/profile';
import { dcIdsOf, endpointsOf, topologyFromConfig } from '../../src/dc/topology';
import { DcError } from '../../src/dc/errors';

const pair = generateRsaKeyPair();
const info = {
  dcs: [1, 2, 3, 4, 5].map((id) => ({ id, host: '127.0.0.1', port: 40000 + id, ipv6: { host: '::1', port: 41000 + id } })),
  rsa: { pem: pair.publicPem, fingerprint: pair.publicKey.fingerprint.toString() },
};

test('profileFromSandboxInfo: sandbox key, DC 2 first, sandbox api id, no test mode', () => {
  const p = profileFromSandboxInfo(info);
  assert.equal(p.name, 'sandbox');
  assert.equal(p.firstDc, 2);
  assert.equal(p.testMode, false);
  assert.equal(p.rsaKeys.length, 1);
  assert.equal(p.rsaKeys[0]!.fingerprint, pair.publicKey.fingerprint);
  assert.equal(p.transport, 'intermediate');
  assert.equal(handshakeDcId(p, 4), 4);
  assert.deepEqual(dcAddress(p, 4), { host: '127.0.0.1', port: 40004 });
  assert.deepEqual(dcAddress({ ...p, preferIpv6: true }, 4), { host: '::1', port: 41004 });
  assert.equal(profileFromSandboxInfo(info, { firstDc: 5, transport: 'abridged' }).firstDc, 5);
  assert.throws(() => profileFromSandboxInfo({ ...info, rsa: { pem: pair.publicPem, fingerprint: '123' } }), /fingerprint/);
  assert.throws(() => profileFromSandboxInfo(info, { firstDc: 9 }), /first DC 9/);
  assert.throws(
    () => dcAddress(p, 7),
    (e: unknown) => e instanceof DcError && e.code === 'UNKNOWN_DC' && /DC 7/.test(e.message),
  );
});

test('testProfile: Telegram test DCs, test RSA key, +10000 in the handshake', () => {
  const p = testProfile({ apiId: 17, apiHash: 'h' });
  assert.equal(p.name, 'test');
  assert.equal(p.testMode, true);
  assert.deepEqual(
    p.dcs.map((d) => d.id),
    [1, 2, 3],
  );
  assert.equal(p.dcs.find((d) => d.id === 2)!.host, '149.154.167.40');
  assert.equal(p.rsaKeys, TELEGRAM_TEST_KEYS);
  assert.equal(handshakeDcId(p, 2), 10002);
  assert.equal(p.apiId, 17);
  // towards Telegram the transport is obfuscated2 by default, as the official apps connect; the option stays
  assert.equal(p.obfuscated, true);
  assert.equal(dcEndpoints(p, 2)[0]!.obfuscated, true);
  assert.equal(productionProfile().obfuscated, true);
  assert.equal(testProfile({ obfuscated: false }).obfuscated, false);
  assert.equal(dcEndpoints(testProfile({ obfuscated: false }), 2)[0]!.obfuscated, false);
});

test('productionProfile and customProfile', () => {
  const p = productionProfile();
  assert.equal(p.testMode, false);
  assert.deepEqual(
    p.dcs.map((d) => d.id),
    [1, 2, 3, 4, 5],
  );
  assert.equal(p.rsaKeys, TELEGRAM_PRODUCTION_KEYS);
  assert.equal(handshakeDcId(p, 2), 2);
  const c = customProfile({ dcs: [{ id: 7, host: '10.0.0.7', port: 443 }], rsaPem: pair.publicPem, testMode: true });
  assert.equal(c.name, 'custom');
  assert.equal(c.firstDc, 7);
  assert.equal(handshakeDcId(c, 7), 10007);
  assert.throws(() => customProfile({ dcs: [{ id: 1, host: 'x', port: 1 }] }), /no RSA keys/);
});

test('topologyFromConfig: every dcOption flag, this_dc; main DCs; endpoints; the secret is not kept', () => {
  const t = topologyFromConfig({
    _: 'config',
    date: 1700000000,
    test_mode: true,
    this_dc: 2,
    dc_options: [
      { _: 'dcOption', id: 1, ip_address: '1.1.1.1', port: 443 },
      { _: 'dcOption', id: 1, ipv6: true, ip_address: '::1', port: 443 },
      { _: 'dcOption', id: 2, media_only: true, ip_address: '2.2.2.3', port: 443 },
      { _: 'dcOption', id: 2, ip_address: '2.2.2.2', port: 80, static: true, this_port_only: true },
      { _: 'dcOption', id: 3, ip_address: '3.3.3.3', port: 443, tcpo_only: true, secret: new Uint8Array(16) },
      { _: 'dcOption', id: 203, cdn: true, ip_address: '9.9.9.9', port: 443 },
      { _: 'dcOption', id: 6, media_only: true, ip_address: '6.6.6.6', port: 443 },
    ],
  });
  assert.equal(t.thisDc, 2);
  assert.equal(t.testMode, true);
  assert.equal(t.endpoints.length, 7);
  assert.deepEqual(dcIdsOf(t), [1, 2, 3]);
  const dc2 = endpointsOf(t, 2);
  assert.deepEqual(
    dc2.map((e) => e.host),
    ['2.2.2.2'],
  );
  assert.equal(dc2[0]!.static, true);
  assert.equal(dc2[0]!.thisPortOnly, true);
  assert.deepEqual(
    endpointsOf(t, 2, { media: true }).map((e) => [e.host, e.mediaOnly]),
    [
      ['2.2.2.2', false],
      ['2.2.2.3', true],
    ],
  );
  assert.deepEqual(
    endpointsOf(t, 1).map((e) => e.ipv6),
    [false, true],
  );
  const dc3 = endpointsOf(t, 3)[0]!;
  assert.equal(dc3.tcpoOnly, true);
  assert.equal(dc3.hasSecret, true);
  // the option's secret is a transport parameter every client gets (obfuscated2), kept to connect with
  assert.match(dc3.secret ?? '', /^[0-9a-f]+$/);
  assert.equal(t.endpoints.find((e) => e.id === 203)!.cdn, true);
  // topology addresses win over the profile's; an endpoint with a secret is obfuscated with it
  const p = profileFromSandboxInfo(info);
  assert.deepEqual(dcAddress(p, 2, t), { host: '2.2.2.2', port: 80 });
  const dc3eps = dcEndpoints(p, 3, t);
  assert.equal(dc3eps[0]!.obfuscated, true, 'tcpo_only / secret → obfuscated');
  assert.ok(dc3eps[0]!.secret && dc3eps[0]!.secret.length > 0);
  assert.deepEqual(dc3eps.at(-1), { host: '127.0.0.1', port: 40003, ipv6: false, obfuscated: false, source: 'profile' }, 'the profile address comes last');
  // IPv6 endpoints only when the profile prefers IPv6, and then first
  assert.deepEqual(
    dcEndpoints(p, 1, t).map((e) => e.ipv6),
    [false, false],
  );
  assert.equal(dcEndpoints({ ...p, preferIpv6: true }, 1, t)[0]!.ipv6, true);
  assert.deepEqual(dcAddress(p, 5, t), { host: '127.0.0.1', port: 40005 });
  assert.throws(() => topologyFromConfig({ _: 'nearestDc' }), /expected a config/);
});
