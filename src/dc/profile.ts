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
  preferIpv6?: boolean;
  initConnection?: Partial<InitConnectionParams>;
}

export interface ProfileOptions {
  firstDc?: number;
  apiId?: number;
  apiHash?: string;
  transport?: TransportName;
  preferIpv6?: boolean;
  initConnection?: Partial<InitConnectionParams>;
}

function build(name: ProfileName, dcs: DcAddress[], rsaKeys: RsaPublicKey[], testMode: boolean, opts: ProfileOptions, defaults: { firstDc: number; apiId: number; apiHash: string }): Profile {
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
  return build('test', TEST_DCS, TELEGRAM_TEST_KEYS, true, opts, { firstDc: 2, apiId: 0, apiHash: '' });
}

export function productionProfile(opts: ProfileOptions = {}): Profile {
  return build('production', PRODUCTION_DCS, TELEGRAM_PRODUCTION_KEYS, false, opts, { firstDc: 2, apiId: 0, apiHash: '' });
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

/** Where to connect for DC `dcId`: a main (not media-only, not CDN) endpoint of the topology, else the profile's. */
export function dcAddress(profile: Profile, dcId: number, topology?: Topology): { host: string; port: number } {
  const ipv6 = profile.preferIpv6 === true;
  if (topology) {
    const eps = endpointsOf(topology, dcId);
    const pick = eps.find((e) => e.ipv6 === ipv6 && !e.hasSecret) ?? eps.find((e) => !e.hasSecret && !e.ipv6);
    if (pick) return { host: pick.host, port: pick.port };
  }
  const d = profile.dcs.find((x) => x.id === dcId);
  if (!d) throw new DcError('UNKNOWN_DC', dcId, `DC ${dcId} is not known to the ${profile.name} profile (known: ${profile.dcs.map((x) => x.id).join(', ')})`);
  if (ipv6 && d.ipv6) return { ...d.ipv6 };
  return { host: d.host, port: d.port };
}
