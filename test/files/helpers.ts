// A real sandbox on loopback and logged-in clients for the files tests.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { profileFromSandboxInfo } from '../../src/dc/profile';
import { createDcClient, type DcClient } from '../../src/lifecycle/client';
import type { LifecycleEvent } from '../../src/lifecycle/runtime';
import { TraceStore } from '../../src/trace/store';
import { locationFromJson } from '../../src/files/media';
import type { TlObject } from '../../src/tl/types';
import type { WireEvent } from '../../src/mtproto/wire-event';

export interface FilesLab {
  sandbox: Sandbox;
  dir: string;
  /** A started client logged in as 99966<dc>1234 (home DC = dc). */
  login(dc?: number): Promise<{ client: DcClient; events: LifecycleEvent[]; trace: TraceStore }>;
  seeded(key: string): { location: TlObject; dcId: number; size: number; sha256: string; cdn: boolean };
  out(name: string): string;
  stop(): Promise<void>;
}

/** `onWire`: the sandbox's wire events (every DC, the CDN DC 203 too; ids, names and sizes only). */
export async function startFilesLab(opts: { onWire?: (e: WireEvent) => void } = {}): Promise<FilesLab> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dclab-files-sb-'));
  const dir = mkdtempSync(join(tmpdir(), 'dclab-files-out-'));
  const sandbox = await startSandbox({ basePort: 0, dataDir, ipv6: false, log: () => {}, ...(opts.onWire ? { onWire: opts.onWire } : {}) });
  const clients: DcClient[] = [];
  return {
    sandbox,
    dir,
    async login(dc = 2) {
      const events: LifecycleEvent[] = [];
      const trace = new TraceStore();
      const client = createDcClient({ profile: profileFromSandboxInfo(sandbox.info, { firstDc: dc }), trace, onEvent: (e) => void events.push(e) });
      clients.push(client);
      await client.start();
      const phone = `99966${dc}1234`;
      await client.login({ phone, code: async () => String(dc).repeat(5) });
      return { client, events, trace };
    },
    seeded(key) {
      const f = sandbox.files().find((x) => x.key === key);
      if (!f) throw new Error(`no seeded file ${key}`);
      return { location: locationFromJson(f.location), dcId: f.dcId, size: f.size, sha256: f.sha256, cdn: f.cdn };
    },
    out(name) {
      return join(dir, name);
    },
    async stop() {
      await Promise.all(clients.map((c) => c.stop().catch(() => undefined)));
      await sandbox.stop();
      // the downloads (one of 64 MiB) and the sandbox's data do not outlive the test file
      rmSync(dir, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function sha256File(p: string): string {
  return createHash('sha256').update(readFileSync(p)).digest('hex');
}

export function partState(out: string): { final: boolean; part: boolean; sidecar: boolean } {
  return { final: existsSync(out), part: existsSync(`${out}.part`), sidecar: existsSync(`${out}.part.json`) };
}

/** Names of an event and its descendants (id order). */
export function chainOf(events: LifecycleEvent[], rootId: number): LifecycleEvent[] {
  const ids = new Set([rootId]);
  const out: LifecycleEvent[] = [];
  for (const e of [...events].sort((a, b) => a.id - b.id)) {
    if (e.id === rootId || (e.parentId !== undefined && ids.has(e.parentId))) {
      ids.add(e.id);
      out.push(e);
    }
  }
  return out;
}
