// Watch grants: the capability that lets a contact see our presence on a relay.
// A grant is signed by the watched identity and names the one identity allowed to watch with it, so the relay
// verifies it from the message alone (no per-user state, works while the watched user is offline, and on any
// node of a cluster). Grants expire; the watched user re-issues them to the contacts it still has, so a
// removed or blocked contact loses the watch within one grant lifetime.
import { z } from 'zod';
import { IDENTITY_ID_LENGTH } from './constants.js';
import type { Bytes } from './base64url.js';
import { KEY_ALGORITHMS } from './identity.js';

/** Longest grant lifetime a relay accepts (exp further than this from now is refused). */
export const MAX_WATCH_GRANT_LIFETIME_MS = 60 * 24 * 3600_000;

const b64url = z.string().regex(/^[A-Za-z0-9_-]*$/, 'must be base64url');
const id = b64url.length(IDENTITY_ID_LENGTH);

export const WatchGrantSchema = z.object({
  /** The watched identity (identityIdOf(key)). */
  of: id,
  key: z.object({ alg: z.enum(KEY_ALGORITHMS), pub: b64url.min(43).max(88) }),
  /** The only identity that may watch with this grant. */
  to: id,
  /** Expiry, ms since the epoch. */
  exp: z.number().int().positive(),
  sig: b64url.min(80).max(200),
});
export type WatchGrant = z.infer<typeof WatchGrantSchema>;

const encoder = new TextEncoder();

/** The bytes the watched identity signs. */
export function watchGrantStatement(of: string, to: string, exp: number): Bytes {
  return encoder.encode(`parley-watch-grant/v1\n${of}\n${to}\n${exp}`);
}
