import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fromBase64url, isBase64url, toBase64url } from '../../../signaling/protocol/index.js';

describe('base64url', () => {
  it("round-trips every length and matches Node's encoder", () => {
    for (let n = 0; n <= 100; n++) {
      const bytes = randomBytes(n);
      const text = toBase64url(bytes);
      expect(text).toBe(bytes.toString('base64url'));
      expect(Buffer.from(fromBase64url(text)).equals(bytes)).toBe(true);
      expect(isBase64url(text)).toBe(true);
    }
  });

  it('decodes into a plain ArrayBuffer-backed Uint8Array', () => {
    const out = fromBase64url('AQID');
    expect(out).toBeInstanceOf(Uint8Array);
    expect(out.buffer).toBeInstanceOf(ArrayBuffer);
    expect([...out]).toEqual([1, 2, 3]);
  });

  it.each([
    ['padding', 'AQ=='],
    ['standard alphabet +', 'a+b/'],
    ['whitespace', 'AQ ID'],
    ['impossible length', 'AQIDB'],
    ['non-ASCII', 'AQé'],
    ['non-canonical trailing bits', 'AB'],
    ['non-canonical trailing bits (3 chars)', 'AQJ'],
  ])('rejects %s', (_what, text) => {
    expect(() => fromBase64url(text)).toThrow();
  });

  it('isBase64url checks alphabet and length only', () => {
    expect(isBase64url('')).toBe(true);
    expect(isBase64url('abc-_')).toBe(false); // length 5 ≡ 1 mod 4
    expect(isBase64url('ab=c')).toBe(false);
    expect(isBase64url('ab_-')).toBe(true);
  });
});
