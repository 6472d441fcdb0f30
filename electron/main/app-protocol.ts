// The app:// scheme: maps app://parley/<path> to a file under the built renderer directory.
// Defence in depth against path traversal: the raw URL is screened before WHATWG parsing can normalize
// anything away, every decoded segment is checked, the joined path must stay under the root, and the
// realpath (symlinks followed) must stay under the realpath of the root.
import { realpath as fsRealpath, stat as fsStat } from 'node:fs/promises';
import { extname, isAbsolute, join, relative, sep } from 'node:path';
import { APP_HOST, APP_SCHEME } from './app-origin.js';

export const MIME_TYPES: Readonly<Record<string, string>> = Object.freeze({
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  // WebAssembly.instantiateStreaming insists on this type.
  '.wasm': 'application/wasm',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
  '.oga': 'audio/ogg',
  '.wav': 'audio/wav',
  '.webm': 'video/webm',
  '.mp4': 'video/mp4',
});

export const MAX_APP_URL_LENGTH = 4096;

export type ResolveResult =
  | { status: 200; path: string; mimeType: string }
  | { status: 400 | 403 | 404 | 405; error: string };

export interface ResolverFs {
  realpath(path: string): Promise<string>;
  /** Only isFile() is read. */
  stat(path: string): Promise<{ isFile(): boolean }>;
}

const nodeFs: ResolverFs = { realpath: fsRealpath, stat: fsStat };

export interface AppRequestLike {
  url: string;
  method: string;
}

export function mimeTypeFor(path: string): string {
  return MIME_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Resolves a request for the app scheme. `root` is the built renderer directory (dist/renderer).
 * Routes without an extension (client-side routes) fall back to index.html; a missing file with an
 * extension is a 404, so a broken asset reference is visible instead of answered with HTML.
 */
export async function resolveAppRequest(request: AppRequestLike, root: string, fs: ResolverFs = nodeFs): Promise<ResolveResult> {
  // The renderer only ever reads its own files.
  if (request.method !== 'GET') return { status: 405, error: `method ${request.method} not allowed` };
  const raw = request.url;
  if (typeof raw !== 'string' || raw.length > MAX_APP_URL_LENGTH) return { status: 400, error: 'URL missing or too long' };

  const prefix = `${APP_SCHEME}://`;
  if (raw.slice(0, prefix.length).toLowerCase() !== prefix) return { status: 400, error: 'not an app:// URL' };
  // Screen the raw path (before any parser resolves dot segments or decodes): backslashes, NUL, control
  // characters and encoded separators never appear in a legitimate asset URL.
  const afterScheme = raw.slice(prefix.length);
  // eslint-disable-next-line no-control-regex
  if (/[\\\u0000-\u001f\u007f]/.test(afterScheme)) return { status: 400, error: 'backslash or control character in URL' };
  if (/%(?:00|2f|5c)/i.test(afterScheme)) return { status: 400, error: 'encoded separator or NUL in URL' };
  if (/(?:^|\/)(?:\.|%2e){1,2}(?:\/|$|\?|#)/i.test(afterScheme)) return { status: 400, error: 'dot segment in URL' };

  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { status: 400, error: 'malformed URL' };
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.hostname !== APP_HOST || url.port !== '' || url.username !== '' || url.password !== '') {
    return { status: 403, error: `wrong origin ${url.protocol}//${url.host}` };
  }

  const segments: string[] = [];
  const encodedSegments = url.pathname.split('/').slice(1);
  for (const [i, encoded] of encodedSegments.entries()) {
    if (encoded === '') {
      // Only a trailing slash may leave an empty segment; "//" never appears in an asset URL.
      if (i === encodedSegments.length - 1) continue;
      return { status: 400, error: 'empty path segment' };
    }
    let segment: string;
    try {
      segment = decodeURIComponent(encoded);
    } catch {
      return { status: 400, error: 'malformed percent-encoding' };
    }
    // Decoding once only: a double-encoded "%252e%252e" becomes the literal name "%2e%2e", which is
    // harmless, but it is still refused because no asset is named like that.
    // eslint-disable-next-line no-control-regex
    if (segment === '.' || segment === '..' || /[\\/:\u0000-\u001f\u007f]/.test(segment) || /%[0-9a-f]{2}/i.test(segment)) {
      return { status: 400, error: 'forbidden path segment' };
    }
    segments.push(segment);
  }

  const last = segments.at(-1);
  const isRoute = last === undefined || extname(last) === '';
  const relPath = isRoute ? 'index.html' : join(...segments);
  if (isAbsolute(relPath)) return { status: 400, error: 'absolute path' };

  let realRoot: string;
  try {
    realRoot = await fs.realpath(root);
  } catch {
    return { status: 404, error: 'renderer is not built' };
  }
  const candidate = join(realRoot, relPath);
  if (!isInside(realRoot, candidate)) return { status: 403, error: 'path escapes the app directory' };

  let real: string;
  try {
    real = await fs.realpath(candidate);
  } catch {
    return { status: 404, error: 'not found' };
  }
  // A symlink inside the renderer directory must not lead out of it.
  if (!isInside(realRoot, real)) return { status: 403, error: 'path escapes the app directory' };
  try {
    if (!(await fs.stat(real)).isFile()) return { status: 404, error: 'not a file' };
  } catch {
    return { status: 404, error: 'not found' };
  }
  return { status: 200, path: real, mimeType: mimeTypeFor(real) };
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}
