import { describe, expect, it } from 'vitest';
import { isAppUrl } from '../../../electron/main/app-origin.js';
import { checkExternalUrl, decideNavigation, decideWindowOpen } from '../../../electron/main/navigation-policy.js';

describe('navigation', () => {
  it('stays within app://parley', () => {
    expect(decideNavigation('app://parley/index.html')).toEqual({ allow: true });
    expect(decideNavigation('app://parley/chat?id=1#x')).toEqual({ allow: true });
  });

  for (const url of [
    'https://example.com/',
    'http://127.0.0.1:47913/',
    'file:///etc/passwd',
    'app://parley.evil.com/index.html',
    'app://evil/index.html',
    'app://parley:1234/index.html',
    'app://a:b@parley/index.html',
    'javascript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'about:blank',
    'parley:invite?x=1',
    'not a url',
    '',
  ]) {
    it(`refuses ${url || '(empty)'}`, () => {
      const d = decideNavigation(url);
      expect(d.allow).toBe(false);
    });
  }

  it('never opens new windows', () => {
    expect(decideWindowOpen()).toEqual({ action: 'deny' });
  });

  it('compares the app origin by parsing, not by prefix', () => {
    expect(isAppUrl('app://parley')).toBe(true);
    expect(isAppUrl('app://parleyx/')).toBe(false);
    expect(isAppUrl('APP://parley/')).toBe(true);
    expect(isAppUrl(undefined)).toBe(false);
    expect(isAppUrl(`app://parley/${'a'.repeat(9000)}`)).toBe(false);
  });
});

describe('external URLs', () => {
  it('accepts plain https links and normalizes them', () => {
    expect(checkExternalUrl('https://example.com/path?q=1#frag')).toEqual({
      ok: true,
      url: 'https://example.com/path?q=1#frag',
    });
    expect(checkExternalUrl('https://EXAMPLE.com')).toEqual({ ok: true, url: 'https://example.com/' });
    expect(checkExternalUrl('https://bücher.example/')).toEqual({ ok: true, url: 'https://xn--bcher-kva.example/' });
    expect(checkExternalUrl('https://example.com:8443/x')).toEqual({ ok: true, url: 'https://example.com:8443/x' });
  });

  const refused: [unknown, RegExp][] = [
    ['http://example.com/', /only https/],
    ['file:///etc/passwd', /only https/],
    ['javascript:alert(1)', /only https/],
    ['data:text/html,hi', /only https/],
    ['smb://server/share', /only https/],
    ['parley:invite', /only https/],
    ['https://user:pass@example.com/', /credentials/],
    ['https://user@example.com/', /credentials/],
    ['https://localhost/', /local hosts/],
    ['https://app.localhost/', /local hosts/],
    ['https://127.0.0.1/', /IP-address/],
    ['https://2130706433/', /IP-address/],
    ['https://0x7f.1/', /IP-address/],
    ['https://192.168.1.1/admin', /IP-address/],
    ['https://[::1]/', /IP-address/],
    ['https://[::ffff:127.0.0.1]/', /IP-address/],
    ['https://example.com/\\evil', /backslash/],
    ['https://example.com/ x', /whitespace/],
    ['https://exa\u0000mple.com/', /control/],
    [' https://example.com/', /whitespace/],
    ['https://', /not a valid URL/],
    ['', /length/],
    [`https://example.com/${'a'.repeat(2100)}`, /length/],
    [42, /string/],
    [null, /string/],
  ];
  for (const [url, reason] of refused) {
    it(`refuses ${JSON.stringify(url)?.slice(0, 60)}`, () => {
      const r = checkExternalUrl(url);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(reason);
    });
  }
});
