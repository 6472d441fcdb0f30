import { describe, expect, it } from 'vitest';
import { CryptoError, createAeadChannel, type DirectionSecret } from '../../../../core/src/crypto/index.js';
import { EPOCH_FRAMES, MAX_COUNTER } from '../../../../core/src/crypto/aead-channel.js';
import { encodeFields } from '../../../../core/src/crypto/encoding.js';

function secret(fill: number): DirectionSecret {
  return { base: new Uint8Array(32).fill(fill), noncePrefix: new Uint8Array([fill, 0, 0, fill]) };
}
function pair(firstCounter?: number) {
  const x = secret(1);
  const y = secret(2);
  const a = createAeadChannel({
    sessionId: 's',
    send: x,
    receive: y,
    ...(firstCounter !== undefined ? { firstCounter } : {}),
  });
  const b = createAeadChannel({ sessionId: 's', send: y, receive: x });
  return { a, b };
}
const counterOf = (frame: Uint8Array) => Number(new DataView(frame.buffer, frame.byteOffset).getBigUint64(0, false));

describe('AEAD frames', () => {
  it('numbers frames from 0 in big-endian and keeps working across a key epoch boundary', async () => {
    const { a, b } = pair();
    expect(counterOf(await a.seal(new Uint8Array(1)))).toBe(0);
    const late = pair(EPOCH_FRAMES - 2);
    const frames = [];
    for (let i = 0; i < 4; i++) frames.push(await late.a.seal(new Uint8Array([i])));
    expect(frames.map(counterOf)).toEqual([EPOCH_FRAMES - 2, EPOCH_FRAMES - 1, EPOCH_FRAMES, EPOCH_FRAMES + 1]);
    for (let i = 0; i < 4; i++) expect([...(await late.b.open(frames[i]!))]).toEqual([i]);
    expect(b.sessionId).toBe('s');
  });

  it('matches the documented format, with a new key each epoch (checked by an independent decryption)', async () => {
    const { a } = pair(EPOCH_FRAMES - 1);
    const inEpoch0 = await a.seal(new Uint8Array([42]));
    const inEpoch1 = await a.seal(new Uint8Array([43]));
    const tryOpen = async (frame: Uint8Array, epoch: number) => {
      const base = await crypto.subtle.importKey('raw', secret(1).base, 'HKDF', false, ['deriveKey']);
      const info = new Uint8Array(8);
      new DataView(info.buffer).setBigUint64(0, BigInt(epoch), false);
      const key = await crypto.subtle.deriveKey(
        {
          name: 'HKDF',
          hash: 'SHA-256',
          salt: new Uint8Array(0),
          info: encodeFields('parley-secure-channel/v1 epoch', [info]),
        },
        base,
        { name: 'AES-GCM', length: 256 },
        false,
        ['decrypt'],
      );
      const header = frame.slice(0, 8);
      const iv = new Uint8Array([...secret(1).noncePrefix, ...header]);
      const additionalData = new Uint8Array([...encodeFields('parley-secure-channel/v1 frame', ['s']), ...header]);
      return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData }, key, frame.slice(8)));
    };
    expect([...((await tryOpen(inEpoch0, 0).catch(() => null)) ?? [])]).toEqual([42]);
    expect(await tryOpen(inEpoch1, 0).catch(() => 'refused')).toBe('refused');
    expect([...((await tryOpen(inEpoch1, 1).catch(() => null)) ?? [])]).toEqual([43]);
  });

  it('refuses to seal past the last counter', async () => {
    const { a, b } = pair(MAX_COUNTER);
    const last = await a.seal(new Uint8Array([7]));
    expect(counterOf(last)).toBe(MAX_COUNTER);
    expect([...(await b.open(last))]).toEqual([7]);
    const err = await a.seal(new Uint8Array([8])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CryptoError);
    expect((err as CryptoError).code).toBe('counter-exhausted');
  });

  it('refuses a counter beyond 2^53 as a bad frame', async () => {
    const { b } = pair();
    const frame = new Uint8Array(8 + 16);
    frame[0] = 0xff;
    const err = await b.open(frame).catch((e: unknown) => e);
    expect((err as CryptoError).code).toBe('bad-frame');
  });

  it('refuses malformed direction secrets', () => {
    expect(() =>
      createAeadChannel({
        sessionId: 's',
        send: { base: new Uint8Array(16), noncePrefix: new Uint8Array(4) },
        receive: secret(2),
      }),
    ).toThrow(CryptoError);
  });

  it('seals with headroom: zero bytes before the same frame, which opens from the rest', async () => {
    const { a, b } = pair();
    const plain = new Uint8Array([1, 2, 3]);
    const framed = await a.seal(plain, 4);
    expect(framed.length).toBe(4 + 8 + 3 + 16);
    expect([...framed.subarray(0, 4)]).toEqual([0, 0, 0, 0]);
    expect(counterOf(framed.subarray(4))).toBe(0);
    expect([...(await b.open(framed.subarray(4)))]).toEqual([1, 2, 3]);
    for (const bad of [-1, 1.5, 65])
      expect(((await a.seal(plain, bad).catch((e: unknown) => e)) as CryptoError).code).toBe('invalid-input');
  });
});
