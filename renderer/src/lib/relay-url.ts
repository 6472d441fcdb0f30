// Where the web client finds its relay by default: the relay that served the page, at /ws.

export const RELAY_WS_PATH = '/ws';

/** ws://host/ws for an http page, wss://host/ws for https; null for other schemes (file:, app:). */
export function sameOriginRelayUrl(pageUrl: string): string | null {
  let url: URL;
  try {
    url = new URL(pageUrl);
  } catch {
    return null;
  }
  if (url.protocol === 'http:') return `ws://${url.host}${RELAY_WS_PATH}`;
  if (url.protocol === 'https:') return `wss://${url.host}${RELAY_WS_PATH}`;
  return null;
}
