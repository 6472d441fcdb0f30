import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HashTrail, Sha256, decodeHashState, encodeHashState } from '../../../../core/src/transfer/hash.js';
import { randomBytes } from './memory-io.js';

const node = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('streaming SHA-256', () => {
  it('matches node:crypto, and a saved state resumes in another hasher', async () => {
    const data = randomBytes(300_000, 3);
    const a = await Sha256.create();
    a.update(data.subarray(0, 123_457));
    const saved = encodeHashState(a.save());
    expect(a.peekHex()).toBe(node(data.subarray(0, 123_457)));
    const b = await Sha256.create();
    b.load(decodeHashState(saved));
    b.update(data.subarray(123_457));
    expect(b.peekHex()).toBe(node(data));
  });

  it('rewinds a trail to any offset, re-hashing only from the nearest remembered state', async () => {
    const data = randomBytes(64 * 5000, 4);
    const trail = await HashTrail.create();
    for (let at = 0; at < data.length; at += 64) {
      trail.update(data.subarray(at, at + 64));
      trail.mark();
    }
    expect(trail.digestHex()).toBe(node(data));
    // Thinned to a bounded number of states, the newest kept exactly.
    expect(trail.size).toBeLessThanOrEqual(2048);
    expect(trail.rewind(data.length - 64)).toBe(data.length - 64);
    for (const target of [1000, 64 * 1234 + 5, data.length - 1]) {
      const from = trail.rewind(target);
      expect(from).toBeLessThanOrEqual(target);
      trail.update(data.subarray(from, target));
      expect(trail.digestHex()).toBe(node(data.subarray(0, target)));
    }
  });
});
