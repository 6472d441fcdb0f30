// The renderer's Content-Security-Policy and the other response headers app:// serves: the desktop flavour of
// the one web-client policy in signaling/web-policy (the relay serves the same client with the same source).
import {
  contentSecurityPolicy,
  cspDirectives,
  securityHeaders as webSecurityHeaders,
} from '../../signaling/web-policy/index.js';

export const CSP_DIRECTIVES = cspDirectives('desktop');

export const CONTENT_SECURITY_POLICY = contentSecurityPolicy('desktop');

/** Headers on every app:// response. */
export function securityHeaders(): Record<string, string> {
  return { ...webSecurityHeaders('desktop'), 'Cache-Control': 'no-cache' };
}

/**
 * session.webRequest.onHeadersReceived: any response that is not the app's own (there should be none
 * rendered, navigation is refused) still gets the policy, so no document in this session runs without it.
 */
export function withCspHeader(
  responseHeaders: Record<string, string | string[]> | undefined,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(responseHeaders ?? {})) {
    if (k.toLowerCase() === 'content-security-policy') continue;
    out[k] = Array.isArray(v) ? v : [v];
  }
  out['Content-Security-Policy'] = [CONTENT_SECURITY_POLICY];
  return out;
}
