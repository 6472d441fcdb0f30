// Node's AES-GCM engine (platform/node/src/aead.ts): large records open into buffers lent to their reader and
// reused only after it released them; the bytes are the same as node:crypto's in one piece and WebCrypto's.
import * as nodeCrypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cipherAead, webCryptoAead } from '../../../../core/src/crypto/index.js';
import { isLent, releaseLease } from '../../../../core/src/session/buffer-lease.js';
import { LEND_FROM_BYTES, nodeAead } from '../../../../platform/node/src/aead.js';
import type { Bytes } from '../../../../signaling/protocol/index.js';
import { seeded } from '../../core/session/memory-transport.js';

const plainAead = cipherAead(nodeCrypto);
const KiB = 1024;

async function sealer() {
  const raw = new Uint8Array(nodeCrypto.randomBytes(32));
  const key = await nodeAead.importKey(raw);
  const aad = new Uint8Array([1, 2, 3]);
  let n = 0;
  const seal = (plain: Bytes) => {
    const nonce = new Uint8Array(12);
    new DataView(nonce.buffer).setUint32(8, ++n);
    return { nonce, sealed: nodeAead.encrypt(key, nonce, aad, plain, 0) as Bytes };
  };
  return { raw, key, aad, seal };
}

describe('nodeAead', () => {
  it('opens what WebCrypto and node:crypto in one piece open, for records below and above the lending size', async () => {
    const { raw, key, aad, seal } = await sealer();
    const wk = await webCryptoAead.importKey(raw);
    for (const size of [0, 1000, LEND_FROM_BYTES - 1, LEND_FROM_BYTES, 200_001, 256 * KiB]) {
      const plain = new Uint8Array(nodeCrypto.randomBytes(size));
      const { nonce, sealed } = seal(plain);
      const opened = (await nodeAead.decrypt(key, nonce, aad, sealed)) as Uint8Array;
      expect(Buffer.compare(opened, plain)).toBe(0);
      expect(Buffer.compare(opened, (await plainAead.decrypt(key, nonce, aad, sealed)) as Uint8Array)).toBe(0);
      expect(Buffer.compare(opened, await webCryptoAead.decrypt(wk, nonce, aad, sealed))).toBe(0);
      expect(isLent(opened)).toBe(size >= LEND_FROM_BYTES);
      // A buffer of its own, exactly the plaintext (as node:crypto in one piece gives).
      expect(opened.byteOffset).toBe(0);
      expect(opened.buffer.byteLength).toBe(size);
      releaseLease(opened);
    }
  });

  it('never reuses a buffer its reader still holds, and reuses released ones (random opens and releases)', async () => {
    const { key, aad, seal } = await sealer();
    const random = seeded(16);
    const sizes = [LEND_FROM_BYTES, 100 * KiB, 256 * KiB];
    const held: Array<{ opened: Uint8Array; expected: Uint8Array }> = [];
    const seen = new Set<ArrayBufferLike>();
    let reused = 0;
    for (let step = 0; step < 400; step++) {
      if (held.length > 0 && random() < 0.45) {
        const [h] = held.splice(Math.floor(random() * held.length), 1);
        // Still the bytes it was opened with, up to the moment it is released.
        expect(Buffer.compare(h!.opened, h!.expected)).toBe(0);
        releaseLease(h!.opened);
        continue;
      }
      const expected = new Uint8Array(nodeCrypto.randomBytes(sizes[Math.floor(random() * sizes.length)]!));
      const { nonce, sealed } = seal(expected);
      const opened = (await nodeAead.decrypt(key, nonce, aad, sealed)) as Uint8Array;
      if (seen.has(opened.buffer)) reused++;
      seen.add(opened.buffer);
      expect(held.some((h) => h.opened.buffer === opened.buffer)).toBe(false);
      held.push({ opened, expected });
      for (const h of held) expect(Buffer.compare(h.opened, h.expected)).toBe(0);
    }
    expect(reused).toBeGreaterThan(50);
    for (const h of held) releaseLease(h.opened);
  });

  it('refuses a modified record without lending anything, and the next record opens intact', async () => {
    const { key, aad, seal } = await sealer();
    const plain = new Uint8Array(nodeCrypto.randomBytes(256 * KiB));
    const { nonce, sealed } = seal(plain);
    const bad = sealed.slice();
    bad[1000]! ^= 1;
    expect(() => nodeAead.decrypt(key, nonce, aad, bad)).toThrow();
    const next = seal(plain);
    const opened = (await nodeAead.decrypt(key, next.nonce, aad, next.sealed)) as Uint8Array;
    expect(Buffer.compare(opened, plain)).toBe(0);
    releaseLease(opened);
  });
});
