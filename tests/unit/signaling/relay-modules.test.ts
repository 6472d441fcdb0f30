// The relay's pure pieces, tested directly: nesting scan, token bucket, Host policy, input parsing, options.
import { describe, expect, it } from 'vitest';
import { ErrorCode, MAX_CONTROL_BYTES, PROTOCOL_VERSION } from '../../../signaling/protocol/index.js';
import { splitHost, statementHosts } from '../../../signaling/server/auth.js';
import { parseControl } from '../../../signaling/server/inbound.js';
import { exceedsDepth } from '../../../signaling/server/json-depth.js';
import {
  addressKey,
  canonicalAddress,
  normalizeAcceptHosts,
  normalizeOrigins,
  normalizeProxies,
  resolveLimits,
} from '../../../signaling/server/options.js';
import { originAllowed, originPolicy } from '../../../signaling/server/origin.js';
import { AddressBudget, clientAddress } from '../../../signaling/server/sockets.js';
import { TokenBucket } from '../../../signaling/server/token-bucket.js';

describe('exceedsDepth', () => {
  it('counts object and array nesting, ignoring brackets inside strings', () => {
    expect(exceedsDepth('['.repeat(32) + ']'.repeat(32), 32)).toBe(false);
    expect(exceedsDepth('['.repeat(33) + ']'.repeat(33), 32)).toBe(true);
    expect(exceedsDepth('{"a":'.repeat(33) + '1' + '}'.repeat(33), 32)).toBe(true);
    expect(exceedsDepth(JSON.stringify({ s: '['.repeat(100) }), 32)).toBe(false);
    expect(exceedsDepth(JSON.stringify({ s: '\\"[[[' + '['.repeat(100) }), 32)).toBe(false);
    // Siblings are not depth.
    expect(exceedsDepth(JSON.stringify(Array(100).fill([1])), 32)).toBe(false);
  });
});

describe('TokenBucket', () => {
  it('allows a burst, then refills at the rate', () => {
    const bucket = new TokenBucket(10, 3, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([true, true, true, false]);
    expect(bucket.take(50)).toBe(false); // half a token
    expect(bucket.take(100)).toBe(true);
    expect(bucket.take(10_000) && bucket.take(10_000) && bucket.take(10_000)).toBe(true);
    expect(bucket.take(10_000)).toBe(false); // never more than the burst
  });
});

describe('auth statement hosts', () => {
  const arrival = { localAddress: '127.0.0.1', localPort: 8787, tls: false };

  it('splits host headers', () => {
    expect(splitHost('example.org')).toEqual({ hostname: 'example.org', port: undefined });
    expect(splitHost('example.org:443')).toEqual({ hostname: 'example.org', port: 443 });
    expect(splitHost('[::1]:80')).toEqual({ hostname: '::1', port: 80 });
    expect(splitHost('[::1]')).toEqual({ hostname: '::1', port: undefined });
    for (const bad of ['', ':80', 'a:b', 'a:70000', '[::1', '[::1]x']) expect(splitHost(bad), bad).toBeNull();
  });

  it('trusts the Host header only when it names the address and port the connection arrived on', () => {
    expect(statementHosts({ ...arrival, hostHeader: '127.0.0.1:8787' }, [])).toEqual(['127.0.0.1:8787']);
    expect(statementHosts({ ...arrival, hostHeader: 'LOCALHOST:8787' }, [])).toEqual(['localhost:8787']);
    expect(statementHosts({ ...arrival, localAddress: '::ffff:127.0.0.1', hostHeader: '127.0.0.1:8787' }, [])).toEqual([
      '127.0.0.1:8787',
    ]);
    expect(statementHosts({ ...arrival, hostHeader: '127.0.0.1:9999' }, [])).toEqual([]);
    expect(statementHosts({ ...arrival, hostHeader: 'evil.example:8787' }, [])).toEqual([]);
    expect(statementHosts({ ...arrival, hostHeader: '10.0.0.1:8787' }, [])).toEqual([]);
    expect(statementHosts({ ...arrival, localAddress: '10.0.0.1', hostHeader: 'localhost:8787' }, [])).toEqual([]);
    expect(statementHosts({ ...arrival, hostHeader: undefined }, ['relay.example'])).toEqual(['relay.example']);
    expect(statementHosts({ ...arrival, localPort: 443, tls: true, hostHeader: '127.0.0.1' }, [])).toEqual([
      '127.0.0.1',
    ]);
    expect(
      statementHosts({ ...arrival, hostHeader: 'relay.example' }, normalizeAcceptHosts(['Relay.Example'])),
    ).toEqual(['relay.example']);
  });

  it('refuses acceptHosts entries that are not Host values', () => {
    expect(() => normalizeAcceptHosts(['http://x'])).toThrow(RangeError);
    expect(() => normalizeAcceptHosts(['a b'])).toThrow(RangeError);
    expect(normalizeAcceptHosts(['A.example', 'a.example'])).toEqual(['a.example']);
  });
});

describe('parseControl', () => {
  const parse = (text: string) => parseControl(Buffer.from(text));

  it('returns the validated message and the raw object', () => {
    const result = parse('{"type":"ping","ref":"r"}');
    expect(result).toEqual({ ok: true, msg: { type: 'ping', ref: 'r' }, raw: { type: 'ping', ref: 'r' } });
  });

  it('names what is wrong, keeping the ref for correlation', () => {
    expect(parse('nope')).toMatchObject({
      ok: false,
      code: ErrorCode.BadMessage,
      message: 'message is not valid JSON',
    });
    expect(parse('[1]')).toMatchObject({ ok: false, message: 'message must be a JSON object' });
    expect(parse('{"type":"what","ref":"r9"}')).toMatchObject({
      ok: false,
      message: expect.stringContaining('unknown message type'),
      ref: 'r9',
    });
    expect(parse('{"type":"unsubscribe","ids":["x"]}')).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^unsubscribe: ids\.0/),
    });
    expect(parse('{"type":"subscribe","ids":["x"]}')).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^subscribe: grants/),
    });
    expect(parse(`{"type":"hello","v":${PROTOCOL_VERSION + 1}}`)).toMatchObject({ ok: false, code: ErrorCode.Version });
    expect(parseControl(Buffer.alloc(MAX_CONTROL_BYTES + 1, 32))).toMatchObject({
      ok: false,
      code: ErrorCode.TooLarge,
    });
  });
});

