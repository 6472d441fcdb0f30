// Presence for contacts only (issue 12.4). Watching an identity needs a grant that identity signed for the
// watcher (signaling/protocol/watch.ts); the check runs here, on the watcher's node, before the subscription
// reaches Presence, so a cluster's presence code only ever sees authorised watches. The relay also answers
// "offline" (signal, channel-open) only about identities the asker proved a grant for: a stranger's signal to
// an offline id gets the same silence as one to an online id that ignores strangers.
import { createHash, createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import {
  ErrorCode,
  MAX_WATCH_GRANT_LIFETIME_MS,
  fromBase64url,
  identityIdPreimage,
  rawPublicKey,
  toBase64url,
  watchGrantStatement,
  type PublicIdentityKey,
  type WatchGrant,
} from '../protocol/index.js';
import type { RelayContext } from './context.js';
import type { PresencePeer } from './presence.js';

export type GrantCheck = { ok: true } | { ok: false; reason: string };

/** Verifies a grant from its content alone: key ↔ id, the watcher it names, expiry, signature. */
export function checkWatchGrant(grant: WatchGrant, watcher: string, now: number): GrantCheck {
  if (grant.to !== watcher) return { ok: false, reason: 'the grant names another watcher' };
  if (grant.exp <= now) return { ok: false, reason: 'the grant expired' };
  if (grant.exp > now + MAX_WATCH_GRANT_LIFETIME_MS)
    return { ok: false, reason: 'the grant expires too far in the future' };
  try {
    const key = grant.key as PublicIdentityKey;
    const id = createHash('sha256').update(identityIdPreimage(key)).digest('base64url');
    if (id !== grant.of) return { ok: false, reason: 'the grant key is not the watched identity' };
    const publicKey = createPublicKey({ key: jwkOf(key), format: 'jwk' });
    const statement = watchGrantStatement(grant.of, grant.to, grant.exp);
    const sig = fromBase64url(grant.sig);
    const valid =
      key.alg === 'Ed25519'
        ? verify(null, statement, publicKey, sig)
        : verify('sha256', statement, { key: publicKey, dsaEncoding: 'ieee-p1363' }, sig);
    return valid ? { ok: true } : { ok: false, reason: 'the grant signature does not verify' };
  } catch {
    return { ok: false, reason: 'malformed grant key or signature' };
  }
}

function jwkOf(key: PublicIdentityKey): JsonWebKey {
  const raw = rawPublicKey(key);
  if (key.alg === 'Ed25519') return { kty: 'OKP', crv: 'Ed25519', x: key.pub };
  return { kty: 'EC', crv: 'P-256', x: toBase64url(raw.subarray(1, 33)), y: toBase64url(raw.subarray(33, 65)) };
}

/** Per connection: the identities it proved a grant for (what it may learn "offline" about). */
const granted = new WeakMap<PresencePeer, Set<string>>();

/** True when the relay may tell `conn` that `id` is offline. */
export function mayTellOffline(conn: PresencePeer, id: string | undefined): boolean {
  if (id === undefined) return false;
  return id === conn.id || (granted.get(conn)?.has(id) ?? false); // one's own other devices: no secret
}

/** `subscribe`: verify each grant, enforce the per-identity cap, then hand the verified ids to Presence. */
export function subscribeWithGrants(ctx: RelayContext, conn: PresencePeer, grants: readonly WatchGrant[]): void {
  const watcher = conn.id!;
  const now = Date.now();
  const ids: string[] = [];
  for (const grant of grants) {
    const check = checkWatchGrant(grant, watcher, now);
    if (!check.ok) {
      // Stateless check: the answer depends on the grant only, never on the watched identity's presence.
      conn.sendError(ErrorCode.WatchDenied, `watch ${grant.of}: ${check.reason}`, { to: grant.of });
      continue;
    }
    if (!ids.includes(grant.of)) ids.push(grant.of);
  }
  if (ids.length === 0) return;
  const own = conn.subscriptions;
  const fresh = ids.filter((id) => !own?.has(id)).length;
  const used = subscriptionsOfIdentity(ctx, conn);
  const cap = ctx.limits.maxSubscriptionsPerIdentity;
  if (used + fresh > cap) {
    conn.violation(
      ErrorCode.TooManySubscriptions,
      `watching ${fresh} more would exceed ${cap} watches for this identity (all its connections; have ${used})`,
    );
    return;
  }
  const before = own?.size ?? 0;
  ctx.presence.subscribe(conn, ids);
  // Presence refused the batch (per-connection cap): nothing was proven usable.
  if ((conn.subscriptions?.size ?? 0) === before && fresh > 0) return;
  let set = granted.get(conn);
  if (set === undefined) granted.set(conn, (set = new Set()));
  for (const id of ids) set.add(id);
}

export function unsubscribeGranted(ctx: RelayContext, conn: PresencePeer, ids: readonly string[]): void {
  ctx.presence.unsubscribe(conn, ids);
  const set = granted.get(conn);
  if (set !== undefined) for (const id of ids) set.delete(id);
}

/** Watches held by every local connection of conn's identity (several devices, or one person's many sockets). */
function subscriptionsOfIdentity(ctx: RelayContext, conn: PresencePeer): number {
  const conns = ctx.presence.connectionsOf(conn.id!);
  if (conns === undefined) return conn.subscriptions?.size ?? 0;
  if (!Array.isArray(conns)) return (conns as PresencePeer).subscriptions?.size ?? 0;
  let total = 0;
  for (const c of conns as readonly PresencePeer[]) total += c.subscriptions?.size ?? 0;
  return total;
}
