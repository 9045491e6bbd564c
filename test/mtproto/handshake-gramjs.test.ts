// Interop: GramJS's own Authenticator (npm `telegram`, unmodified: old p_q_inner_data without dc, its own RSA_PAD,
// IGE and checks) creates a key with our ServerHandshake over real TCP (GramJS's TCPFull codec on our listenFrames).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Logger } from 'telegram';
import { LogLevel } from 'telegram/extensions/Logger';
import { PromisedNetSockets } from 'telegram/extensions';
import { ConnectionTCPFull } from 'telegram/network';
import { MTProtoPlainSender } from 'telegram/network/MTProtoPlainSender';
import { doAuthentication } from 'telegram/network/Authenticator';
import { _serverKeys } from 'telegram/crypto/RSA';
import { returnBigInt } from 'telegram/Helpers';
import { generateRsaKeyPair } from '../../src/crypto/rsa';
import { TELEGRAM_DH_PRIME } from '../../src/crypto/dh';
import { authKeyId } from '../../src/crypto/kdf';
import { listenFrames, type FrameListener } from '../../src/transport/tcp';
import { ServerHandshake, serveHandshakeOnly, type ServerHandshakeDone, type ServerHandshakeError } from '../../src/mtproto/handshake-server';

let listener: FrameListener | undefined;
after(async () => {
  await listener?.close();
});

test('GramJS (old p_q_inner_data) creates an auth key with our ServerHandshake', async () => {
  const rsa = generateRsaKeyPair();
  _serverKeys.set(BigInt.asIntN(64, rsa.publicKey.fingerprint).toString(), { n: returnBigInt(rsa.publicKey.n), e: Number(rsa.publicKey.e) });
  const done: ServerHandshakeDone[] = [];
  const errors: ServerHandshakeError[] = [];
  listener = await listenFrames({ host: '127.0.0.1', port: 0 }, (link) =>
    serveHandshakeOnly(link, () => new ServerHandshake({ dcId: 2, rsa: [rsa], dhPrime: TELEGRAM_DH_PRIME, g: 3 }), {
      onDone: (d) => done.push(d),
      onError: (e) => errors.push(e),
    }),
  );
  const logger = new Logger(LogLevel.NONE);
  const connection = new ConnectionTCPFull({
    ip: '127.0.0.1',
    port: listener.port,
    dcId: 2,
    loggers: logger,
    socket: PromisedNetSockets,
    testServers: false,
  });
  await connection.connect();
  try {
    const { authKey, timeOffset } = await doAuthentication(new MTProtoPlainSender(connection, logger), logger);
    assert.deepEqual(
      errors.map((e) => e.message),
      [],
    );
    assert.equal(done.length, 1);
    assert.equal(done[0]!.innerData, 'p_q_inner_data');
    const theirs = authKey.getKey()!;
    const ids = `GramJS authKeyId ${authKeyId(new Uint8Array(theirs))}, ours ${done[0]!.authKeyId}`;
    // GramJS drops leading zero bytes of g^ab (1 in 256 keys); compare as numbers.
    assert.equal(BigInt(`0x${theirs.toString('hex')}`), BigInt(`0x${Buffer.from(done[0]!.authKey).toString('hex')}`), ids);
    assert.ok(Math.abs(timeOffset) <= 1);
  } finally {
    await connection.disconnect();
  }
});
