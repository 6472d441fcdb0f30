// Challenge-response authentication. The client signs relayAuthStatement(nonce, id, host): the nonce is
// fresh per connection and usable once (no replay), the id is derived from the key the client presented
// (no claiming someone else's), and the host must name this relay (no relaying a challenge from elsewhere).
import { createHash, createPublicKey, randomBytes, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import {
  NONCE_BYTES,
  fromBase64url,
  identityIdPreimage,
  rawPublicKey,
  relayAuthStatement,
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

export type AuthResult = { ok: true; id: string } | { ok: false; reason: string };

/**
 * Verifies `sig` (base64url) over the statement for any of `hosts`. Synchronous node:crypto on purpose: one
 * verification costs well under a millisecond, and doing it inline keeps the handshake free of awaits (no
 * window where messages race the outcome) and keeps OpenSSL's allocations out of the thread pool's arenas.
 */
export function verifyAuth(key: PublicIdentityKey, nonce: string, sig: string, hosts: readonly string[]): AuthResult {
  if (hosts.length === 0) {
    return {
      ok: false,
      reason: 'the Host you connected to is not an address of this relay (its operator can add it with --accept-host)',
    };
  }
  let id: string;
  let publicKey: KeyObject;
  let signature: Uint8Array;
  try {
    id = createHash('sha256').update(identityIdPreimage(key)).digest('base64url');
    publicKey = createPublicKey({ key: jwkOf(key), format: 'jwk' });
    signature = fromBase64url(sig);
  } catch {
    return { ok: false, reason: 'malformed key or signature' };
  }
  for (const host of hosts) {
    const statement = relayAuthStatement(nonce, id, host);
    const valid =
      key.alg === 'Ed25519'
        ? verify(null, statement, publicKey, signature)
        : verify('sha256', statement, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);
    if (valid) return { ok: true, id };
  }
  return { ok: false, reason: 'signature does not verify for this key, nonce and host' };
}

function jwkOf(key: PublicIdentityKey): JsonWebKey {
  const raw = rawPublicKey(key);
  if (key.alg === 'Ed25519') return { kty: 'OKP', crv: 'Ed25519', x: key.pub };
  // Uncompressed point: 0x04 || X (32) || Y (32).
  return { kty: 'EC', crv: 'P-256', x: toBase64url(raw.subarray(1, 33)), y: toBase64url(raw.subarray(33, 65)) };
}
