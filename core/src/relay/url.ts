// Relay addresses as people type them, turned into the one WebSocket URL a client connects to, and the
// `host[:port]` a client signs in its relay auth statement. core/ has no URL global, hence the regexes.
// Every place a relay address enters (CLI flags, invites, app settings, the web client's default) goes
// through normaliseRelayUrl, so `host:port`, `ws://host:port`, `http://host:port/` and the full
// `ws://host:port/ws` all name the same relay.

/** The path the relay serves its WebSocket endpoint on (signaling/protocol RELAY_PATH). */
export const RELAY_WS_PATH = '/ws';
export const MAX_RELAY_URL_CHARS = 512;

export type RelayUrlCheck = { ok: true; value: string } | { ok: false; error: string };

// [scheme://]host[:port][/path][?query]: ASCII host (IDNs in punycode) or a bracketed IPv6 literal; no
// user info (a `user@` part can make `wss://trusted.example@evil.example` look like the trusted host),
// no fragment, no spaces.
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;
const REST =
  /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::(\d{1,5}))?((?:\/[!$&'()*+,;=:@%A-Za-z0-9._~-]*)*)(\?[!$&'()*+,;=:@%/?A-Za-z0-9._~-]*)?$/;
const SCHEMES: Record<string, 'ws' | 'wss'> = { ws: 'ws', wss: 'wss', http: 'ws', https: 'wss' };

/**
 * Accepts `host[:port]`, `ws(s)://host[:port][/]`, `http(s)://host[:port][/]` and full URLs with a path;
 * returns `ws(s)://host[:port]/ws` (scheme and host in lower case; a path other than `/` is kept, for
 * relays behind a proxy), or an error message a user can read.
 * Without a scheme: `wss://` when the port is 443 or absent, else `ws://` (a relay on a bare port is
 * usually a plain one on a LAN or loopback; TLS relays are handed out as wss:// or https:// links).
 */
export function normaliseRelayUrl(input: string): RelayUrlCheck {
  const url = input.trim();
  const shown = url.length > 80 ? `${url.slice(0, 77)}...` : url;
  if (url.length === 0) return { ok: false, error: 'The relay address is empty.' };
  if (url.length > MAX_RELAY_URL_CHARS)
    return { ok: false, error: `A relay address is too long (at most ${MAX_RELAY_URL_CHARS} characters).` };
  const s = SCHEME.exec(url);
  let scheme: 'ws' | 'wss' | null = null;
  if (s) {
    scheme = SCHEMES[s[1]!.toLowerCase()] ?? null;
    if (scheme === null)
      return { ok: false, error: `A relay address starts with ws://, wss://, http:// or https:// (got "${shown}").` };
  }
  const rest = s ? url.slice(s[0].length) : url;
  if (/^[^/?#]*@/.test(rest))
    return { ok: false, error: `The relay address "${shown}" must not contain a user name (user@host).` };
  const m = REST.exec(rest);
  if (!m)
    return {
      ok: false,
      error: `"${shown}" is not a valid relay address (expected host:port, ws://host:port or wss://host).`,
    };
  const [, host, port, rawPath = '', query = ''] = m;
  if (port !== undefined) {
    const n = Number(port);
    if (n < 1 || n > 65535) return { ok: false, error: `The relay address "${shown}" has an invalid port.` };
  }
  if (scheme === null) scheme = port === undefined || port === '443' ? 'wss' : 'ws';
  const path = rawPath === '' || rawPath === '/' ? RELAY_WS_PATH : rawPath;
  return {
    ok: true,
    value: `${scheme}://${host!.toLowerCase()}${port !== undefined ? `:${port}` : ''}${path}${query}`,
  };
}

/** The relay a web page served by a relay over http(s) uses by default; null for other pages (file:, app:). */
export function sameOriginRelayUrl(pageUrl: string): string | null {
  const m = /^(https?):\/\/([^/?#]+)/i.exec(pageUrl);
  if (!m) return null;
  const r = normaliseRelayUrl(`${m[1]}://${m[2]}/`);
  return r.ok ? r.value : null;
}

/** The `host[:port]` a client signs: what its WebSocket library puts in the Host header (default ports omitted, lower case). */
export function relayHostOf(url: string): string {
  const m = /^(wss?):\/\/([^/?#]+)/i.exec(url);
  if (!m) throw new Error(`not a relay URL: ${url.slice(0, 80)}`);
  const scheme = m[1]!.toLowerCase();
  let host = m[2]!.toLowerCase();
  if (host.includes('@')) throw new Error('relay URL must not contain user info');
  if ((scheme === 'ws' && host.endsWith(':80')) || (scheme === 'wss' && host.endsWith(':443'))) {
    host = host.slice(0, host.lastIndexOf(':'));
  }
  return host;
}
