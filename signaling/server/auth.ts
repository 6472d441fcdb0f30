// Challenge-response authentication. The client signs relayAuthStatement(nonce, id, host): the nonce is
// fresh per connection and usable once (no replay), the id is derived from the key the client presented
// (no claiming someone else's), and the host must name this relay (no relaying a challenge from elsewhere).
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import {
  NONCE_BYTES,
  fromBase64url,
  identityIdOf,
  importPublicKey,
  relayAuthStatement,
  signParams,
  toBase64url,
  type PublicIdentityKey,
} from '../protocol/index.js';

export function newNonce(): string {
  return toBase64url(randomBytes(NONCE_BYTES));
}

/** Where the TCP connection arrived, as the relay saw it. */
export interface ArrivalAddress {
  /** The Host header of the upgrade request, if any. */
  hostHeader: string | undefined;
  localAddress: string | undefined;
  localPort: number | undefined;
  tls: boolean;
}

/**
 * The host strings a client may have signed. The Host header counts only when it names the address and port
 * the connection actually arrived on (or "localhost" on a loopback address): the header is chosen by the
 * client, so trusting it blindly would let a malicious relay forward our challenge to an honest client and
 * sign in as that client with its own Host value. Names (DNS, proxies, port maps) come from acceptHosts.
 */
export function statementHosts(arrival: ArrivalAddress, acceptHosts: readonly string[]): string[] {
  const out: string[] = [];
  const header = arrival.hostHeader?.trim().toLowerCase();
  if (header && hostNamesArrival(header, arrival)) out.push(header);
  for (const h of acceptHosts) if (!out.includes(h)) out.push(h);
  return out;
}

function hostNamesArrival(header: string, arrival: ArrivalAddress): boolean {
  const parsed = splitHost(header);
  if (!parsed || arrival.localAddress === undefined || arrival.localPort === undefined) return false;
  const port = parsed.port ?? (arrival.tls ? 443 : 80);
  if (port !== arrival.localPort) return false;
  const local = unmapV4(arrival.localAddress.toLowerCase());
  if (parsed.hostname === 'localhost') return isLoopback(local);
  return isIP(parsed.hostname) !== 0 && unmapV4(parsed.hostname) === local;
}

/** Splits "host", "host:port", "[v6]" or "[v6]:port"; null when malformed. */
export function splitHost(header: string): { hostname: string; port: number | undefined } | null {
  let hostname: string;
  let portText: string | undefined;
  if (header.startsWith('[')) {
    const end = header.indexOf(']');
    if (end < 0) return null;
    hostname = header.slice(1, end);
    const rest = header.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) return null;
    portText = rest ? rest.slice(1) : undefined;
  } else {
    const colon = header.lastIndexOf(':');
    hostname = colon < 0 ? header : header.slice(0, colon);
    portText = colon < 0 ? undefined : header.slice(colon + 1);
  }
  if (!hostname) return null;
  if (portText === undefined) return { hostname, port: undefined };
  if (!/^\d{1,5}$/.test(portText)) return null;
  const port = Number(portText);
  return port > 0 && port < 65536 ? { hostname, port } : null;
}

function unmapV4(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.');
}

/** Verifies `sig` (base64url) over the statement for any of `hosts`; resolves the identity id on success. */
export async function verifyAuth(
  key: PublicIdentityKey,
  nonce: string,
  sig: string,
  hosts: readonly string[],
): Promise<{ ok: true; id: string } | { ok: false; reason: string }> {
  if (hosts.length === 0) {
    return { ok: false, reason: 'the Host you connected to is not an address of this relay (its operator can add it with --accept-host)' };
  }
  let signature: Uint8Array<ArrayBuffer>;
  let publicKey: CryptoKeyLike;
  let id: string;
  try {
    signature = fromBase64url(sig);
    id = await identityIdOf(key);
    publicKey = await importPublicKey(key);
  } catch {
    return { ok: false, reason: 'malformed key or signature' };
  }
  for (const host of hosts) {
    try {
      if (await crypto.subtle.verify(signParams(key.alg), publicKey, signature, relayAuthStatement(nonce, id, host))) {
        return { ok: true, id };
      }
    } catch {
      return { ok: false, reason: 'malformed key or signature' };
    }
  }
  return { ok: false, reason: 'signature does not verify for this key, nonce and host' };
}

type CryptoKeyLike = Awaited<ReturnType<typeof importPublicKey>>;
