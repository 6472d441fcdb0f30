// The `host[:port]` a client signs in its relay auth statement: what its WebSocket library puts in the
// HTTP Host header for this URL (default ports omitted, lower case). core/ has no URL global.
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
