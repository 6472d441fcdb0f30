// Rules for what a person publishes about themselves: display name and relay URLs.
// Shared by invites (untrusted input) and the local profile, so both accept exactly the same values.

export const MAX_NAME_CHARS = 64;
export const MAX_RELAYS = 4;
export const MAX_RELAY_URL_CHARS = 512;

/**
 * Control characters, bidi overrides/isolates (used to make names render as someone else's),
 * line/paragraph separators, and lone surrogates. Zero-width joiners stay allowed: emoji need them.
 */
const FORBIDDEN_IN_NAME = /[\p{Cc}\u202A-\u202E\u2066-\u2069\u2028\u2029\p{Cs}]/u;

/** Returns the trimmed name, or an error message a user can read. Empty names are allowed (UI shows the id). */
export function checkDisplayName(name: string): { ok: true; value: string } | { ok: false; error: string } {
  const value = name.trim();
  if (FORBIDDEN_IN_NAME.test(value)) return { ok: false, error: 'The name contains control or text-direction characters.' };
  const chars = [...value].length;
  if (chars > MAX_NAME_CHARS) return { ok: false, error: `The name is too long (${chars} characters; at most ${MAX_NAME_CHARS}).` };
  return { ok: true, value };
}

// ws(s)://host[:port][/path][?query]: ASCII host (IDNs in punycode), no user info (a `user@` part can
// make `wss://trusted.example@evil.example` look like the trusted host), no fragment, no spaces.
const RELAY_URL = /^(wss?):\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::(\d{1,5}))?((?:\/[!$&'()*+,;=:@%A-Za-z0-9._~-]*)*)(\?[!$&'()*+,;=:@%/?A-Za-z0-9._~-]*)?$/i;

/** Returns the relay URL with scheme and host in lower case, or an error message a user can read. */
export function checkRelayUrl(url: string): { ok: true; value: string } | { ok: false; error: string } {
  const shown = url.length > 80 ? `${url.slice(0, 77)}...` : url;
  if (url.length > MAX_RELAY_URL_CHARS) return { ok: false, error: `A relay address is too long (at most ${MAX_RELAY_URL_CHARS} characters).` };
  if (!/^wss?:\/\//i.test(url)) return { ok: false, error: `A relay address must start with ws:// or wss:// (got "${shown}").` };
  const m = RELAY_URL.exec(url);
  if (!m) return { ok: false, error: `"${shown}" is not a valid relay address (expected ws://host[:port]/path or wss://...).` };
  const [, scheme, host, port, path = '', query = ''] = m;
  if (port !== undefined) {
    const n = Number(port);
    if (n < 1 || n > 65535) return { ok: false, error: `The relay address "${shown}" has an invalid port.` };
  }
  return { ok: true, value: `${scheme!.toLowerCase()}://${host!.toLowerCase()}${port !== undefined ? `:${port}` : ''}${path}${query}` };
}

/** Validates and de-duplicates a relay list; returns the cleaned list or the first error. */
export function checkRelayList(relays: readonly string[]): { ok: true; value: string[] } | { ok: false; error: string } {
  const out: string[] = [];
  for (const relay of relays) {
    const r = checkRelayUrl(relay);
    if (!r.ok) return r;
    if (!out.includes(r.value)) out.push(r.value);
  }
  if (out.length > MAX_RELAYS) return { ok: false, error: `Too many relay addresses (${out.length}; at most ${MAX_RELAYS}).` };
  return { ok: true, value: out };
}
