// The topology the panel and the tree show, from the lab's status (DcClient.status()), the profile / sandbox info
// and the redirect/transfer events of the trace. No `vscode` import (tested in test/vscode/lab.test.ts).
import { dcNodeState, edgesFromTrace, type IpcDcNode, type IpcTopology, type IpcTraceEvent } from '../ipc';
import type { LabSession } from './lab';

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
    if (!topo) n.endpoints.push({ host: d.host, port: d.port, ipv6: false, mediaOnly: false, tcpoOnly: false, cdn: false, static: false, thisPortOnly: false, hasSecret: false });
  }
  for (const e of topo?.endpoints ?? []) {
    node(e.id).endpoints.push({ host: e.host, port: e.port, ipv6: e.ipv6, mediaOnly: e.mediaOnly, tcpoOnly: e.tcpoOnly, cdn: e.cdn, static: e.static, thisPortOnly: e.thisPortOnly, hasSecret: e.hasSecret });
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
  for (const n of nodes.values()) n.state = dcNodeState(n);
  return {
    profile: lab.profileName,
    state: lab.state(),
    ...(st ? { homeDc: st.homeDc } : {}),
    ...(topo ? { thisDc: topo.thisDc, testMode: topo.testMode, configDate: topo.date } : {}),
    nodes: [...nodes.values()].sort((a, b) => a.dcId - b.dcId),
    edges: edgesFromTrace(edgeEvents),
  };
}
