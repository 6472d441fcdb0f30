// The app:// scheme: maps app://parley/<path> to a file under the built renderer directory. The URL's scheme
// and origin are checked here; the path goes through the web client's one safe-path resolver
// (signaling/web-policy/paths.ts), the same the relay serves the web client with.
import {
  APP_HOST,
  APP_SCHEME,
  MAX_WEB_PATH_LENGTH,
  resolveWebPath,
  screenRawPath,
  type WebPathFs,
} from '../../signaling/web-policy/index.js';

export { MIME_TYPES, mimeTypeFor } from '../../signaling/web-policy/index.js';

export const MAX_APP_URL_LENGTH = MAX_WEB_PATH_LENGTH;

export type ResolveResult =
  { status: 200; path: string; mimeType: string } | { status: 400 | 403 | 404 | 405; error: string };

export type ResolverFs = WebPathFs;

export interface AppRequestLike {
  url: string;
  method: string;
}

/**
 * Resolves a request for the app scheme. `root` is the built renderer directory (dist/renderer).
 * Routes without an extension (client-side routes) fall back to index.html; a missing file with an
 * extension is a 404, so a broken asset reference is visible instead of answered with HTML.
 */
export async function resolveAppRequest(
  request: AppRequestLike,
  root: string,
  fs?: ResolverFs,
): Promise<ResolveResult> {
  // The renderer only ever reads its own files.
  if (request.method !== 'GET') return { status: 405, error: `method ${request.method} not allowed` };
  const raw = request.url;
  if (typeof raw !== 'string' || raw.length > MAX_APP_URL_LENGTH)
    return { status: 400, error: 'URL missing or too long' };

  const prefix = `${APP_SCHEME}://`;
  if (raw.slice(0, prefix.length).toLowerCase() !== prefix) return { status: 400, error: 'not an app:// URL' };
  // Screen the raw text (host included) before WHATWG parsing can resolve dot segments or decode anything.
  const afterScheme = raw.slice(prefix.length);
  const screened = screenRawPath(afterScheme);
  if (screened !== null) return { status: 400, error: screened };

  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { status: 400, error: 'malformed URL' };
  }
  if (
    url.protocol !== `${APP_SCHEME}:` ||
    url.hostname !== APP_HOST ||
    url.port !== '' ||
    url.username !== '' ||
    url.password !== ''
  ) {
    return { status: 403, error: `wrong origin ${url.protocol}//${url.host}` };
  }
  // The raw path after the authority, exactly as written (not url.pathname, which is already normalized).
  const authorityEnd = afterScheme.search(/[/?#]/);
  const rawPath = authorityEnd < 0 ? '' : afterScheme.slice(authorityEnd);
  const result = await resolveWebPath(rawPath.startsWith('/') ? rawPath : `/${rawPath}`, root, fs);
  if (result.status !== 200) return result;
  return { status: 200, path: result.path, mimeType: result.mimeType };
}
