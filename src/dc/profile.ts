// Profiles: where the DCs are, which RSA keys to trust, test mode, api_id/api_hash and the transport.
import { TELEGRAM_PRODUCTION_KEYS, TELEGRAM_TEST_KEYS, parseRsaPublicKeyPem, type RsaPublicKey } from '../crypto/rsa';
import type { InitConnectionParams } from '../mtproto/session';
import type { TransportName } from '../transport/codec';
import { DcError } from './errors';
import { endpointsOf, type Topology } from './topology';

export type ProfileName = 'sandbox' | 'test' | 'production' | 'custom';

export interface DcAddress {
  id: number;
  host: string;
  port: number;
  ipv6?: { host: string; port: number };
}

export interface Profile {
  name: ProfileName;
  dcs: DcAddress[];
  firstDc: number;
  rsaKeys: RsaPublicKey[];
  /** Test DCs: dc ids are written +10000 into the handshake's p_q_inner_data_dc. */
  testMode: boolean;
  apiId: number;
  apiHash: string;
  transport: TransportName;
  /** Obfuscated transport (obfuscated2) on every connection; endpoints marked tcpo_only or with a secret use it anyway. */
  obfuscated?: boolean;
  preferIpv6?: boolean;
  initConnection?: Partial<InitConnectionParams>;
}

export interface ProfileOptions {
  firstDc?: number;
  apiId?: number;
  apiHash?: string;
  transport?: TransportName;
  obfuscated?: boolean;
  preferIpv6?: boolean;
  initConnection?: Partial<InitConnectionParams>;
}

function build(
  name: ProfileName,
  dcs: DcAddress[],
  rsaKeys: RsaPublicKey[],
  testMode: boolean,
  opts: ProfileOptions,
  defaults: { firstDc: number; apiId: number; apiHash: string; obfuscated?: boolean },
): Profile {
  if (dcs.length === 0) throw new RangeError(`profile ${name}: no DC addresses`);
  if (rsaKeys.length === 0) throw new RangeError(`profile ${name}: no RSA keys`);
  const firstDc = opts.firstDc ?? (dcs.some((d) => d.id === defaults.firstDc) ? defaults.firstDc : dcs[0]!.id);
  if (!dcs.some((d) => d.id === firstDc)) throw new RangeError(`profile ${name}: first DC ${firstDc} is not in its DC list`);
  const p: Profile = {
    name,
    dcs: dcs.map((d) => ({ ...d, ...(d.ipv6 ? { ipv6: { ...d.ipv6 } } : {}) })),
    firstDc,
    rsaKeys,
    testMode,
    apiId: opts.apiId ?? defaults.apiId,
    apiHash: opts.apiHash ?? defaults.apiHash,
    transport: opts.transport ?? 'intermediate',
  };
  if (opts.preferIpv6 !== undefined) p.preferIpv6 = opts.preferIpv6;
  const obfuscated = opts.obfuscated ?? defaults.obfuscated;
  if (obfuscated !== undefined) p.obfuscated = obfuscated;
  if (opts.initConnection) p.initConnection = { ...opts.initConnection };
  return p;
}

/** The embedded sandbox (or one attached through its info file). */
export function profileFromSandboxInfo(
  info: { dcs: { id: number; host: string; port: number; ipv6?: { host: string; port: number } }[]; rsa: { pem: string; fingerprint?: string } },
  opts: ProfileOptions = {},
): Profile {
  const key = parseRsaPublicKeyPem(info.rsa.pem);
  if (info.rsa.fingerprint !== undefined && key.fingerprint.toString() !== info.rsa.fingerprint) {
    throw new RangeError(`sandbox info: the RSA key's fingerprint ${key.fingerprint} differs from the stated ${info.rsa.fingerprint}`);
  }
  return build('sandbox', info.dcs, [key], false, opts, { firstDc: 2, apiId: 1, apiHash: 'sandbox' });
}

/** Telegram's test DCs (api/auth): test RSA key, dc ids +10000 in the handshake. */
export const TEST_DCS: DcAddress[] = [
  { id: 1, host: '149.154.175.10', port: 443, ipv6: { host: '2001:b28:f23d:f001::e', port: 443 } },
  { id: 2, host: '149.154.167.40', port: 443, ipv6: { host: '2001:67c:4e8:f002::e', port: 443 } },
  { id: 3, host: '149.154.175.117', port: 443, ipv6: { host: '2001:b28:f23d:f003::e', port: 443 } },
];

/**
 * Production bootstrap addresses (api/datacenter does not list them; these are the well-known bootstrap
 * endpoints that official clients ship). help.getConfig's dc_options replace them once connected.
 */
