// The topology the panel and the tree show, from the lab's status (DcClient.status()), the profile / sandbox info,
// each DC's connection (the endpoints in the order they are tried, the one in use, reconnects) and the
// redirect/transfer events of the trace. No `vscode` import (tested in test/vscode/lab.test.ts and faults.test.ts).
import { dcEndpoints, type Profile } from '../dc/profile';
import type { Topology } from '../dc/topology';
import { dcNodeState, edgesFromTrace, type IpcConnectEndpoint, type IpcDcConnection, type IpcDcNode, type IpcTopology, type IpcTraceEvent } from '../ipc';
import type { DcClient } from '../lifecycle';
import { formatHostPort } from '../transport/tcp';
import { faultsState } from './faults';
import type { LabSession } from './lab';

/** DC `dcId`'s endpoints in the order the client tries them (the one in use marked) and its connection state. */
export function dcConnectionView(
  client: Pick<DcClient, 'pool'> | undefined,
  profile: Profile | undefined,
  topology: Topology | undefined,
  dcId: number,
): { connectOrder?: IpcConnectEndpoint[]; connection?: IpcDcConnection } {
  const info = client?.pool.connectionInfo(dcId);
  const connection: IpcDcConnection | undefined = info
    ? { state: info.state, reconnects: info.reconnects, ...(info.endpoint ? { endpoint: info.endpoint } : {}) }
    : undefined;
  if (!profile) return connection ? { connection } : {};
  let order: IpcConnectEndpoint[];
  try {
    // the secret of an endpoint stays on the host: only the fields below are copied
    order = dcEndpoints(profile, dcId, topology).map((e) => ({ host: e.host, port: e.port, ipv6: e.ipv6, obfuscated: e.obfuscated, source: e.source }));
  } catch {
    order = []; // a DC the profile cannot reach (the CDN DC, a media-only DC)
  }
  const used = info?.endpoint;
  if (used) {
    const hit = order.find((e) => `${formatHostPort(e.host, e.port)}${e.obfuscated ? ' (obfuscated)' : ''}` === used);
    if (hit) hit.inUse = true;
  }
  return { ...(order.length > 0 ? { connectOrder: order } : {}), ...(connection ? { connection } : {}) };
}

/** The topology the panel draws: DCs of the profile/status/topology, their state, and the edges of the trace. */
export function topologyOf(lab: LabSession, edgeEvents: Iterable<IpcTraceEvent>): IpcTopology {
  const st = lab.status();
  const nodes = new Map<number, IpcDcNode>();
  const node = (dcId: number): IpcDcNode => {
    let n = nodes.get(dcId);
    if (!n) {
      n = { dcId, endpoints: [], state: 'no-key', hasKey: false, authorized: false, home: false, connected: false };
      nodes.set(dcId, n);
    }
    return n;
  };
  const profileDcs = lab.profile?.dcs ?? lab.sandbox?.info.dcs ?? [];
  const topo = st?.topology;
  for (const d of profileDcs) {
    const n = node(d.id);
    if (!topo)
      n.endpoints.push({
        host: d.host,
        port: d.port,
        ipv6: false,
        mediaOnly: false,
        tcpoOnly: false,
        cdn: false,
        static: false,
        thisPortOnly: false,
        hasSecret: false,
      });
  }
  for (const e of topo?.endpoints ?? []) {
    node(e.id).endpoints.push({
      host: e.host,
      port: e.port,
      ipv6: e.ipv6,
      mediaOnly: e.mediaOnly,
      tcpoOnly: e.tcpoOnly,
      cdn: e.cdn,
      static: e.static,
      thisPortOnly: e.thisPortOnly,
      hasSecret: e.hasSecret,
    });
  }
  for (const d of st?.dcs ?? []) {
    const n = node(d.dcId);
    n.hasKey = d.hasKey;
    n.authorized = d.authorized;
    n.connected = d.connected;
    n.session = d.session;
    if (d.latencyMs !== undefined) n.latencyMs = Math.round(d.latencyMs * 10) / 10;
  }
  if (st) {
    node(st.homeDc);
    for (const n of nodes.values()) n.home = n.dcId === st.homeDc;
  }
  for (const n of nodes.values()) {
    n.state = dcNodeState(n);
    if (lab.client) Object.assign(n, dcConnectionView(lab.client, lab.profile, topo, n.dcId));
  }
  return {
    profile: lab.profileName,
    state: lab.state(),
    ...(st ? { homeDc: st.homeDc } : {}),
    ...(topo ? { thisDc: topo.thisDc, testMode: topo.testMode, configDate: topo.date } : {}),
    ...(topo?.expires !== undefined ? { configExpires: topo.expires } : {}),
    ...(topo?.fetchedAt !== undefined ? { configFetchedAt: topo.fetchedAt } : {}),
    nodes: [...nodes.values()].sort((a, b) => a.dcId - b.dcId),
    edges: edgesFromTrace(edgeEvents),
    faults: faultsState(lab),
  };
}
