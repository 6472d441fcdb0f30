// The relay's pure pieces, tested directly: nesting scan, token bucket, Host policy, static paths, input parsing, options.
import { describe, expect, it } from 'vitest';
import { ErrorCode, MAX_CONTROL_BYTES, PROTOCOL_VERSION } from '../../../signaling/protocol/index.js';
import { splitHost, statementHosts } from '../../../signaling/server/auth.js';
import { safeRelativePath } from '../../../signaling/server/http-static.js';
import { parseControl } from '../../../signaling/server/inbound.js';
import { exceedsDepth } from '../../../signaling/server/json-depth.js';
import { normalizeAcceptHosts, resolveLimits } from '../../../signaling/server/options.js';
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
    expect(statementHosts({ ...arrival, localAddress: '::ffff:127.0.0.1', hostHeader: '127.0.0.1:8787' }, [])).toEqual(['127.0.0.1:8787']);
    expect(statementHosts({ ...arrival, hostHeader: '127.0.0.1:9999' }, [])).toEqual([]);
    expect(statementHosts({ ...arrival, hostHeader: 'evil.example:8787' }, [])).toEqual([]);
    expect(statementHosts({ ...arrival, hostHeader: '10.0.0.1:8787' }, [])).toEqual([]);
    expect(statementHosts({ ...arrival, localAddress: '10.0.0.1', hostHeader: 'localhost:8787' }, [])).toEqual([]);
    expect(statementHosts({ ...arrival, hostHeader: undefined }, ['relay.example'])).toEqual(['relay.example']);
    expect(statementHosts({ ...arrival, localPort: 443, tls: true, hostHeader: '127.0.0.1' }, [])).toEqual(['127.0.0.1']);
    expect(statementHosts({ ...arrival, hostHeader: 'relay.example' }, normalizeAcceptHosts(['Relay.Example']))).toEqual(['relay.example']);
  });

  it('refuses acceptHosts entries that are not Host values', () => {
    expect(() => normalizeAcceptHosts(['http://x'])).toThrow(RangeError);
    expect(() => normalizeAcceptHosts(['a b'])).toThrow(RangeError);
    expect(normalizeAcceptHosts(['A.example', 'a.example'])).toEqual(['a.example']);
  });
});

describe('safeRelativePath', () => {
  it('maps plain paths and refuses escapes, encoded separators and dotfiles', () => {
    expect(safeRelativePath('/')).toBe('');
    expect(safeRelativePath('/assets/app.js?x=1#y')).toBe('assets/app.js');
    expect(safeRelativePath('/a%20b.txt')).toBe('a b.txt');
    expect(safeRelativePath('//assets//a.js')).toBe('assets/a.js');
    for (const bad of ['/../x', '/a/../../x', '/%2e%2e/x', '/a%2fb', '/a%5cb', '/a\\b', '/%00', '/.git/config', '/%E0%A4%A', 'x', undefined]) {
      expect(safeRelativePath(bad), String(bad)).toBeNull();
    }
  });
});

describe('parseControl', () => {
  const parse = (text: string) => parseControl(Buffer.from(text));

  it('returns the validated message and the raw object', () => {
    const result = parse('{"type":"ping","ref":"r"}');
    expect(result).toEqual({ ok: true, msg: { type: 'ping', ref: 'r' }, raw: { type: 'ping', ref: 'r' } });
  });

  it('names what is wrong, keeping the ref for correlation', () => {
    expect(parse('nope')).toMatchObject({ ok: false, code: ErrorCode.BadMessage, message: 'message is not valid JSON' });
    expect(parse('[1]')).toMatchObject({ ok: false, message: 'message must be a JSON object' });
    expect(parse('{"type":"what","ref":"r9"}')).toMatchObject({ ok: false, message: expect.stringContaining('unknown message type'), ref: 'r9' });
    expect(parse('{"type":"unsubscribe","ids":["x"]}')).toMatchObject({ ok: false, message: expect.stringMatching(/^unsubscribe: ids\.0/) });
    expect(parse('{"type":"subscribe","ids":["x"]}')).toMatchObject({ ok: false, message: expect.stringMatching(/^subscribe: grants/) });
    expect(parse(`{"type":"hello","v":${PROTOCOL_VERSION + 1}}`)).toMatchObject({ ok: false, code: ErrorCode.Version });
    expect(parseControl(Buffer.alloc(MAX_CONTROL_BYTES + 1, 32))).toMatchObject({ ok: false, code: ErrorCode.TooLarge });
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
