// The soak's clients: ours (createDcClient, src/files), GramJS and mtcute (unmodified, set up as in
// test/interop/helpers), each logged in with its own 99966XYYYY number and able to run the soak's operations:
// users.getUsers(self), help.getNearestDc, messages.sendMessage to Saved Messages, a download of a small seeded file
// by its dc_id (checked by SHA-256) and an upload of a few KiB (left unfinished: the sandbox expires it).
import { createHash } from 'node:crypto';
import { CustomFile } from 'telegram/client/uploads';
import { createDcClient, type DcClient } from '../../src/lifecycle/client';
import { profileFromSandboxInfo } from '../../src/dc/profile';
import { downloadBytes, uploadFile } from '../../src/files';
import { locationFromJson } from '../../src/files/media';
import type { Sandbox } from '../../src/sandbox';
import type { TransportName } from '../../src/transport/codec';
import { Api, makeGramjsClient, gramjsStart, type GramjsHandle, type GramjsTransport } from '../../test/interop/helpers/gramjs';
import { makeMtcuteClient, mtcute, mtcuteStart, type MtcuteHandle, type MtcuteTransport } from '../../test/interop/helpers/mtcute';
import type { InteropSandbox } from '../../test/interop/helpers/sandbox';
import { bytesOf, intIn, longOf, type Rng } from './prng';
import type { SandboxProc } from './sandbox-proc';
import type { SandboxFileInfo } from '../../src/sandbox/files';

export type ClientKind = 'ours' | 'gramjs' | 'mtcute';
export const CLIENT_KINDS: ClientKind[] = ['ours', 'gramjs', 'mtcute'];
export type OpName = 'getUsers' | 'getNearestDc' | 'sendMessage' | 'download' | 'upload';

export interface SoakClient {
  readonly kind: ClientKind;
  readonly phone: string;
  readonly transport: string;
  login(): Promise<void>;
  run(op: OpName, rng: Rng): Promise<void>;
  /** Drops the library's in-memory log lines (the interop helpers keep every line). */
  trimLogs(): void;
  close(): Promise<void>;
}

/** The seeded file every client downloads: small, on DC 1 (a transfer for every client not living there). */
export const DOWNLOAD_KEY = 'small-dc1';
/** Its message id in Saved Messages (GramJS and mtcute find it the way a user would). */
const DOWNLOAD_MESSAGE_ID = 1;

/** 99966XYYYY: X = home DC (1..5), YYYY from 2000 on (not the seeded 1234, not the 2FA 9YYY numbers). */
export function soakPhone(index: number): { phone: string; code: string; dc: number } {
  const dc = 1 + (index % 5);
  const yyyy = 2000 + Math.floor(index / 5);
  if (yyyy > 8999) throw new RangeError(`too many clients: index ${index}`);
  return { phone: `99966${dc}${yyyy}`, code: String(dc).repeat(5), dc };
}

