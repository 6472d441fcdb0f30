// Maps a request path to a file of the built web client, for app:// and the relay alike. Defence in depth
// against path traversal: the raw path is screened before anything decodes or normalizes it, every decoded
// segment is checked (no "." or "..", no dotfiles, no separators, no control characters), the joined path must
// stay under the root, and so must its realpath (symlinks followed).
import { realpath as fsRealpath, stat as fsStat } from 'node:fs/promises';
import { extname, isAbsolute, join, relative, sep } from 'node:path';
import { mimeTypeFor } from './mime.js';

export const MAX_WEB_PATH_LENGTH = 4096;

export type WebPathResult =
  | { status: 200; path: string; mimeType: string; size: number | undefined }
  | { status: 400 | 403 | 404; error: string };

export interface WebPathFs {
  realpath(path: string): Promise<string>;
  /** isFile() is read, and size when present. */
  stat(path: string): Promise<{ isFile(): boolean; size?: number }>;
}

const nodeFs: WebPathFs = { realpath: fsRealpath, stat: fsStat };

/**
 * Screens a raw request path (with its query and fragment, exactly as it arrived): backslashes, NUL, control
 * characters, encoded separators and dot segments never appear in a legitimate asset URL.
 */
export function screenRawPath(raw: string): string | null {
  // eslint-disable-next-line no-control-regex
  if (/[\\\u0000-\u001f\u007f]/.test(raw)) return 'backslash or control character in URL';
  if (/%(?:00|2f|5c)/i.test(raw)) return 'encoded separator or NUL in URL';
  if (/(?:^|\/)(?:\.|%2e){1,2}(?:\/|$|\?|#)/i.test(raw)) return 'dot segment in URL';
  return null;
}

/**
 * Resolves `rawPath` ("/assets/x.js?v=1", "/" or "") under `root`. Routes without an extension (client-side
 * routes) get index.html; a missing file with an extension is a 404, so a broken asset reference is visible
 * instead of answered with HTML.
 */
export async function resolveWebPath(rawPath: string, root: string, fs: WebPathFs = nodeFs): Promise<WebPathResult> {
  if (rawPath.length > MAX_WEB_PATH_LENGTH) return { status: 400, error: 'URL too long' };
  if (rawPath !== '' && !rawPath.startsWith('/')) return { status: 400, error: 'path must start with /' };
  const screened = screenRawPath(rawPath);
  if (screened !== null) return { status: 400, error: screened };
  const end = rawPath.search(/[?#]/);
  const encodedSegments = (end < 0 ? rawPath : rawPath.slice(0, end)).split('/').slice(1);

  const segments: string[] = [];
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
    // Decoded once only: a double-encoded "%252e%252e" becomes the literal name "%2e%2e", harmless, but
    // refused all the same because no asset is named like that. Dotfiles (.env, .git) are never served.
    // eslint-disable-next-line no-control-regex
    if (segment.startsWith('.') || /[\\/:\u0000-\u001f\u007f]/.test(segment) || /%[0-9a-f]{2}/i.test(segment)) {
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
    return { status: 404, error: 'the web client is not built' };
  }
  const candidate = join(realRoot, relPath);
  if (!isInside(realRoot, candidate)) return { status: 403, error: 'path escapes the web client directory' };

  let real: string;
  try {
    real = await fs.realpath(candidate);
  } catch {
    return { status: 404, error: 'not found' };
  }
  // A symlink inside the directory must not lead out of it.
  if (!isInside(realRoot, real)) return { status: 403, error: 'path escapes the web client directory' };
  let size: number | undefined;
  try {
    const st = await fs.stat(real);
    if (!st.isFile()) return { status: 404, error: 'not a file' };
    size = st.size;
  } catch {
    return { status: 404, error: 'not found' };
  }
  return { status: 200, path: real, mimeType: mimeTypeFor(real), size };
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}
