// AES-GCM engines: WebCrypto (default) and Node's synchronous cipher give the same bytes, read each
// other's output, refuse tampering alike, and channels on different engines interoperate.
import * as nodeCrypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CryptoError,
  cipherAead,
  createAeadChannel,
  webCryptoAead,
  type AeadEngine,
  type DirectionSecret,
} from '../../../../core/src/crypto/index.js';

const nodeAead = cipherAead(nodeCrypto);

const rnd = (n: number) => new Uint8Array(nodeCrypto.randomBytes(n));
const secret = (fill: number): DirectionSecret => ({
  base: new Uint8Array(32).fill(fill),
  noncePrefix: new Uint8Array([fill, 1, 2, 3]),
});

function counting(engine: AeadEngine) {
  const calls = { encrypt: 0, decrypt: 0 };
  const wrapped: AeadEngine = {
    name: `counting ${engine.name}`,
    importKey: (raw) => engine.importKey(raw),
    encrypt: (...args) => (calls.encrypt++, engine.encrypt(...args)),
    decrypt: (...args) => (calls.decrypt++, engine.decrypt(...args)),
  };
  return { wrapped, calls };
}

describe('AEAD engines', () => {
  it('produce identical ciphertext at the requested offset and open each other’s', async () => {
    const raw = rnd(32);
    const [wk, nk] = await Promise.all([webCryptoAead.importKey(raw), nodeAead.importKey(raw)]);
    for (const size of [0, 1, 1000, 256 * 1024]) {
      const nonce = rnd(12);
      const aad = rnd(40);
      const plain = rnd(size);
      const w = await webCryptoAead.encrypt(wk, nonce, aad, plain, 12);
      const n = await nodeAead.encrypt(nk, nonce, aad, plain, 12);
      expect(n.length).toBe(12 + size + 16);
      expect(Buffer.from(n).equals(Buffer.from(w))).toBe(true);
      expect([...n.subarray(0, 12)]).toEqual(new Array(12).fill(0));
      const viaNode = await nodeAead.decrypt(nk, nonce, aad, w.subarray(12));
      const viaWeb = await webCryptoAead.decrypt(wk, nonce, aad, n.subarray(12));
      expect(Buffer.from(viaNode).equals(Buffer.from(plain))).toBe(true);
      expect(Buffer.from(viaWeb).equals(Buffer.from(plain))).toBe(true);
      // A plain Uint8Array over its own memory, not a Buffer (whose slice() would not copy).
      expect(Object.getPrototypeOf(viaNode)).toBe(Uint8Array.prototype);
      expect(viaNode.byteOffset).toBe(0);
      expect(viaNode.buffer.byteLength).toBe(size);
    }
  });

  it('both refuse a flipped bit in the ciphertext, the tag or the additional data', async () => {
    const raw = rnd(32);
    const keys = new Map<AeadEngine, unknown>([
      [webCryptoAead, await webCryptoAead.importKey(raw)],
      [nodeAead, await nodeAead.importKey(raw)],
    ]);
    const nonce = rnd(12);
    const aad = rnd(8);
    const sealed = await nodeAead.encrypt(keys.get(nodeAead), nonce, aad, rnd(100), 0);
    for (const [engine, key] of keys) {
      for (const at of [0, 99, 100, 115]) {
        const bad = sealed.slice();
        bad[at]! ^= 0x80;
        await expect(
          Promise.resolve().then(() => engine.decrypt(key, nonce, aad, bad)),
          `${engine.name} byte ${at}`,
        ).rejects.toThrow();
      }
      const otherAad = aad.slice();
      otherAad[0]! ^= 1;
      await expect(Promise.resolve().then(() => engine.decrypt(key, nonce, otherAad, sealed))).rejects.toThrow();
      await expect(
        Promise.resolve().then(() => engine.decrypt(key, nonce, aad, sealed.subarray(0, 15))),
      ).rejects.toThrow();
    }
    await expect(nodeAead.importKey(rnd(16))).rejects.toThrow(/32-byte/);
  });

  it('lets channels on different engines talk, with replay and tampering still refused', async () => {
    const a = createAeadChannel({ sessionId: 's', send: secret(1), receive: secret(2), engine: nodeAead });
    const b = createAeadChannel({ sessionId: 's', send: secret(2), receive: secret(1), engine: webCryptoAead });
    const f1 = await a.seal(new Uint8Array([1, 2, 3]), 4);
    expect([...(await b.open(f1.subarray(4)))]).toEqual([1, 2, 3]);
    expect([...(await a.open(await b.seal(new Uint8Array([9]))))]).toEqual([9]);
    const replay = await b.open(f1.subarray(4)).catch((e: unknown) => e);
    expect((replay as CryptoError).code).toBe('replay');
    const f2 = await a.seal(new Uint8Array([4]));
    f2[f2.length - 1]! ^= 1;
    expect(((await b.open(f2).catch((e: unknown) => e)) as CryptoError).code).toBe('authentication-failed');
  });

  it('uses the engine it is given, and WebCrypto when given none', async () => {
    const given = counting(nodeAead);
    const a = createAeadChannel({ sessionId: 's', send: secret(1), receive: secret(2), engine: given.wrapped });
    const b = createAeadChannel({ sessionId: 's', send: secret(2), receive: secret(1), engine: webCryptoAead });
    expect([...(await b.open(await a.seal(new Uint8Array([5]))))]).toEqual([5]);
    expect(given.calls).toEqual({ encrypt: 1, decrypt: 0 });
    // No engine: WebCrypto, whatever other channels in the process use.
    const plain = createAeadChannel({ sessionId: 's', send: secret(1), receive: secret(2) });
    const receiver = createAeadChannel({ sessionId: 's', send: secret(2), receive: secret(1), engine: nodeAead });
    expect([...(await receiver.open(await plain.seal(new Uint8Array([6]))))]).toEqual([6]);
    expect(given.calls).toEqual({ encrypt: 1, decrypt: 0 });
  });

  it('sealParts gives the same frame as seal(), in pieces, with counters in call order', async () => {
    const twin = () => createAeadChannel({ sessionId: 's', send: secret(1), receive: secret(2), engine: nodeAead });
    const [a, ref] = [twin(), twin()];
    const b = createAeadChannel({ sessionId: 's', send: secret(2), receive: secret(1), engine: webCryptoAead });
    const plains = [rnd(100), rnd(256 * 1024), rnd(0), rnd(7)];
    // Interleaved with seal(): each call takes the next counter when it is made.
    const frames = await Promise.all([
      a.sealParts!(plains[0]!),
      a.seal(plains[1]!),
      a.sealParts!(plains[2]!),
      a.sealParts!(plains[3]!),
    ]);
    const joined = frames.map((f) => (Array.isArray(f) ? Buffer.concat(f) : Buffer.from(f)));
    expect(Array.isArray(frames[0]) && frames[0].length).toBe(3); // counter, ciphertext, tag: not joined
    for (const [i, p] of plains.entries()) {
      expect(joined[i]!.equals(Buffer.from(await ref.seal(p)))).toBe(true);
      expect(Buffer.from(await b.open(joined[i]!)).equals(Buffer.from(p))).toBe(true);
    }
    // An engine without encryptParts: one piece, the whole frame.
    const web = createAeadChannel({ sessionId: 's', send: secret(1), receive: secret(2), engine: webCryptoAead });
    const one = await web.sealParts!(plains[0]!);
    expect(one).toHaveLength(1);
    expect(Buffer.from(one[0]!).equals(joined[0]!)).toBe(true);
  });
});