/** What the interop helpers read of an in-process Sandbox, from the child's info (ports, RSA key). */
function interopView(proc: SandboxProc): InteropSandbox {
  const ports = new Map(proc.info.dcs.map((d) => [d.id, d.port] as [number, number]));
  return {
    // the helpers only read `info` and `rsaKey` of the sandbox
    sb: proc.view as unknown as Sandbox,
    log: [],
    ports,
    portOf: (dc) => {
      const p = ports.get(dc);
      if (p === undefined) throw new Error(`no DC ${dc}`);
      return p;
    },
    stop: async () => undefined,
  };
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function checkDownload(kind: string, got: Uint8Array, want: SandboxFileInfo): void {
  if (got.length !== want.size || sha256(got) !== want.sha256) {
    throw new Error(`${kind}: download of ${want.key} differs (${got.length} bytes, sha256 ${sha256(got).slice(0, 16)}…)`);
  }
}

function uploadData(rng: Rng): Uint8Array {
  return bytesOf(rng, intIn(rng, 2, 24) * 1024);
}

class OursClient implements SoakClient {
  readonly kind = 'ours' as const;
  private client: DcClient | undefined;
  constructor(
    private readonly proc: SandboxProc,
    readonly phone: string,
    private readonly code: string,
    readonly transport: TransportName,
    private readonly file: SandboxFileInfo,
  ) {}

  async login(): Promise<void> {
    this.client = createDcClient({ profile: profileFromSandboxInfo(this.proc.info, { firstDc: 2, transport: this.transport }) });
    await this.client.start();
    await this.client.login({ phone: this.phone, code: async () => this.code });
  }

  async run(op: OpName, rng: Rng): Promise<void> {
    const c = this.client!;
    switch (op) {
      case 'getUsers': {
        const users = await c.call<unknown[]>({ _: 'users.getUsers', id: [{ _: 'inputUserSelf' }] });
        if (!Array.isArray(users) || users.length !== 1) throw new Error('users.getUsers(self): not one user');
        return;
      }
      case 'getNearestDc':
        await c.call({ _: 'help.getNearestDc' });
        return;
      case 'sendMessage':
        await c.call({ _: 'messages.sendMessage', peer: { _: 'inputPeerSelf' }, message: `soak ${this.phone}`, random_id: longOf(rng) });
        return;
      case 'download': {
        const f = this.file;
        const got = await downloadBytes(c, { location: locationFromJson(f.location), dcId: f.dcId, size: f.size });
        checkDownload(this.kind, got, f);
        return;
      }
      case 'upload':
        await uploadFile(c, { data: uploadData(rng), name: 'soak.bin' });
        return;
    }
  }

  trimLogs(): void {}

  async close(): Promise<void> {
    await this.client?.stop();
  }
}

function trim(lines: string[]): void {
  if (lines.length > 200) lines.splice(0, lines.length - 200);
}

class GramjsClient implements SoakClient {
  readonly kind = 'gramjs' as const;
  private h: GramjsHandle | undefined;
  private media: Api.Message | undefined;
  constructor(
    private readonly view: InteropSandbox,
    readonly phone: string,
    private readonly code: string,
    readonly transport: GramjsTransport,
    private readonly file: SandboxFileInfo,
  ) {}

  async login(): Promise<void> {
    this.h = makeGramjsClient(this.view, { transport: this.transport });
    await gramjsStart(this.h, this.phone, this.code);
    if (this.h.authErrors.length) throw this.h.authErrors[0]!;
  }

  private get api() {
    return this.h!.client;
  }

  async run(op: OpName, rng: Rng): Promise<void> {
    switch (op) {
      case 'getUsers': {
        const users = await this.api.invoke(new Api.users.GetUsers({ id: [new Api.InputUserSelf()] }));
        if (users.length !== 1) throw new Error('users.getUsers(self): not one user');
        return;
      }
      case 'getNearestDc':
        await this.api.invoke(new Api.help.GetNearestDc());
        return;
      case 'sendMessage':
        await this.api.sendMessage('me', { message: `soak ${this.phone}` });
        return;
      case 'download': {
        if (!this.media) {
          // the history below the next id (the sandbox has no messages.getMessages)
          const [m] = await this.api.getMessages('me', { offsetId: DOWNLOAD_MESSAGE_ID + 1, limit: 1 });
          if (m?.id !== DOWNLOAD_MESSAGE_ID || !m.media) throw new Error(`gramjs: Saved Messages has no message ${DOWNLOAD_MESSAGE_ID} with media`);
          this.media = m;
        }
        const got = (await this.api.downloadMedia(this.media, {})) as Buffer;
        checkDownload(this.kind, new Uint8Array(got), this.file);
        return;
      }
      case 'upload': {
        const data = Buffer.from(uploadData(rng));
        await this.api.uploadFile({ file: new CustomFile('soak.bin', data.length, '', data), workers: 1 });
        return;
      }
    }
  }

  trimLogs(): void {
    if (this.h) trim(this.h.logs);
  }

  async close(): Promise<void> {
    await this.h?.destroy();
  }
}

class MtcuteClient implements SoakClient {
  readonly kind = 'mtcute' as const;
  private h: MtcuteHandle | undefined;
  private media: unknown;
  constructor(
    private readonly view: InteropSandbox,
    readonly phone: string,
    private readonly code: string,
    readonly transport: MtcuteTransport,
    private readonly file: SandboxFileInfo,
  ) {}

  async login(): Promise<void> {
    this.h = await makeMtcuteClient(this.view, { transport: this.transport });
    await mtcuteStart(this.h, this.phone, this.code);
  }

  async run(op: OpName, rng: Rng): Promise<void> {
    const tg = this.h!.tg;
    switch (op) {
      case 'getUsers': {
        const users = await tg.call({ _: 'users.getUsers', id: [{ _: 'inputUserSelf' }] });
        if (users.length !== 1) throw new Error('users.getUsers(self): not one user');
        return;
      }
      case 'getNearestDc':
        await tg.call({ _: 'help.getNearestDc' });
        return;
      case 'sendMessage': {
        // raw: sendText's lookup of the sent message wants a resolvable peer, Saved Messages as inputPeerSelf is not
        const { node } = await mtcute();
        const randomId = node.Long.fromBigInt(longOf(rng));
        await tg.call({ _: 'messages.sendMessage', peer: { _: 'inputPeerSelf' }, message: `soak ${this.phone}`, randomId });
        return;
      }
      case 'download': {
        if (!this.media) {
          const [m] = await tg.getHistory('me', { offset: { id: DOWNLOAD_MESSAGE_ID + 1, date: 0 }, limit: 1 });
          if (m?.id !== DOWNLOAD_MESSAGE_ID || !m.media) throw new Error(`mtcute: Saved Messages has no message ${DOWNLOAD_MESSAGE_ID} with media`);
          this.media = m.media;
        }
        const got = await tg.downloadAsBuffer(this.media as never);
        checkDownload(this.kind, got, this.file);
        return;
      }
      case 'upload':
        await tg.uploadFile({ file: uploadData(rng), fileName: 'soak.bin' });
        return;
    }
  }

  trimLogs(): void {
    if (this.h) trim(this.h.logs);
  }

  async close(): Promise<void> {
    await this.h?.destroy();
  }
}

const OURS_TRANSPORTS: TransportName[] = ['intermediate', 'abridged', 'padded', 'full'];
// GramJS's plain abridged reader cannot read frames bigger than one socket read (see test/sandbox/files-gramjs)
const GRAMJS_TRANSPORTS: GramjsTransport[] = ['full', 'obfuscated'];
const MTCUTE_TRANSPORTS: MtcuteTransport[] = ['intermediate', 'padded', 'obfuscated'];

/** Client `index` of kind `kind` (transports rotate per kind). */
export function makeSoakClient(proc: SandboxProc, kind: ClientKind, index: number): SoakClient {
  const { phone, code } = soakPhone(index);
  const file = proc.files.find((f) => f.key === DOWNLOAD_KEY);
  if (!file) throw new Error(`the sandbox has no seeded ${DOWNLOAD_KEY}`);
  const n = Math.floor(index / CLIENT_KINDS.length);
  switch (kind) {
    case 'ours':
      return new OursClient(proc, phone, code, OURS_TRANSPORTS[n % OURS_TRANSPORTS.length]!, file);
    case 'gramjs':
      return new GramjsClient(interopView(proc), phone, code, GRAMJS_TRANSPORTS[n % GRAMJS_TRANSPORTS.length]!, file);
    case 'mtcute':
      return new MtcuteClient(interopView(proc), phone, code, MTCUTE_TRANSPORTS[n % MTCUTE_TRANSPORTS.length]!, file);
  }
}
