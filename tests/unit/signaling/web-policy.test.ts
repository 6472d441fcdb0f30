// The one policy for serving the web client (issues 12.6, 13.5): the CSP each server sends, the <meta> policy in
// renderer/index.html, the security headers, and the safe-path resolver app:// and the relay both use.
import { readdirSync, readFileSync } from 'node:fs';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CONTENT_SECURITY_POLICY as DESKTOP_CSP,
  securityHeaders as desktopHeaders,
} from '../../../electron/main/csp.js';
import { CONTENT_SECURITY_POLICY as RELAY_CSP } from '../../../signaling/server/index.js';
import {
  contentSecurityPolicy,
  metaContentSecurityPolicy,
  resolveWebPath,
  securityHeaders,
} from '../../../signaling/web-policy/index.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

function parse(policy: string): Map<string, string[]> {
  return new Map(
    policy
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .map(([name, ...sources]) => [name!, sources]),
  );
}

describe('content security policy, one source', () => {
  it('renderer/index.html carries exactly the generated <meta> policy', () => {
    const html = readFileSync(join(repo, 'renderer/index.html'), 'utf8');
    const metas = [...html.matchAll(/<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"/g)].map(
      (m) => m[1],
    );
    expect(metas).toEqual([metaContentSecurityPolicy()]);
  });

  it('is what app:// and the relay send', () => {
    expect(DESKTOP_CSP).toBe(contentSecurityPolicy('desktop'));
    expect(RELAY_CSP).toBe(contentSecurityPolicy('relay'));
    expect(desktopHeaders()['Content-Security-Policy']).toBe(DESKTOP_CSP);
  });

  it('differs between the two only in connect-src: the relay-served client talks to its own relay only', () => {
    const desktop = parse(contentSecurityPolicy('desktop'));
    const relay = parse(contentSecurityPolicy('relay'));
    expect(relay.get('connect-src')).toEqual(["'self'"]);
    expect(desktop.get('connect-src')).toEqual(["'self'", 'ws:', 'wss:']);
    desktop.delete('connect-src');
    relay.delete('connect-src');
    expect(relay).toEqual(desktop);
  });

  it('allows no inline style or script and no eval anywhere', () => {
    for (const policy of [
      contentSecurityPolicy('desktop'),
      contentSecurityPolicy('relay'),
      metaContentSecurityPolicy(),
    ]) {
      expect(policy).not.toContain("'unsafe-inline'");
      expect(policy).not.toContain("'unsafe-eval'");
      expect(parse(policy).get('style-src')).toEqual(["'self'"]);
    }
    // Only header policies can forbid framing; <meta> ignores frame-ancestors.
    expect(parse(contentSecurityPolicy('relay')).get('frame-ancestors')).toEqual(["'none'"]);
    expect(metaContentSecurityPolicy()).not.toContain('frame-ancestors');
  });

  it("holds because the renderer never writes a style attribute (Svelte's style: directives go through CSSOM)", () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (/\.(svelte|ts)$/.test(entry.name)) {
          const text = readFileSync(path, 'utf8');
          if (/\sstyle\s*=\s*["'{]/.test(text) || /setAttribute\(\s*['"]style['"]/.test(text)) offenders.push(path);
        }
      }
    };
    walk(join(repo, 'renderer/src'));
    expect(offenders).toEqual([]);
  });
});

describe('security headers', () => {
  it.each(['desktop', 'relay'] as const)(
    '%s: nosniff, COOP, CORP, Permissions-Policy, no referrer, no framing',
    (host) => {
      const h = securityHeaders(host);
      expect(h).toMatchObject({
        'X-Content-Type-Options': 'nosniff',
        'Cross-Origin-Opener-Policy': 'same-origin',
        'Cross-Origin-Resource-Policy': 'same-origin',
        'Referrer-Policy': 'no-referrer',
        'X-Frame-Options': 'DENY',
      });
      expect(h['Permissions-Policy']).toMatch(
        /camera=\(self\), microphone=\(self\), display-capture=\(\), geolocation=\(\)/,
      );
    },
  );
});

describe('resolveWebPath', () => {
  const base = mkdtempSync(join(tmpdir(), 'parley-web-path-'));
  const root = join(base, 'site');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html>');
  writeFileSync(join(root, 'assets', 'app.js'), 'export {}');
  writeFileSync(join(root, 'assets', 'a b.css'), 'a{}');
  writeFileSync(join(root, '.env'), 'SECRET');
  writeFileSync(join(base, 'secret.txt'), 'SECRET');
  symlinkSync(join(base, 'secret.txt'), join(root, 'assets', 'out.txt'));
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('maps plain paths, with their MIME type and size, and routes to index.html', async () => {
    expect(await resolveWebPath('/assets/app.js?x=1#y', root)).toMatchObject({
      status: 200,
      path: join(root, 'assets/app.js'),
      mimeType: 'text/javascript; charset=utf-8',
      size: 9,
    });
    expect(await resolveWebPath('/assets/a%20b.css', root)).toMatchObject({
      status: 200,
      mimeType: 'text/css; charset=utf-8',
    });
    for (const route of ['', '/', '/chat', '/contacts/abc/'])
      expect(await resolveWebPath(route, root), route).toMatchObject({ status: 200, path: join(root, 'index.html') });
    expect(await resolveWebPath('/assets/missing.js', root)).toMatchObject({ status: 404 });
  });

  it('refuses escapes, encoded separators, dotfiles and symlinks leading out', async () => {
    for (const bad of [
      '/../x.txt',
      '/a/../../x.txt',
      '/%2e%2e/secret.txt',
      '/a%2fb.txt',
      '/a%5cb.txt',
      '/a\\b.txt',
      '/%00',
      '/.env',
      '/%2eenv',
      '//assets/app.js',
      '/%E0%A4%A',
      '/%252e%252e/secret.txt',
      'x',
      '/assets/out.txt',
    ]) {
      const r = await resolveWebPath(bad, root);
      expect(r.status, bad).not.toBe(200);
    }
    expect(await resolveWebPath('/assets/out.txt', root)).toMatchObject({ status: 403 });
  });
});
