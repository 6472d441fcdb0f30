import { describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, CSP_DIRECTIVES, securityHeaders, withCspHeader } from '../../../electron/main/csp.js';

function parse(policy: string): Map<string, string[]> {
  return new Map(
    policy
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .map(([name, ...sources]) => [name!, sources]),
  );
}

describe('content security policy', () => {
  const csp = parse(CONTENT_SECURITY_POLICY);

  it('has one entry per directive, all well formed', () => {
    expect(csp.size).toBe(Object.keys(CSP_DIRECTIVES).length);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/[\r\n,]/);
  });

  it('runs only the app’s own scripts, never eval', () => {
    expect(csp.get('default-src')).toEqual(["'none'"]);
    expect(csp.get('script-src')).toEqual(["'self'", "'wasm-unsafe-eval'"]);
    expect(CONTENT_SECURITY_POLICY).not.toContain("'unsafe-eval'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/script-src[^;]*'unsafe-inline'/);
    for (const d of ['default-src', 'script-src', 'worker-src']) {
      for (const loose of ['*', 'http:', 'https:', 'data:', 'blob:', "'unsafe-inline'"])
        expect(csp.get(d), d).not.toContain(loose);
    }
  });

  it('loads styles from the app only, nothing inline', () => {
    expect(csp.get('style-src')).toEqual(["'self'"]);
    expect(CONTENT_SECURITY_POLICY).not.toContain("'unsafe-inline'");
  });

  it('connects to the app and to WebSocket relays only', () => {
    expect(csp.get('connect-src')).toEqual(["'self'", 'ws:', 'wss:']);
  });

  it('allows media streams and local images, and nothing embedded or framed', () => {
    expect(csp.get('media-src')).toEqual(["'self'", 'blob:', 'mediastream:']);
    expect(csp.get('img-src')).toEqual(["'self'", 'data:', 'blob:']);
    for (const d of ['object-src', 'frame-src', 'child-src', 'base-uri', 'form-action', 'frame-ancestors'])
      expect(csp.get(d), d).toEqual(["'none'"]);
  });

  it('is sent with the other hardening headers', () => {
    const h = securityHeaders();
    expect(h['Content-Security-Policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(h['X-Content-Type-Options']).toBe('nosniff');
    expect(h['Cross-Origin-Opener-Policy']).toBe('same-origin');
    expect(h['Permissions-Policy']).toContain('display-capture=()');
  });

  it('replaces any policy a response brought, whatever its case', () => {
    const out = withCspHeader({
      'content-security-policy': ['default-src *'],
      'Content-Type': 'text/html',
      'Set-Cookie': ['a=1', 'b=2'],
    });
    expect(out['Content-Security-Policy']).toEqual([CONTENT_SECURITY_POLICY]);
    expect(out['content-security-policy']).toBeUndefined();
    expect(out['Content-Type']).toEqual(['text/html']);
    expect(out['Set-Cookie']).toEqual(['a=1', 'b=2']);
    expect(withCspHeader(undefined)).toEqual({ 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] });
  });
});