export const PRODUCTION_DCS: DcAddress[] = [
  { id: 1, host: '149.154.175.53', port: 443, ipv6: { host: '2001:b28:f23d:f001::a', port: 443 } },
  { id: 2, host: '149.154.167.51', port: 443, ipv6: { host: '2001:67c:4e8:f002::a', port: 443 } },
  { id: 3, host: '149.154.175.100', port: 443, ipv6: { host: '2001:b28:f23d:f003::a', port: 443 } },
  { id: 4, host: '149.154.167.91', port: 443, ipv6: { host: '2001:67c:4e8:f004::a', port: 443 } },
  { id: 5, host: '91.108.56.130', port: 443, ipv6: { host: '2001:b28:f23f:f005::a', port: 443 } },
];

export function testProfile(opts: ProfileOptions = {}): Profile {
  // obfuscated2 by default towards Telegram, as the official apps connect (plain MTProto framing is easy to block)
  return build('test', TEST_DCS, TELEGRAM_TEST_KEYS, true, opts, { firstDc: 2, apiId: 0, apiHash: '', obfuscated: true });
}

export function productionProfile(opts: ProfileOptions = {}): Profile {
  return build('production', PRODUCTION_DCS, TELEGRAM_PRODUCTION_KEYS, false, opts, { firstDc: 2, apiId: 0, apiHash: '', obfuscated: true });
}

export function customProfile(opts: ProfileOptions & { dcs: DcAddress[]; rsaPem?: string | string[]; rsaKeys?: RsaPublicKey[]; testMode?: boolean }): Profile {
  const pems = opts.rsaPem === undefined ? [] : Array.isArray(opts.rsaPem) ? opts.rsaPem : [opts.rsaPem];
  const keys = [...(opts.rsaKeys ?? []), ...pems.map((p) => parseRsaPublicKeyPem(p))];
  return build('custom', opts.dcs, keys, opts.testMode ?? false, opts, { firstDc: opts.dcs[0]?.id ?? 1, apiId: 0, apiHash: '' });
}

/** The dc id written into the handshake (p_q_inner_data_dc): +10000 in test mode. */
export function handshakeDcId(profile: Profile, dcId: number): number {
  return profile.testMode ? dcId + 10000 : dcId;
}

/** One place to connect to for a DC, in the order they are tried. */
export interface DcEndpointChoice {
  host: string;
  port: number;
  ipv6: boolean;
  /** Obfuscated transport; `secret` when the endpoint gave one. */
  obfuscated: boolean;
  secret?: Uint8Array;
  /** From help.getConfig's dc_options, or the profile's own (bootstrap) address. */
  source: 'config' | 'profile';
}

/**
 * Every endpoint of DC `dcId`, in the order to try them: the config's main endpoints (IPv6 first, and only, when
 * the profile prefers IPv6; then IPv4), then the profile's addresses as a fallback (a config read long ago may be
 * stale). `media` adds media-only endpoints (file downloads); CDN endpoints are never used here. `tcpo_only` and a
 * `secret` make an endpoint obfuscated.
 */
export function dcEndpoints(profile: Profile, dcId: number, topology?: Topology, opts: { media?: boolean } = {}): DcEndpointChoice[] {
  const ipv6 = profile.preferIpv6 === true;
  const out: DcEndpointChoice[] = [];
  const seen = new Set<string>();
  const add = (c: DcEndpointChoice): void => {
    const k = `${c.host}|${c.port}`;
    if (seen.has(k)) return;
    seen.add(k);
    out.push(c);
  };
  if (topology) {
    const eps = endpointsOf(topology, dcId, opts.media ? { media: true } : {}).filter((e) => ipv6 || !e.ipv6);
    eps.sort((a, b) => (ipv6 ? Number(b.ipv6) - Number(a.ipv6) : 0) || Number(a.mediaOnly) - Number(b.mediaOnly));
    for (const e of eps) {
      const secret = e.secret ? Uint8Array.from(Buffer.from(e.secret, 'hex')) : undefined;
      add({
        host: e.host,
        port: e.port,
        ipv6: e.ipv6,
        obfuscated: profile.obfuscated === true || e.tcpoOnly || !!secret,
        ...(secret ? { secret } : {}),
        source: 'config',
      });
    }
  }
  const d = profile.dcs.find((x) => x.id === dcId);
  if (d) {
    if (ipv6 && d.ipv6) add({ host: d.ipv6.host, port: d.ipv6.port, ipv6: true, obfuscated: profile.obfuscated === true, source: 'profile' });
    add({ host: d.host, port: d.port, ipv6: false, obfuscated: profile.obfuscated === true, source: 'profile' });
  }
  if (out.length === 0) {
    throw new DcError('UNKNOWN_DC', dcId, `DC ${dcId} is not known to the ${profile.name} profile (known: ${profile.dcs.map((x) => x.id).join(', ')})`);
  }
  return out;
}

/** The first endpoint of dcEndpoints(): where a single extra connection (a download's) goes. */
export function dcAddress(profile: Profile, dcId: number, topology?: Topology): { host: string; port: number } {
  const first = dcEndpoints(profile, dcId, topology)[0]!;
  return { host: first.host, port: first.port };
}