describe('resolveLimits', () => {
  it('merges overrides and refuses nonsense', () => {
    expect(resolveLimits({ maxConnections: 5 }).maxConnections).toBe(5);
    expect(() => resolveLimits({ maxConnections: 0 })).toThrow(RangeError);
    expect(() => resolveLimits({ channelLowWaterBytes: 10, channelHighWaterBytes: 5 })).toThrow(RangeError);
    expect(() => resolveLimits({ bogus: 1 } as never)).toThrow(/unknown/);
  });
});

describe('client addresses', () => {
  it('writes addresses canonically and counts IPv6 by /64', () => {
    expect(canonicalAddress('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(canonicalAddress('2001:DB8::1')).toBe('2001:0db8:0000:0000:0000:0000:0000:0001');
    expect(canonicalAddress('::1')).toBe('0000:0000:0000:0000:0000:0000:0000:0001');
    expect(canonicalAddress('relay.example')).toBeNull();
    expect(addressKey(canonicalAddress('2001:db8:1:2:aaaa::1')!)).toBe(
      addressKey(canonicalAddress('2001:db8:1:2:bbbb::2')!),
    );
    expect(addressKey(canonicalAddress('2001:db8:1:3::1')!)).not.toBe(addressKey(canonicalAddress('2001:db8:1:2::1')!));
    expect(addressKey('10.0.0.1')).toBe('10.0.0.1');
  });

  it('reads X-Forwarded-For only from a trusted proxy, right to left, skipping trusted hops', () => {
    const trusted = new Set(normalizeProxies(['10.0.0.2', '10.0.0.3']));
    expect(clientAddress('10.0.0.9', '203.0.113.5', trusted)).toBe('10.0.0.9'); // not a proxy: header ignored
    expect(clientAddress('10.0.0.2', '203.0.113.5', trusted)).toBe('203.0.113.5');
    expect(clientAddress('10.0.0.2', '198.51.100.1, 203.0.113.5, 10.0.0.3', trusted)).toBe('203.0.113.5');
    expect(clientAddress('::ffff:10.0.0.2', ['1.2.3.4', '203.0.113.7'], trusted)).toBe('203.0.113.7');
    expect(clientAddress('10.0.0.2', 'garbage, 203.0.113.5', trusted)).toBe('203.0.113.5');
    expect(clientAddress('10.0.0.2', '203.0.113.5, garbage', trusted)).toBe('10.0.0.2');
    expect(clientAddress('10.0.0.2', undefined, trusted)).toBe('10.0.0.2');
    expect(() => normalizeProxies(['proxy.example'])).toThrow(RangeError);
  });

  it('budgets per key, giving places back', () => {
    const budget = new AddressBudget(2);
    expect([budget.take('a'), budget.take('a'), budget.take('a'), budget.take('b')]).toEqual([true, true, false, true]);
    budget.release('a');
    expect(budget.take('a')).toBe(true);
    expect(budget.count('a')).toBe(2);
  });
});

describe('origin policy', () => {
  const arrival = { hostHeader: '127.0.0.1:8787', localAddress: '127.0.0.1', localPort: 8787, tls: false };

  it('normalizes configured origins and refuses anything that is not one', () => {
    expect(normalizeOrigins(['HTTPS://Parley.Example.org', 'http://a.example:8080'])).toEqual([
      'https://parley.example.org',
      'http://a.example:8080',
    ]);
    for (const bad of [
      'parley.example.org',
      'https://a.example/path',
      'https://u:p@a.example',
      'https://a.example/?q',
    ]) {
      expect(() => normalizeOrigins([bad]), bad).toThrow(RangeError);
    }
  });

  it('accepts no Origin and the app, same origin only when serving the web client, configured ones', () => {
    const bare = originPolicy([], false, []);
    expect(originAllowed(undefined, arrival, bare)).toBe(true);
    expect(originAllowed('app://parley', arrival, bare)).toBe(true);
    expect(originAllowed('http://127.0.0.1:8787', arrival, bare)).toBe(false);
    const serving = originPolicy(normalizeOrigins(['https://ok.example']), true, []);
    expect(originAllowed('http://127.0.0.1:8787', arrival, serving)).toBe(true);
    expect(originAllowed('https://ok.example', arrival, serving)).toBe(true);
    expect(originAllowed('http://127.0.0.1:8788', arrival, serving)).toBe(false);
    expect(originAllowed('http://127.0.0.1:8787/x', arrival, serving)).toBe(false);
    expect(originAllowed('null', arrival, serving)).toBe(false);
    // DNS rebinding: Origin and Host agree on a name that is not this relay's.
    expect(originAllowed('http://evil.example:8787', { ...arrival, hostHeader: 'evil.example:8787' }, serving)).toBe(
      false,
    );
    const named = originPolicy([], true, ['relay.example']);
    expect(originAllowed('https://relay.example', { ...arrival, hostHeader: 'relay.example' }, named)).toBe(true);
    expect(
      originAllowed(
        'http://[::1]:8787',
        { hostHeader: '[::1]:8787', localAddress: '::1', localPort: 8787, tls: false },
        serving,
      ),
    ).toBe(true);
  });
});
