// Rules for what a person publishes about themselves: display name and relay URLs.
// Shared by invites (untrusted input) and the local profile, so both accept exactly the same values.
import { MAX_RELAY_URL_CHARS, normaliseRelayUrl, type RelayUrlCheck } from '../relay/url.js';

export { MAX_RELAY_URL_CHARS };

export const MAX_NAME_CHARS = 64;
export const MAX_RELAYS = 4;

/**
 * Control characters, bidi overrides/isolates (used to make names render as someone else's),
 * line/paragraph separators, and lone surrogates. Zero-width joiners stay allowed: emoji need them.
 */
const FORBIDDEN_IN_NAME = /[\p{Cc}\u202A-\u202E\u2066-\u2069\u2028\u2029\p{Cs}]/u;

/** Returns the trimmed name, or an error message a user can read. Empty names are allowed (UI shows the id). */
export function checkDisplayName(name: string): { ok: true; value: string } | { ok: false; error: string } {
  const value = name.trim();
  if (FORBIDDEN_IN_NAME.test(value))
    return { ok: false, error: 'The name contains control or text-direction characters.' };
  const chars = [...value].length;
  if (chars > MAX_NAME_CHARS)
    return { ok: false, error: `The name is too long (${chars} characters; at most ${MAX_NAME_CHARS}).` };
  return { ok: true, value };
}

/**
 * Returns the relay URL in its one canonical form (`ws(s)://host[:port]/ws`), or an error message a user
 * can read. Accepts what people type: `host:port`, `ws://host:port`, `http(s)://host[:port]/` and the full
 * form; see normaliseRelayUrl.
 */
export function checkRelayUrl(url: string): RelayUrlCheck {
  return normaliseRelayUrl(url);
}

/** Validates and de-duplicates a relay list; returns the cleaned list or the first error. */
export function checkRelayList(
  relays: readonly string[],
): { ok: true; value: string[] } | { ok: false; error: string } {
  const out: string[] = [];
  for (const relay of relays) {
    const r = checkRelayUrl(relay);
    if (!r.ok) return r;
    if (!out.includes(r.value)) out.push(r.value);
  }
  if (out.length > MAX_RELAYS)
    return { ok: false, error: `Too many relay addresses (${out.length}; at most ${MAX_RELAYS}).` };
  return { ok: true, value: out };
}
