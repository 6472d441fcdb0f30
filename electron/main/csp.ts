// The renderer's Content-Security-Policy and the other response headers app:// serves.
//
// Choices, checked against what the renderer stack actually emits:
// - script-src 'self' 'wasm-unsafe-eval': Vite emits external module scripts only; hash-wasm (streaming
//   SHA-256 for files, core/src/transfer/hash.ts) compiles WebAssembly, which needs 'wasm-unsafe-eval' — never 'unsafe-eval'.
// - style-src 'self', no 'unsafe-inline': Svelte 5 (css: 'external', the default) emits CSS files and sets
//   dynamic styles through CSSOM, which CSP does not block. A static `style="..."` in markup would be
//   dropped; the renderer's own meta policy (renderer/index.html) is equally strict, so both agree.
// - connect-src 'self' ws: wss:: relays are named by contacts' invites at run time (the engine reaches each
//   contact at its own relay), so a fixed list would break the app; the policy is per document load and
//   cannot follow the contact list. Plain http(s) fetches stay limited to the app itself.
// - media-src/img-src allow blob:, mediastream: and data: for call views, QR codes and image previews.

export const CSP_DIRECTIVES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  'default-src': ["'self'"],
  'script-src': ["'self'", "'wasm-unsafe-eval'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:', 'blob:'],
  'media-src': ["'self'", 'blob:', 'mediastream:'],
  'font-src': ["'self'", 'data:'],
  'connect-src': ["'self'", 'ws:', 'wss:'],
  'worker-src': ["'self'"],
  'object-src': ["'none'"],
  'frame-src': ["'none'"],
  'child-src': ["'none'"],
  'manifest-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
});

export function buildCsp(directives: Readonly<Record<string, readonly string[]>> = CSP_DIRECTIVES): string {
  return Object.entries(directives)
    .map(([name, sources]) => `${name} ${sources.join(' ')}`)
    .join('; ');
}

export const CONTENT_SECURITY_POLICY = buildCsp();

/** Headers on every app:// response. */
export function securityHeaders(): Record<string, string> {
  return {
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Referrer-Policy': 'no-referrer',
    'Permissions-Policy': 'camera=(self), microphone=(self), display-capture=(), geolocation=(), usb=(), serial=(), hid=(), bluetooth=(), payment=()',
    'Cache-Control': 'no-cache',
  };
}

/**
 * session.webRequest.onHeadersReceived: any response that is not the app's own (there should be none
 * rendered, navigation is refused) still gets the policy, so no document in this session runs without it.
 */
export function withCspHeader(responseHeaders: Record<string, string | string[]> | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(responseHeaders ?? {})) {
    if (k.toLowerCase() === 'content-security-policy') continue;
    out[k] = Array.isArray(v) ? v : [v];
  }
  out['Content-Security-Policy'] = [CONTENT_SECURITY_POLICY];
  return out;
}
