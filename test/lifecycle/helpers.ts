// Shared helpers of the lifecycle tests: a real sandbox on loopback, clients built on it, trace queries.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox';
import type { WireEvent } from '../../src/mtproto/wire-event';
import { profileFromSandboxInfo } from '../../src/dc/profile';
import { createDcClient, type DcClient, type DcClientOptions } from '../../src/lifecycle/client';
import { memoryLifecycleStore, type LifecycleStore } from '../../src/lifecycle/store';
import type { LifecycleEvent } from '../../src/lifecycle/runtime';

export const SANDBOX_PASSWORD = 'sandbox';

export interface Lab {
  sandbox: Sandbox;
  /** Server-side wire events (every DC). */
  serverWire: WireEvent[];
  logs: string[];
  client(opts?: Partial<DcClientOptions> & { store?: LifecycleStore; firstDc?: number }): { client: DcClient; events: LifecycleEvent[]; store: LifecycleStore };
  /** The last code the sandbox delivered for a phone. */
  code(phone: string): string;
  /** How many times the server received a method (on any DC, or on one). */
  received(method: string, dcId?: number): number;
  stop(): Promise<void>;
}

let dataDir: string | undefined;

export async function startLab(opts: { nearestDc?: number; sandbox?: Partial<SandboxOptions> } = {}): Promise<Lab> {
  dataDir ??= mkdtempSync(join(tmpdir(), 'dclab-lifecycle-'));
  const serverWire: WireEvent[] = [];
  const logs: string[] = [];
  const sandbox = await startSandbox({
    basePort: 0,
    dataDir,
    ipv6: false,
    log: (l) => void logs.push(l),
    onWire: (e) => void serverWire.push(e),
    ...(opts.nearestDc ? { nearestDc: opts.nearestDc } : {}),
    ...opts.sandbox,
  });
  const clients: DcClient[] = [];
  return {
    sandbox,
    serverWire,
    logs,
    client(o = {}) {
      const events: LifecycleEvent[] = [];
      const store = o.store ?? memoryLifecycleStore();
      const { firstDc, ...rest } = o;
      const client = createDcClient({
        profile: profileFromSandboxInfo(sandbox.info, { firstDc: firstDc ?? 2 }),
        store,
        ...rest,
        onEvent: (e) => {
          events.push(e);
          o.onEvent?.(e);
        },
      });
      clients.push(client);
      return { client, events, store };
    },
    code(phone) {
      const all = sandbox.inbox().filter((m) => m.phone === phone);
      const last = all[all.length - 1];
      if (!last) throw new Error(`no code delivered for ${phone}`);
      return last.code;
    },
    received(method, dcId) {
      return serverWire.filter((e) => e.dir === 'in' && e.ctor === method && (dcId === undefined || e.dcId === dcId)).length;
    },
    async stop() {
      await Promise.all(clients.map((c) => c.stop().catch(() => undefined)));
      await sandbox.stop();
    },
  };
}

/** Human-readable chain of a root call: names of the event and its descendants in id order. */
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
