// The renderer's one origin. Everything the app trusts (IPC senders, permission requests, navigation)
// is compared against it by parsing the URL, never by string prefix (`app://parley.evil` must not pass).

import { APP_HOST, APP_ORIGIN, APP_SCHEME } from '../../signaling/web-policy/index.js';

export { APP_HOST, APP_ORIGIN, APP_SCHEME };
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/** True when `url` is a URL of the app's own origin (app://parley, no port, no credentials). */
export function isAppUrl(url: string | null | undefined): boolean {
  if (typeof url !== 'string' || url.length === 0 || url.length > 8192) return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  // Node and Chromium both give "null" as the origin of a non-special scheme, so compare the parts.
  return (
    parsed.protocol === `${APP_SCHEME}:` &&
    parsed.hostname === APP_HOST &&
    parsed.port === '' &&
    parsed.username === '' &&
    parsed.password === ''
  );
}

/** True when an origin string (as Chromium reports it, e.g. for permission checks) is the app's. */
export function isAppOrigin(origin: string | null | undefined): boolean {
  return origin === APP_ORIGIN || origin === `${APP_ORIGIN}/`;
}
