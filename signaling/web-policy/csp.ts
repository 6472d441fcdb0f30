// The web client's Content-Security-Policy, for each place it is served from, and the <meta> policy built into
// renderer/index.html (checked against this source by tests/unit/signaling/web-policy.test.ts).
//
// Choices, checked against what the renderer stack emits:
// - script-src 'self' 'wasm-unsafe-eval': Vite emits external module scripts only; hash-wasm (streaming SHA-256
//   of files) compiles WebAssembly, which needs 'wasm-unsafe-eval' — never 'unsafe-eval'.
// - style-src 'self', no 'unsafe-inline': Svelte 5 (css: 'external', the default for a Vite build) emits CSS
//   files, and sets dynamic styles (style: directives, style={...}) through CSSOM (element.style), which CSP does
//   not govern. Nothing in renderer/src writes a static style="..." attribute (a test keeps it so), so inline
//   styles are not needed anywhere.
// - connect-src: the desktop app reaches each contact at the relay its invite names, known only at run time,
//   hence ws: wss: there. The web client a relay serves talks to that relay only: 'self', which in CSP 3 also
//   matches ws:/wss: on the page's own host and port.
// - default-src 'none': every kind of fetch the client makes is listed; anything new is refused until added.
// - media-src/img-src allow blob:, mediastream: and data: for call views, QR codes and image previews.

/** Where the web client runs: the desktop app (app://parley) or a page served by a relay. */
export type WebClientHost = 'desktop' | 'relay';

export type CspDirectives = Readonly<Record<string, readonly string[]>>;

const COMMON: CspDirectives = {
  'default-src': ["'none'"],
  'script-src': ["'self'", "'wasm-unsafe-eval'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:', 'blob:'],
  'media-src': ["'self'", 'blob:', 'mediastream:'],
  'font-src': ["'self'"],
  'connect-src': ["'self'"],
  'worker-src': ["'self'"],
  'object-src': ["'none'"],
  'frame-src': ["'none'"],
  'child-src': ["'none'"],
  'manifest-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
};

/** Directives a <meta> policy cannot carry (browsers ignore them there): sent as headers only. */
const HEADER_ONLY = new Set(['frame-ancestors', 'report-uri', 'sandbox']);

export function cspDirectives(host: WebClientHost): CspDirectives {
  return Object.freeze({ ...COMMON, 'connect-src': host === 'desktop' ? ["'self'", 'ws:', 'wss:'] : ["'self'"] });
}

export function cspText(directives: CspDirectives): string {
  return Object.entries(directives)
    .map(([name, sources]) => `${name} ${sources.join(' ')}`)
    .join('; ');
}

/** The Content-Security-Policy header for the web client served from `host`. */
export function contentSecurityPolicy(host: WebClientHost): string {
  return cspText(cspDirectives(host));
}

/**
 * The policy renderer/index.html carries in its <meta>: the same document is served by app:// and by relays,
 * so it is the desktop's (the looser connect-src); each server's header narrows it further, as policies
 * combine by intersection. Header-only directives are left out.
 */
export function metaContentSecurityPolicy(): string {
  const directives = Object.entries(cspDirectives('desktop')).filter(([name]) => !HEADER_ONLY.has(name));
  return cspText(Object.fromEntries(directives));
}
