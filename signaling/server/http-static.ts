// Serves the built web client from one directory: GET/HEAD only, no path can leave the directory (no "..",
// no encoded slashes, no dotfiles, no symlinks pointing outside), and unknown extension-less paths get
// index.html so client-side routes survive a reload.
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, sep } from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
  '.wav': 'audio/wav',
  '.webm': 'video/webm',
  '.mp4': 'video/mp4',
};

/**
 * The web client talks to relays anywhere (invites name them), hence ws:/wss: in connect-src;
 * hash-wasm compiles WebAssembly, hence 'wasm-unsafe-eval'; nothing else is loaded from elsewhere.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob: mediastream:",
  "font-src 'self'",
  "connect-src 'self' ws: wss:",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
};

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Resolves `dir` once (it must exist) and returns the request handler. */
export async function createStaticHandler(dir: string): Promise<RequestHandler> {
  const root = await realpath(dir);
  const rootStat = await stat(root);
  if (!rootStat.isDirectory()) throw new Error(`static directory ${dir} is not a directory`);
  return (req, res) => {
    serve(root, req, res).catch(() => {
      if (!res.headersSent) sendStatus(res, 500, 'Internal Server Error');
      else res.destroy();
    });
  };
}

export function sendStatus(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  const body = `${status} ${text}\n`;
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** Maps a request target to a path relative to the root, or null when it must be refused. */
export function safeRelativePath(target: string | undefined): string | null {
  if (!target || !target.startsWith('/')) return null;
  const q = target.search(/[?#]/);
  const encoded = q < 0 ? target : target.slice(0, q);
  // Encoded separators and NUL would let a segment carry a path of its own.
  if (/%(2f|5c|00)/i.test(encoded) || encoded.includes('\\')) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(encoded);
  } catch {
    return null;
  }
  const segments = decoded.split('/').filter((s) => s !== '');
  for (const s of segments) {
    // ".." anywhere, and dotfiles (.git, .env), are refused rather than normalised away.
    if (s.startsWith('.') || s.includes('\0')) return null;
  }
  return segments.join('/');
}

async function serve(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendStatus(res, 405, 'Method Not Allowed', { Allow: 'GET, HEAD' });
    return;
  }
  const rel = safeRelativePath(req.url);
  if (rel === null) {
    sendStatus(res, 404, 'Not Found');
    return;
  }
  let file = await resolveFile(root, rel === '' ? 'index.html' : rel);
  if (file === null && extname(rel) === '') file = await resolveFile(root, 'index.html'); // client-side route
  if (file === null) {
    sendStatus(res, 404, 'Not Found');
    return;
  }
  const type = CONTENT_TYPES[extname(file.path).toLowerCase()] ?? 'application/octet-stream';
  const isHtml = type.startsWith('text/html');
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'Content-Type': type,
    'Content-Length': file.size,
    // Vite fingerprints everything under assets/; index.html must be revalidated to pick up new builds.
    'Cache-Control': !isHtml && rel.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(file.path);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

/** The real path of a regular file inside root, or null (missing, a directory, or a symlink leaving root). */
async function resolveFile(root: string, rel: string): Promise<{ path: string; size: number } | null> {
  try {
    const real = await realpath(join(root, rel));
    if (real !== root && !real.startsWith(root + sep)) return null;
    const st = await stat(real);
    if (!st.isFile()) return null;
    return { path: real, size: st.size };
  } catch {
    return null;
  }
}
