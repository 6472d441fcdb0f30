// The web client served on the relay's port: content types, SPA fallback, CSP — and no way out of the directory.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectAs } from '../../helpers/relay/raw-client.js';
import { relayFixture } from '../../helpers/relay/test-relay.js';

const fixture = relayFixture();
const SECRET = 'TOP-SECRET-OUTSIDE-ROOT';
const base = mkdtempSync(join(tmpdir(), 'parley-static-'));
const root = join(base, 'site');
mkdirSync(join(root, 'assets'), { recursive: true });
writeFileSync(join(root, 'index.html'), '<!doctype html><title>Parley</title>');
writeFileSync(join(root, 'assets', 'app-1a2b.js'), 'console.log(1)');
writeFileSync(join(root, 'assets', 'style.css'), 'body{}');
writeFileSync(join(root, 'assets', 'hash.wasm'), Buffer.from([0, 97, 115, 109]));
writeFileSync(join(root, '.env'), SECRET);
writeFileSync(join(base, 'secret.txt'), SECRET);
symlinkSync(join(base, 'secret.txt'), join(root, 'link-out.txt'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Raw request: the target goes on the wire exactly as given (no URL normalisation). */
function get(port: number, target: string, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: target, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('relay static web client', () => {
  it('serves files with their content types, security headers and an SPA fallback', async () => {
    const relay = await fixture.start({ staticDir: root });
    const index = await get(relay.port, '/');
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(index.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    // As strict as the desktop's (12.6): no inline styles, and WebSockets to this relay only, not to any host.
    expect(csp).toContain("connect-src 'self';");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toMatch(/connect-src[^;]*wss?:/);
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    expect(index.headers['cross-origin-resource-policy']).toBe('same-origin');
    expect(index.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(index.headers['permissions-policy']).toContain('camera=(self)');
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.body).toContain('<title>Parley</title>');

    const js = await get(relay.port, '/assets/app-1a2b.js?v=1');
    expect(js).toMatchObject({ status: 200, body: 'console.log(1)' });
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toContain('immutable');
    expect((await get(relay.port, '/assets/style.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await get(relay.port, '/assets/hash.wasm')).headers['content-type']).toBe('application/wasm');

    const route = await get(relay.port, '/contacts/alice');
    expect(route.status).toBe(200);
    expect(route.body).toBe(index.body);
    expect((await get(relay.port, '/assets/missing.js')).status).toBe(404);

    const head = await get(relay.port, '/', 'HEAD');
    expect(head).toMatchObject({ status: 200, body: '' });
    expect(Number(head.headers['content-length'])).toBe(index.body.length);
    const post = await get(relay.port, '/', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');

    // The relay endpoint shares the port.
    const { client } = await connectAs(relay.url);
    fixture.track(client);
  });

  it('refuses every path that would leave the directory or reveal a dotfile', async () => {
    const relay = await fixture.start({ staticDir: root });
    const attempts = [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E/secret.txt',
      '/..%2fsecret.txt',
      '/assets/..%2F..%2Fsecret.txt',
      '/%2e%2e%5csecret.txt',
      '/..%5csecret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '/%252e%252e/secret.txt',
      '/..%00/secret.txt',
      '/.env',
      '/%2eenv',
      '/link-out.txt',
      '/assets/%c0%ae%c0%ae/secret.txt',
      `/${'%2e%2e/'.repeat(20)}etc/passwd`,
    ];
    for (const target of attempts) {
      const reply = await get(relay.port, target);
      expect(reply.body, target).not.toContain(SECRET);
      expect(reply.body, target).not.toContain('root:');
      expect([400, 404], target).toContain(reply.status);
    }
  });

  it('answers 404 on every HTTP path when no static directory is configured', async () => {
    const relay = await fixture.start();
    expect((await get(relay.port, '/')).status).toBe(404);
    expect((await get(relay.port, '/index.html')).status).toBe(404);
  });
});
