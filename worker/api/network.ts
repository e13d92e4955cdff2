/**
 * Where a request comes from and whether it arrived over TLS. `X-Forwarded-For` and
 * `X-Forwarded-Proto` are believed only from a configured trusted proxy
 * (`CUSTODIA_TRUSTED_PROXIES`, comma-separated IPs or CIDRs, default none): anyone else could
 * write them, and the sign-in budgets and the `Secure` cookie depend on them.
 */
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { setting } from '../settings.ts';

/** The proxies whose forwarding headers are believed. */
export interface TrustedProxies {
  /** The configured entries, as given (for messages and documentation). */
  readonly entries: readonly string[];
  has(address: string): boolean;
}

/** An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) as the IPv4 address it is. */
function plainAddress(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m?.[1] ?? address;
}

/** A trusted-proxy list from entries (IPs or CIDRs); throws on an entry that is neither. */
export function trustedProxyList(entries: readonly string[]): TrustedProxies {
  const list = new BlockList();
  for (const entry of entries) {
    const [ip = '', bits, extra] = entry.split('/');
    const family = isIP(ip);
    const prefix = bits === undefined ? undefined : Number(bits);
    const max = family === 6 ? 128 : 32;
    if (
      !family ||
      extra !== undefined ||
      (prefix !== undefined && (!/^\d{1,3}$/.test(bits ?? '') || prefix > max))
    )
      throw new Error(`CUSTODIA_TRUSTED_PROXIES: "${entry}" is not an IP address or CIDR`);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(ip, type);
    else list.addSubnet(ip, prefix, type);
  }
  return {
    entries: [...entries],
    has(address) {
      const a = plainAddress(address);
      const family = isIP(a);
      return family !== 0 && list.check(a, family === 6 ? 'ipv6' : 'ipv4');
    },
  };
}

/**
 * The trusted proxies configured by `CUSTODIA_TRUSTED_PROXIES` (comma-separated IPs/CIDRs; default
 * none, so forwarding headers are ignored). The one place the API reads this setting.
 */
export function trustedProxiesSetting(env: NodeJS.ProcessEnv = process.env): TrustedProxies {
  const raw = setting('CUSTODIA_TRUSTED_PROXIES', env) ?? '';
  return trustedProxyList(
    raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
}

/** The last value of a (possibly repeated, comma-separated) header, as the nearest proxy wrote it. */
function headerValues(req: IncomingMessage, name: string): string[] {
  const v = req.headers[name];
  const all = Array.isArray(v) ? v.join(',') : (v ?? '');
  return all
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * The client's address: the peer, unless the peer is a trusted proxy — then the right-most
 * `X-Forwarded-For` entry that is not itself a trusted proxy (entries further left were written
 * by the client and prove nothing).
 */
export function clientAddress(req: IncomingMessage, trusted: TrustedProxies): string {
  let address = plainAddress(req.socket.remoteAddress ?? '');
  if (!trusted.has(address)) return address;
  const hops = headerValues(req, 'x-forwarded-for');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = plainAddress(hops[i] ?? '');
    if (!isIP(hop)) break;
    address = hop;
    if (!trusted.has(hop)) break;
  }
  return address;
}

/** Whether the request arrived over TLS: directly, or at a trusted proxy that says so. */
export function isSecureRequest(req: IncomingMessage, trusted: TrustedProxies): boolean {
  if ((req.socket as Partial<TLSSocket>).encrypted) return true;
  if (!trusted.has(req.socket.remoteAddress ?? '')) return false;
  const proto = headerValues(req, 'x-forwarded-proto');
  return proto[proto.length - 1]?.toLowerCase() === 'https';
}
