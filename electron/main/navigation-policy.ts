// Navigation and window-open decisions. The window only ever shows app://parley; everything else is
// refused. External links open in the system browser only through the explicit openExternal bridge call,
// and only for plain https URLs that cannot smuggle credentials, local targets or script.
import { isIP } from 'node:net';
import { isAppUrl } from './app-origin.js';

export const MAX_EXTERNAL_URL_LENGTH = 2048;

export type NavigationDecision = { allow: true } | { allow: false; reason: string };

/** will-navigate / will-frame-navigate / will-redirect: stay inside the app's origin. */
export function decideNavigation(url: string): NavigationDecision {
  return isAppUrl(url)
    ? { allow: true }
    : { allow: false, reason: `navigation away from the app refused: ${describe(url)}` };
}

/** setWindowOpenHandler: the app never opens a second window; links go through openExternal. */
export function decideWindowOpen(): { action: 'deny' } {
  return { action: 'deny' };
}

export type ExternalUrlCheck = { ok: true; url: string } | { ok: false; reason: string };

/**
 * Validates a URL the renderer wants opened in the system browser. Only https, no user:password@,
 * no localhost or IP-literal hosts (a link must not poke at services on this machine or the LAN
 * through the user's browser), no control characters or whitespace. Returns the normalized href.
 */
export function checkExternalUrl(input: unknown): ExternalUrlCheck {
  if (typeof input !== 'string') return { ok: false, reason: 'URL must be a string' };
  if (input.length === 0 || input.length > MAX_EXTERNAL_URL_LENGTH) {
    return { ok: false, reason: `URL length must be 1..${MAX_EXTERNAL_URL_LENGTH}` };
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f-\u009f\\]/.test(input))
    return { ok: false, reason: 'URL contains whitespace, control characters or backslashes' };
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return { ok: false, reason: 'not a valid URL' };
  }
  if (url.protocol !== 'https:') return { ok: false, reason: `only https links can be opened, not ${url.protocol}` };
  if (url.username !== '' || url.password !== '') return { ok: false, reason: 'URL must not carry credentials' };
  const host = url.hostname.toLowerCase();
  if (host === '') return { ok: false, reason: 'URL has no host' };
  if (host === 'localhost' || host.endsWith('.localhost')) return { ok: false, reason: 'local hosts are refused' };
  // WHATWG parsing already turned tricks like 0x7f.1 or 2130706433 into dotted IPv4, so this catches them.
  if (isIP(host.replace(/^\[|\]$/g, '')) !== 0) return { ok: false, reason: 'IP-address hosts are refused' };
  if (!/^[a-z0-9.-]+$/.test(host) || host.startsWith('.') || host.includes('..')) {
    return { ok: false, reason: 'host name is not a plain DNS name' };
  }
  return { ok: true, url: url.href };
}

function describe(url: string): string {
  return url.length > 200 ? `${url.slice(0, 200)}…` : url;
}
