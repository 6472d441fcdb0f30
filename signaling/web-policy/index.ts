// One policy for serving the web client (issue 13.5): CSP, security headers, MIME types and the safe-path
// resolver, used by Electron's app:// handler and by the relay's HTTP server, and the source of the <meta>
// policy in renderer/index.html.
export * from './app-origin.js';
export * from './csp.js';
export * from './headers.js';
export * from './mime.js';
export * from './paths.js';
