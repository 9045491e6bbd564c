// help.getConfig / help.getNearestDc results built from the sandbox's own listeners.
import type { TlObject } from '../tl/types';

export interface DcEndpoint {
  id: number;
  host: string;
  port: number;
  ipv6?: { host: string; port: number };
}

/** DC that carries the media_only dc_option (served by the same listener as its main entry). */
export const MEDIA_DC = 2;
/** Default lifetime of a help.getConfig answer. */
export const CONFIG_TTL_S = 3600;
/** After a DC moved, configs expire this soon, so clients holding an old one refresh early. */
export const MOVED_CONFIG_TTL_S = 30;

/**
 * The `expires` of help.getConfig: one value for everybody until it passes (then now + ttl), like a config
 * version; `soon()` pulls it in after a topology change.
 */
export class ConfigExpiry {
  private expiresAt = 0;
  constructor(
    readonly ttlSeconds: number = CONFIG_TTL_S,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) throw new RangeError(`config expiry must be a positive number of seconds, got ${ttlSeconds}`);
  }

  /** Unix time (s) at which the current config expires. */
  current(): number {
    const nowS = Math.floor(this.now() / 1000);
    if (this.expiresAt <= nowS) this.expiresAt = nowS + this.ttlSeconds;
    return this.expiresAt;
  }

  soon(seconds = MOVED_CONFIG_TTL_S): number {
    this.expiresAt = Math.floor(this.now() / 1000) + Math.min(seconds, this.ttlSeconds);
    return this.expiresAt;
  }
}

/**
 * dc_options: one ipv4 entry per DC, one ipv6 entry (flag ipv6) per DC that listens on ::1, and one media_only
 * entry for DC 2 on the same address and port.
 */
export function dcOptions(dcs: DcEndpoint[]): TlObject[] {
  const out: TlObject[] = [];
  for (const dc of dcs) out.push({ _: 'dcOption', id: dc.id, ip_address: dc.host, port: dc.port });
  for (const dc of dcs) {
    if (dc.ipv6) out.push({ _: 'dcOption', ipv6: true, id: dc.id, ip_address: dc.ipv6.host, port: dc.ipv6.port });
  }
  const media = dcs.find((d) => d.id === MEDIA_DC);
  if (media) out.push({ _: 'dcOption', media_only: true, id: media.id, ip_address: media.host, port: media.port });
  return out;
}

/** A layer-227 `config` (lenient codecs trim it for older layers); `expires` in unix seconds. */
export function buildConfig(thisDc: number, dcs: DcEndpoint[], nowMs: number, expires: number): TlObject {
  const date = Math.floor(nowMs / 1000);
  return {
    _: 'config',
    date,
    expires,
    test_mode: false,
    this_dc: thisDc,
    dc_options: dcOptions(dcs),
    dc_txt_domain_name: 'sandbox.dclab.invalid',
    chat_size_max: 200,
    megagroup_size_max: 200000,
    forwarded_count_max: 100,
    online_update_period_ms: 210000,
    offline_blur_timeout_ms: 5000,
    offline_idle_timeout_ms: 30000,
    online_cloud_timeout_ms: 300000,
    notify_cloud_delay_ms: 30000,
    notify_default_delay_ms: 1500,
    push_chat_period_ms: 60000,
    push_chat_limit: 2,
    edit_time_limit: 172800,
    revoke_time_limit: 2147483647,
    revoke_pm_time_limit: 2147483647,
    rating_e_decay: 2419200,
    stickers_recent_limit: 200,
    channels_read_media_period: 604800,
    call_receive_timeout_ms: 20000,
    call_ring_timeout_ms: 90000,
    call_connect_timeout_ms: 30000,
    call_packet_timeout_ms: 10000,
    me_url_prefix: 'https://t.me/',
    caption_length_max: 1024,
    message_length_max: 4096,
    webfile_dc_id: 4,
  };
}

export function buildNearestDc(thisDc: number, nearestDc: number): TlObject {
  return { _: 'nearestDc', country: 'XX', this_dc: thisDc, nearest_dc: nearestDc };
}
