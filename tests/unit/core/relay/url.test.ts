// Issue 14.2: relay addresses as people type them. `ws://host:port` (no /ws) used to be accepted and
// then fail forever with "connection closed (1006)"; `host:port` and http(s):// forms were refused.
import { describe, expect, it } from 'vitest';
import { checkRelayList, checkRelayUrl } from '../../../../core/src/identity/profile.js';
import { createInvite, parseInvite } from '../../../../core/src/identity/invite.js';
import { generateIdentityKeyPair } from '../../../../core/src/identity/keys.js';
import { normaliseRelayUrl, sameOriginRelayUrl } from '../../../../core/src/relay/url.js';

const ok = (input: string): string => {
  const r = normaliseRelayUrl(input);
  if (!r.ok) throw new Error(`${input}: ${r.error}`);
  return r.value;
};

describe('normaliseRelayUrl', () => {
  it('turns every form people type into the one WebSocket URL of the relay', () => {
    for (const input of [
      '127.0.0.1:8080',
      'ws://127.0.0.1:8080',
      'ws://127.0.0.1:8080/',
      'http://127.0.0.1:8080',
      'http://127.0.0.1:8080/',
      'ws://127.0.0.1:8080/ws',
      '  WS://127.0.0.1:8080/ws  ',
    ]) {
      expect(ok(input), input).toBe('ws://127.0.0.1:8080/ws');
    }
    for (const input of [
      'relay.example.org',
      'relay.example.org:443',
      'wss://relay.example.org',
      'https://Relay.Example.org/',
      'wss://relay.example.org/ws',
    ]) {
      expect(ok(input), input).toBe(
        input.includes(':443') ? 'wss://relay.example.org:443/ws' : 'wss://relay.example.org/ws',
      );
    }
    expect(ok('https://relay.example.org:8443')).toBe('wss://relay.example.org:8443/ws');
    expect(ok('[::1]:9000')).toBe('ws://[::1]:9000/ws');
    expect(ok('localhost:9000')).toBe('ws://localhost:9000/ws');
    // A relay behind a proxy on another path keeps its path and query.
    expect(ok('wss://example.org/parley/ws?x=1')).toBe('wss://example.org/parley/ws?x=1');
  });

  it('refuses what is not a relay address, saying why', () => {
    for (const bad of [
      '',
      'ftp://x',
      'wss://user@evil.example/ws',
      'ws://host:99999',
      'ws://ho st',
      'ws://x/#frag',
      'javascript:alert(1)',
      'x'.repeat(600),
    ]) {
      const r = normaliseRelayUrl(bad);
      expect(r.ok, bad).toBe(false);
      if (!r.ok) expect(r.error.length).toBeGreaterThan(10);
    }
  });

  it('is what checkRelayUrl, relay lists (identity, --relay) and invites use', async () => {
    expect(checkRelayUrl('10.0.0.1:8080')).toEqual({ ok: true, value: 'ws://10.0.0.1:8080/ws' });
    expect(checkRelayList(['ws://10.0.0.1:8080', '10.0.0.1:8080/ws', 'http://10.0.0.1:8080/'])).toEqual({
      ok: true,
      value: ['ws://10.0.0.1:8080/ws'],
    });
    const id = await generateIdentityKeyPair({ extractable: false });
    const invite = createInvite({ publicKey: id.publicKey, name: 'Ada', relays: ['ws://10.0.0.1:8080'] });
    expect((await parseInvite(invite)).relays).toEqual(['ws://10.0.0.1:8080/ws']);
  });

  it('gives the web client the relay that served it', () => {
    expect(sameOriginRelayUrl('http://10.99.0.3:8080/index.html')).toBe('ws://10.99.0.3:8080/ws');
    expect(sameOriginRelayUrl('https://relay.example.org/')).toBe('wss://relay.example.org/ws');
    expect(sameOriginRelayUrl('file:///tmp/index.html')).toBeNull();
  });
});
