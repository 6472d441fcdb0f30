// TURN credentials a relay hands out (signaling/protocol/turn.ts): kept with their expiry on our own clock,
// refreshed at half-life, dropped once expired. Calls merge them with the TURN/STUN servers the user configured.
import type { TurnCredentials } from '../../../signaling/protocol/index.js';
import type { IceServer } from '../platform/rtc.js';

/**
 * Credentials this close to their expiry (or within a quarter of a shorter lifetime) are no longer offered to
 * a new call: the TURN server checks the username's expiry when an allocation is made (coturn keeps an
 * existing allocation past it), and a call may gather candidates a little later, on a clock that differs
 * from the relay's and the TURN server's.
 */
export const TURN_EXPIRY_MARGIN_MS = 30_000;
/** Ask for fresh credentials when this share of their lifetime has passed. */
const REFRESH_AT = 0.5;

export class RelayTurnCredentials {
  #server: IceServer | null = null;
  #usableUntil = 0;
  #refreshAt = 0;

  /** Stores what the relay sent at `now` (ms, our clock); its ttl counts from there. */
  update(turn: TurnCredentials, now: number): void {
    this.#server = { urls: [...turn.urls], username: turn.username, credential: turn.credential };
    const lifetime = turn.ttl * 1000;
    this.#usableUntil = now + lifetime - Math.min(TURN_EXPIRY_MARGIN_MS, lifetime / 4);
    this.#refreshAt = now + lifetime * REFRESH_AT;
  }

  /** When (ms, our clock) to ask for fresh ones; null when we hold none. */
  get refreshAt(): number | null {
    return this.#server ? this.#refreshAt : null;
  }

  /** The TURN servers usable for a call starting at `now`: none once the credentials (nearly) expired. */
  servers(now: number): IceServer[] {
    const s = this.#server;
    if (!s || now >= this.#usableUntil) return [];
    return [{ urls: [...(s.urls as string[])], username: s.username!, credential: s.credential! }];
  }
}

/**
 * The ICE servers for one call: the user's own first, then the relays' (a URL the user configured keeps the
 * user's credentials). Fresh copies, so a peer connection cannot alter what the next call gets.
 */
export function mergeIceServers(user: readonly IceServer[], fromRelays: readonly IceServer[]): IceServer[] {
  const out: IceServer[] = [];
  const seen = new Set<string>();
  for (const s of [...user, ...fromRelays]) {
    const urls = (Array.isArray(s.urls) ? s.urls : [s.urls]).filter((u) => !seen.has(u));
    if (urls.length === 0) continue;
    for (const u of urls) seen.add(u);
    out.push({
      urls: Array.isArray(s.urls) ? urls : urls[0]!,
      ...(s.username !== undefined ? { username: s.username } : {}),
      ...(s.credential !== undefined ? { credential: s.credential } : {}),
    });
  }
  return out;
}
