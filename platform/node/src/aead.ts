// Node peers seal relay records with node:crypto's synchronous AES-256-GCM instead of WebCrypto:
// the same bytes (peers on either engine talk to each other), without WebCrypto's per-call job
// overhead, which was most of the relay path's crypto cost at 64–256 KiB records.
// Passed down as the Messenger's (or a Session's / RelayTransport's) `aead` option.
//
// Large records are opened into reused buffers: node:crypto returns every update() in a fresh buffer, and a
// fresh 256 KiB buffer per record costs a page fault per 4 KiB when first written (the relay receiver's
// decrypt cost twice the direct one's in its profile, 100k faults per GB). Here each record is decrypted in
// 64 KiB steps (small outputs the allocator reuses at once) into a buffer of the record's size that is lent
// to the reader (core/src/session/buffer-lease.ts) and reused once every frame in it was released: for a
// file chunk, after the engine wrote and hashed it. A reader that never releases keeps its buffer for good.
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { AEAD_TAG_BYTES, cipherAead, type AeadEngine, type GcmCipherApi } from '../../../core/src/crypto/index.js';
import { lend } from '../../../core/src/session/buffer-lease.js';
import type { Bytes } from '../../../signaling/protocol/index.js';

/** Plaintexts from this size on go into lent, reused buffers; smaller ones are not worth it. */
export const LEND_FROM_BYTES = 64 * 1024;
/** Bytes decrypted per update() call: its output is a short-lived buffer the allocator serves from free memory. */
const STEP = 64 * 1024;
/** Given-back buffers kept for reuse, at most (a relay window of 8 MiB holds 32 records of 256 KiB). */
const MAX_SPARES = 48;

const cipher = cipherAead({ createCipheriv, createDecipheriv } as unknown as GcmCipherApi);
const spares: Bytes[] = [];

/**
 * A given-back buffer of exactly `length` bytes, the most recent one (likeliest still in the CPU's caches), or
 * a new one (not zero-filled: every byte is written).
 */
function takeBuffer(length: number): Bytes {
  const at = spares.findLastIndex((b) => b.length === length);
  if (at >= 0) return spares.splice(at, 1)[0]!;
  const fresh = Buffer.allocUnsafeSlow(length);
  return new Uint8Array(fresh.buffer, fresh.byteOffset, length);
}

function putBack(buffer: Bytes): void {
  if (spares.length >= MAX_SPARES) spares.shift();
  spares.push(buffer);
}

export const nodeAead: AeadEngine = {
  ...cipher,
  decrypt(key, nonce, aad, sealed) {
    const length = sealed.length - AEAD_TAG_BYTES;
    if (length < LEND_FROM_BYTES) return cipher.decrypt(key, nonce, aad, sealed);
    const decipher = createDecipheriv('aes-256-gcm', key as Bytes, nonce, { authTagLength: AEAD_TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(length));
    const out = takeBuffer(length);
    try {
      let done = 0;
      for (let at = 0; at < length; at += STEP) {
        const piece = decipher.update(sealed.subarray(at, Math.min(length, at + STEP)));
        out.set(piece, done);
        done += piece.length;
      }
      const rest = decipher.final(); // throws when the tag does not verify; empty for GCM
      out.set(rest, done);
      if (done + rest.length !== length) throw new Error('AES-GCM returned a plaintext of another length');
    } catch (error) {
      // Unverified bytes were written into it: nobody saw them, the next record overwrites them.
      putBack(out);
      throw error;
    }
    lend(out, () => putBack(out));
    return out;
  },
};

/** Buffers waiting for reuse (tests). */
export function nodeAeadSpares(): number {
  return spares.length;
}
