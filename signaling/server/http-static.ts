// Serves the built web client from one directory: GET/HEAD only, with the web client's one policy
// (signaling/web-policy: CSP, security headers, MIME types, and the safe-path resolver that keeps every
// request inside the directory: no "..", no encoded separators, no dotfiles, no symlinks leading out).
// Unknown extension-less paths get index.html so client-side routes survive a reload.
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { contentSecurityPolicy, resolveWebPath, securityHeaders } from '../web-policy/index.js';

/** The policy of the web client as this relay serves it: connect-src is the relay's own origin only. */
export const CONTENT_SECURITY_POLICY = contentSecurityPolicy('relay');

const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze(securityHeaders('relay'));

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

export function sendStatus(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  const body = `${status} ${text}\n`;
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

async function serve(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendStatus(res, 405, 'Method Not Allowed', { Allow: 'GET, HEAD' });
    return;
  }
  const file = await resolveWebPath(req.url ?? '', root);
  if (file.status !== 200 || file.size === undefined) {
    // Every refusal looks the same from outside: what exists on the server is nobody's business.
    sendStatus(res, 404, 'Not Found');
    return;
  }
  const isHtml = file.mimeType.startsWith('text/html');
  const immutable = !isHtml && file.path.startsWith(`${root}/assets/`);
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'Content-Type': file.mimeType,
    'Content-Length': file.size,
    // Vite fingerprints everything under assets/; index.html must be revalidated to pick up new builds.
    'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(file.path);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}
