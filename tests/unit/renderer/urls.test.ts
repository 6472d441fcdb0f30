import { beforeAll, describe, expect, it } from 'vitest';
import { loadRenderer } from './load.js';

let inviteFromUrl: (href: string) => string | null;
let withoutInvite: (href: string) => string;
let webInviteLink: (origin: string, invite: string) => string;
let sameOriginRelayUrl: (page: string) => string | null;
let uniqueName: (name: string, taken: (n: string) => boolean) => string;

beforeAll(async () => {
  ({ inviteFromUrl, withoutInvite, webInviteLink } = await loadRenderer<{
    inviteFromUrl: typeof inviteFromUrl;
    withoutInvite: typeof withoutInvite;
    webInviteLink: typeof webInviteLink;
  }>('bridge/deep-link.ts'));
  ({ sameOriginRelayUrl } = await loadRenderer<{ sameOriginRelayUrl: typeof sameOriginRelayUrl }>('lib/relay-url.ts'));
  ({ uniqueName } = await loadRenderer<{ uniqueName: typeof uniqueName }>('platform/filenames.ts'));
});

const INVITE = 'parley://invite?v=1&alg=Ed25519&pub=abc&name=Ada%20L&relay=ws%3A%2F%2F10.0.0.1%3A8080%2Fws';

describe('invites in the page URL', () => {
  it('round-trips through a web invite link', () => {
    const link = webInviteLink('http://10.99.0.3:8080', INVITE);
    expect(link.startsWith('http://10.99.0.3:8080/#invite=')).toBe(true);
    expect(inviteFromUrl(link)).toBe(INVITE);
    expect(withoutInvite(link)).toBe('http://10.99.0.3:8080/');
  });

  it('reads ?invite= and #parley: forms and ignores other fragments', () => {
    expect(inviteFromUrl(`https://a.example/?invite=${encodeURIComponent(INVITE)}`)).toBe(INVITE);
    expect(inviteFromUrl(`https://a.example/#${INVITE}`)).toBe(INVITE);
    expect(inviteFromUrl('https://a.example/#settings')).toBeNull();
    expect(inviteFromUrl('https://a.example/')).toBeNull();
    expect(inviteFromUrl('https://a.example/#invite=%E0%A4%A')).toBeNull();
    expect(withoutInvite('https://a.example/?x=1&invite=abc#keep')).toBe('https://a.example/?x=1#keep');
  });
});

describe('default relay of the web client', () => {
  it('uses the serving origin at /ws with the matching scheme', () => {
    expect(sameOriginRelayUrl('http://10.99.0.3:8080/index.html')).toBe('ws://10.99.0.3:8080/ws');
    expect(sameOriginRelayUrl('https://relay.example.org/')).toBe('wss://relay.example.org/ws');
    expect(sameOriginRelayUrl('https://[::1]:8443/app/')).toBe('wss://[::1]:8443/ws');
    expect(sameOriginRelayUrl('file:///tmp/index.html')).toBeNull();
    expect(sameOriginRelayUrl('app://parley/index.html')).toBeNull();
  });
});

describe('unique file names', () => {
  it('finds a free name', () => {
    const taken = new Set(['a.txt', 'a (1).txt', 'noext']);
    expect(uniqueName('a.txt', (n) => taken.has(n))).toBe('a (2).txt');
    expect(uniqueName('b.txt', (n) => taken.has(n))).toBe('b.txt');
    expect(uniqueName('noext', (n) => taken.has(n))).toBe('noext (1)');
  });
});
