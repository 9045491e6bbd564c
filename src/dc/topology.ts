// Topology: help.getConfig's dc_options as plain JSON-able data (api/datacenter, dcOption flags).
import type { TlObject } from '../tl/types';

export interface DcEndpoint {
  id: number;
  host: string;
  port: number;
  ipv6: boolean;
  mediaOnly: boolean;
  tcpoOnly: boolean;
  cdn: boolean;
  static: boolean;
  thisPortOnly: boolean;
  /** The option carries a secret (obfuscated transports, MTProxy-style). */
  hasSecret: boolean;
  /** That secret, hex: a transport parameter every client of the DC gets, not a user secret. */
  secret?: string;
}

export interface Topology {
  thisDc: number;
  /** config.date, unix seconds. */
  date: number;
  testMode: boolean;
  /** config.expires, unix seconds: read the config again after this. */
  expires?: number;
  /** When this client read the config (ms since the epoch). */
  fetchedAt?: number;
  endpoints: DcEndpoint[];
}

export function topologyFromConfig(config: TlObject): Topology {
  if (config._ !== 'config') throw new TypeError(`expected a config object, got ${config._}`);
  const options = Array.isArray(config.dc_options) ? (config.dc_options as TlObject[]) : [];
  return {
    thisDc: Number(config.this_dc),
    date: Number(config.date ?? 0),
    testMode: config.test_mode === true,
    ...(typeof config.expires === 'number' ? { expires: config.expires } : {}),
    fetchedAt: Date.now(),
    endpoints: options
      .filter((o) => o && o._ === 'dcOption')
      .map((o) => ({
        id: Number(o.id),
        host: String(o.ip_address),
        port: Number(o.port),
        ipv6: o.ipv6 === true,
        mediaOnly: o.media_only === true,
        tcpoOnly: o.tcpo_only === true,
        cdn: o.cdn === true,
        static: o.static === true,
        thisPortOnly: o.this_port_only === true,
        hasSecret: o.secret instanceof Uint8Array,
        ...(o.secret instanceof Uint8Array ? { secret: Buffer.from(o.secret).toString('hex') } : {}),
      })),
  };
}

/** Whether the config should be read again (its `expires` has passed). */
export function topologyExpired(t: Topology, nowMs = Date.now()): boolean {
  return t.expires !== undefined && t.expires > 0 && nowMs / 1000 >= t.expires;
}

/** The main DC ids (at least one endpoint that is neither CDN nor media-only), ascending. */
export function dcIdsOf(t: Topology): number[] {
  return [...new Set(t.endpoints.filter((e) => !e.cdn && !e.mediaOnly).map((e) => e.id))].sort((a, b) => a - b);
}

/** Endpoints of one DC: by default main ones (not CDN, not media-only) of both families, IPv4 first. */
export function endpointsOf(t: Topology, dcId: number, opts: { ipv6?: boolean; media?: boolean } = {}): DcEndpoint[] {
  return t.endpoints
    .filter((e) => e.id === dcId && !e.cdn && (opts.media ? true : !e.mediaOnly))
    .filter((e) => (opts.ipv6 === undefined ? true : e.ipv6 === opts.ipv6))
    .sort((a, b) => Number(a.ipv6) - Number(b.ipv6) || Number(a.mediaOnly) - Number(b.mediaOnly));
}
