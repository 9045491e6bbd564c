// Worker thread of DecryptPool: decrypts and checks one MTProto message at a time, in place in the transferred
// packet, and sends the buffer back (transferred again, so a 1 MiB part is never copied between threads).
import { parentPort } from 'node:worker_threads';
import { decryptMessage, MessageCheckError } from './message-crypto';
import type { DecryptJob, DecryptReply } from './decrypt-pool';

const port = parentPort;
if (port) {
  port.on('message', (job: DecryptJob) => {
    let reply: DecryptReply;
    const transfer: ArrayBuffer[] = [];
    try {
      const m = decryptMessage(job.authKey, job.packet, job.x, { inPlace: true });
      reply = {
        id: job.id,
        ok: true,
        salt: m.salt,
        sessionId: m.sessionId,
        msgId: m.msgId,
        seqno: m.seqno,
        buffer: m.body.buffer as ArrayBuffer,
        bodyOffset: m.body.byteOffset,
        bodyLength: m.body.length,
      };
      transfer.push(m.body.buffer as ArrayBuffer);
    } catch (e) {
      reply =
        e instanceof MessageCheckError
          ? { id: job.id, ok: false, check: e.check, ...(e.detail !== undefined ? { detail: e.detail } : {}) }
          : { id: job.id, ok: false, error: e instanceof Error ? e.message : String(e) };
    }
    port.postMessage(reply, transfer);
  });
}
