// The AES-256-GCM implementation under the secure channel's records. WebCrypto by default (every runtime
// has it). A runtime with a synchronous AES-GCM (Node's crypto) passes it down as the Messenger's `aead` option:
// on a busy 2-core machine WebCrypto costs about 3× the CPU per byte (each call is a thread-pool job, with
// argument conversion and copies of the input), which is most of what the relay path spends on crypto.
// The wire format is the same whatever the engine, so two peers with different engines interoperate.
// core imports no Node module: cipherAead() takes node:crypto's functions from the composition root.
import type { Bytes } from '../../../signaling/protocol/index.js';

/** A key as an engine holds it (a CryptoKey for WebCrypto, raw bytes for Node). */
export type AeadKey = unknown;

export interface AeadEngine {
  readonly name: string;
  /** A 32-byte AES-256 key. */
  importKey(raw: Bytes): Promise<AeadKey>;
  /** A new buffer: `offset` zero bytes, then ciphertext || 16-byte tag. The plaintext is read before this returns (or its promise is made). */
  encrypt(key: AeadKey, nonce: Bytes, aad: Bytes, plaintext: Bytes, offset: number): Bytes | Promise<Bytes>;
  /**
   * Optional, synchronous: encrypt() without joining the result: ciphertext and tag as the engine made them.
   * A caller that gather-writes them to a socket saves a buffer and a copy of the message.
   */
  encryptParts?(key: AeadKey, nonce: Bytes, aad: Bytes, plaintext: Bytes): { body: Bytes; tag: Bytes };
  /** The plaintext of ciphertext || tag; throws (or rejects) when the tag does not verify. */
  decrypt(key: AeadKey, nonce: Bytes, aad: Bytes, sealed: Bytes): Bytes | Promise<Bytes>;
}

export const AEAD_TAG_BYTES = 16;

export const webCryptoAead: AeadEngine = {
  name: 'webcrypto',
  importKey: (raw) => crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']),
  async encrypt(key, nonce, aad, plaintext, offset) {
    // WebCrypto copies the plaintext when encrypt() is called (spec: "a copy of the bytes held by data").
    const sealed = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: nonce, additionalData: aad, tagLength: AEAD_TAG_BYTES * 8 },
      key as CryptoKey,
      plaintext,
    );
    if (offset === 0) return new Uint8Array(sealed);
    const out = new Uint8Array(offset + sealed.byteLength);
    out.set(new Uint8Array(sealed), offset);
    return out;
  },
  async decrypt(key, nonce, aad, sealed) {
    return new Uint8Array(
      await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: nonce, additionalData: aad, tagLength: AEAD_TAG_BYTES * 8 },
        key as CryptoKey,
        sealed,
      ),
    );
  },
};

/** The part of node:crypto cipherAead() uses (structural, so core needs no Node types). */
export interface GcmCipherApi {
  createCipheriv(
    algorithm: 'aes-256-gcm',
    key: Uint8Array,
    iv: Uint8Array,
    options: { authTagLength: number },
  ): {
    setAAD(aad: Uint8Array): unknown;
    update(data: Uint8Array): Uint8Array;
    final(): Uint8Array;
    getAuthTag(): Uint8Array;
  };
  createDecipheriv(
    algorithm: 'aes-256-gcm',
    key: Uint8Array,
    iv: Uint8Array,
    options: { authTagLength: number },
  ): {
    setAAD(aad: Uint8Array): unknown;
    setAuthTag(tag: Uint8Array): unknown;
    update(data: Uint8Array): Uint8Array;
    final(): Uint8Array;
  };
}

/** A synchronous engine over Node's AES-256-GCM: `cipherAead(await import('node:crypto'))`. */
export function cipherAead(api: GcmCipherApi): AeadEngine {
  const opts = { authTagLength: AEAD_TAG_BYTES };
  return {
    name: 'node-cipher',
    async importKey(raw) {
      if (raw.length !== 32) throw new RangeError('AES-256 needs a 32-byte key');
      return raw.slice();
    },
    encryptParts(key, nonce, aad, plaintext) {
      const cipher = api.createCipheriv('aes-256-gcm', key as Bytes, nonce, opts);
      cipher.setAAD(aad);
      const body = cipher.update(plaintext);
      if (cipher.final().length !== 0) throw new Error('AES-GCM returned bytes at final()'); // never for GCM
      return { body: body as Bytes, tag: cipher.getAuthTag() as Bytes };
    },
    encrypt(key, nonce, aad, plaintext, offset) {
      const cipher = api.createCipheriv('aes-256-gcm', key as Bytes, nonce, opts);
      cipher.setAAD(aad);
      const body = cipher.update(plaintext);
      const rest = cipher.final(); // empty for GCM; kept general
      const tag = cipher.getAuthTag();
      const out = new Uint8Array(offset + body.length + rest.length + tag.length);
      out.set(body, offset);
      out.set(rest, offset + body.length);
      out.set(tag, offset + body.length + rest.length);
      return out;
    },
    decrypt(key, nonce, aad, sealed) {
      if (sealed.length < AEAD_TAG_BYTES) throw new RangeError('sealed data shorter than the tag');
      const decipher = api.createDecipheriv('aes-256-gcm', key as Bytes, nonce, opts);
      decipher.setAAD(aad);
      decipher.setAuthTag(sealed.subarray(sealed.length - AEAD_TAG_BYTES));
      const body = decipher.update(sealed.subarray(0, sealed.length - AEAD_TAG_BYTES));
      const rest = decipher.final(); // throws when the tag does not verify
      if (rest.length === 0) return ownArrayBuffer(body);
      const out = new Uint8Array(body.length + rest.length);
      out.set(body, 0);
      out.set(rest, body.length);
      return out;
    },
  };
}

/**
 * Node returns Buffers: their memory may be a shared pool slab, and Buffer#slice does not copy. Callers get a
 * plain Uint8Array over memory of their own (no copy when the Buffer already owns its ArrayBuffer).
 */
function ownArrayBuffer(data: Uint8Array): Bytes {
  if (data.buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength)
    return new Uint8Array(data.buffer);
  const out = new Uint8Array(data.length);
  out.set(data);
  return out;
}
