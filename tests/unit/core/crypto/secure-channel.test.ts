import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { fromBase64url, toBase64url } from '../../../../signaling/protocol/index.js';
import { generateIdentityKeyPair, signIdentity, type IdentityKeyPair } from '../../../../core/src/identity/index.js';
import {
  CryptoError,
  MAX_PLAINTEXT,
  createHandshake,
  type CryptoErrorCode,
  type EstablishedChannel,
  type HandshakeMessage,
  type HandshakeOptions,
  type KexAlgorithm,
} from '../../../../core/src/crypto/index.js';
import { encodeFields } from '../../../../core/src/crypto/encoding.js';

let alice: IdentityKeyPair;
let bob: IdentityKeyPair;
let mallory: IdentityKeyPair;
beforeAll(async () => {
  [alice, bob, mallory] = await Promise.all([
    generateIdentityKeyPair({ extractable: false }),
    generateIdentityKeyPair({ extractable: false, algorithm: 'P-256' }),
    generateIdentityKeyPair({ extractable: false }),
  ]);
});
afterEach(() => vi.restoreAllMocks());

const enc = new TextEncoder();
const dec = new TextDecoder();

function sides(sessionId = 'session-1') {
  const a: HandshakeOptions = { identity: alice, peerKey: bob.publicKey, peerId: bob.id, sessionId, role: 'initiator' };
  const b: HandshakeOptions = {
    identity: bob,
    peerKey: alice.publicKey,
    peerId: alice.id,
    sessionId,
    role: 'responder',
  };
  return { a, b };
}

/** Both handshakes, messages passed through JSON as the relay would. */
async function connect(opts = sides()): Promise<{ a: EstablishedChannel; b: EstablishedChannel }> {
  const [ha, hb] = await Promise.all([createHandshake(opts.a), createHandshake(opts.b)]);
  const wire = (m: HandshakeMessage): unknown => JSON.parse(JSON.stringify(m));
  const [a, b] = await Promise.all([ha.complete(wire(hb.message)), hb.complete(wire(ha.message))]);
  return { a, b };
}

async function codeOf(p: Promise<unknown>): Promise<CryptoErrorCode> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected a CryptoError').toBeInstanceOf(CryptoError);
  expect((e as CryptoError).message.length).toBeGreaterThan(5);
  return (e as CryptoError).code;
}

function random(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}

describe('secure channel: establishment and round trips', () => {
  it('agrees on X25519 by default and carries data both ways, every size up to 256 KiB', async () => {
    const { a, b } = await connect();
    expect(a.kex).toBe('X25519');
    expect(b.kex).toBe('X25519');
    expect(a.sessionId).toBe('session-1');
    for (const size of [0, 1, 1000, 65536, MAX_PLAINTEXT]) {
      const m = random(size);
      const frame = await a.seal(m);
      expect(frame.length).toBe(8 + size + 16);
      // Buffer.equals: vitest's deep equality walks 256 Ki elements one by one.
      expect(Buffer.from(await b.open(frame)).equals(m)).toBe(true);
      const back = await b.seal(m);
      expect(Buffer.from(await a.open(back)).equals(m)).toBe(true);
    }
  });

  it('does not leak plaintext and never repeats a ciphertext for the same message', async () => {
    const { a } = await connect();
    const m = enc.encode('attack at dawn, attack at dawn, attack at dawn');
    const f1 = await a.seal(m);
    const f2 = await a.seal(m);
    expect(dec.decode(f1)).not.toContain('attack');
    expect(toBase64url(f1.subarray(8))).not.toBe(toBase64url(f2.subarray(8)));
  });

  it.each<[KexAlgorithm[] | undefined, KexAlgorithm[] | undefined, KexAlgorithm]>([
    [['P-256'], ['P-256'], 'P-256'],
    [undefined, ['P-256'], 'P-256'], // the responder has no X25519
    [['P-256'], undefined, 'P-256'], // the initiator has no X25519
    [['P-256', 'X25519'], undefined, 'P-256'], // the initiator's preference decides
    [['X25519'], ['X25519', 'P-256'], 'X25519'],
  ])('kex %j / %j → %s', async (ka, kb, expected) => {
    const o = sides();
    const { a, b } = await connect({
      a: { ...o.a, ...(ka ? { kex: ka } : {}) },
      b: { ...o.b, ...(kb ? { kex: kb } : {}) },
    });
    expect(a.kex).toBe(expected);
    expect(b.kex).toBe(expected);
    expect(dec.decode(await b.open(await a.seal(enc.encode('hi'))))).toBe('hi');
    expect(dec.decode(await a.open(await b.seal(enc.encode('yo'))))).toBe('yo');
  });

  it('falls back to P-256 when WebCrypto throws NotSupportedError for X25519', async () => {
    const real = crypto.subtle.generateKey.bind(crypto.subtle) as (...args: unknown[]) => Promise<unknown>;
    vi.spyOn(crypto.subtle, 'generateKey').mockImplementation(((alg: unknown, ...rest: unknown[]) => {
      if ((alg as { name?: string }).name === 'X25519')
        return Promise.reject(new DOMException('Unrecognized name.', 'NotSupportedError'));
      return real(alg, ...rest);
    }) as typeof crypto.subtle.generateKey);
    const hb = await createHandshake(sides().b);
    expect(hb.message.ephPub.map((k) => k.alg)).toEqual(['P-256']);
    vi.restoreAllMocks();
    const ha = await createHandshake(sides().a);
    expect(ha.message.ephPub.map((k) => k.alg)).toEqual(['X25519', 'P-256']);
    const [a, b] = await Promise.all([ha.complete(hb.message), hb.complete(ha.message)]);
    expect(a.kex).toBe('P-256');
    expect(dec.decode(await b.open(await a.seal(enc.encode('fallback'))))).toBe('fallback');
  });

  it('refuses when the two sides share no algorithm', async () => {
    const o = sides();
    const [ha, hb] = await Promise.all([
      createHandshake({ ...o.a, kex: ['X25519'] }),
      createHandshake({ ...o.b, kex: ['P-256'] }),
    ]);
    expect(await codeOf(ha.complete(hb.message))).toBe('unsupported');
  });

  it('keeps order for concurrent seal() calls collected with Promise.all', async () => {
    const { a, b } = await connect();
    const frames = await Promise.all(Array.from({ length: 50 }, (_, i) => a.seal(enc.encode(`m${i}`))));
    const out: string[] = [];
    for (const f of frames) out.push(dec.decode(await b.open(f)));
    expect(out).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
  });
});

describe('secure channel: frames refused', () => {
  it.each([
    ['counter', 7],
    ['ciphertext', 8 + 3],
    ['tag', -1],
  ])('a flipped bit in the %s fails authentication and closes the channel', async (_where, at) => {
    const { a, b } = await connect();
    const frame = await a.seal(enc.encode('important payload'));
    const bad = frame.slice();
    const i = at < 0 ? bad.length + at : at;
    bad[i]! ^= 0x01;
    expect(await codeOf(b.open(bad))).toBe('authentication-failed');
    // After a forgery the channel refuses everything: the session must re-handshake.
    expect(await codeOf(b.open(frame))).toBe('channel-failed');
  });

  it('refuses replays and reordering', async () => {
    const { a, b } = await connect();
    const f0 = await a.seal(enc.encode('zero'));
    const f1 = await a.seal(enc.encode('one'));
    const f2 = await a.seal(enc.encode('two'));
    expect(dec.decode(await b.open(f0))).toBe('zero');
    expect(await codeOf(b.open(f0))).toBe('replay');
    expect(dec.decode(await b.open(f2))).toBe('two');
    expect(await codeOf(b.open(f1))).toBe('replay');
    // A replay does not poison the channel: later frames still open.
    expect(dec.decode(await b.open(await a.seal(enc.encode('three'))))).toBe('three');
  });

  it('refuses a frame reflected back to its sender, and frames from another session', async () => {
    const one = await connect(sides('session-A'));
    const two = await connect(sides('session-B'));
    const frame = await one.a.seal(enc.encode('x'));
    expect(await codeOf(one.a.open(frame))).toBe('authentication-failed');
    expect(await codeOf(two.b.open(frame))).toBe('authentication-failed');
  });

  it('refuses frames of impossible size and oversized plaintext', async () => {
    const { a, b } = await connect();
    expect(await codeOf(b.open(new Uint8Array(23)))).toBe('bad-frame');
    expect(await codeOf(b.open(new Uint8Array(8 + MAX_PLAINTEXT + 17)))).toBe('bad-frame');
    expect(await codeOf(a.seal(new Uint8Array(MAX_PLAINTEXT + 1)))).toBe('too-large');
    expect(await codeOf(a.seal('text' as unknown as Uint8Array))).toBe('invalid-input');
    // Size refusals change no state.
    expect(dec.decode(await b.open(await a.seal(enc.encode('ok'))))).toBe('ok');
  });

  it('opens frames held in a Node Buffer view of a larger pool', async () => {
    const { a, b } = await connect();
    const frame = await a.seal(enc.encode('pooled'));
    const pooled = Buffer.concat([Buffer.alloc(13), Buffer.from(frame), Buffer.alloc(5)]).subarray(
      13,
      13 + frame.length,
    );
    expect(dec.decode(await b.open(pooled))).toBe('pooled');
  });
});

describe('secure channel: handshake refused', () => {
  it('a man in the middle signing his own ephemeral key with another identity', async () => {
    const o = sides();
    const ha = await createHandshake(o.a);
    // Mallory (e.g. the relay) answers Alice pretending to be Bob, with his own identity key.
    const hm = await createHandshake({
      identity: mallory,
      peerKey: alice.publicKey,
      peerId: alice.id,
      sessionId: 'session-1',
      role: 'responder',
    });
    expect(await codeOf(ha.complete(hm.message))).toBe('bad-signature');
  });

  it('a real signed message whose ephemeral key was swapped, or whose X25519 offer was stripped (downgrade)', async () => {
    const o = sides();
    const [ha1, hb1, hm] = await Promise.all([
      createHandshake(o.a),
      createHandshake(o.b),
      createHandshake({
        identity: mallory,
        peerKey: alice.publicKey,
        peerId: alice.id,
        sessionId: 'session-1',
        role: 'responder',
      }),
    ]);
    const swapped = { ...hb1.message, ephPub: hm.message.ephPub };
    expect(await codeOf(ha1.complete(swapped))).toBe('bad-signature');
    const ha2 = await createHandshake(o.a);
    const stripped = { ...hb1.message, ephPub: hb1.message.ephPub.filter((k) => k.alg === 'P-256') };
    expect(await codeOf(ha2.complete(stripped))).toBe('bad-signature');
  });

  it('a message from another session (including a replayed old handshake)', async () => {
    const old = await createHandshake(sides('session-old').b);
    const ha = await createHandshake(sides('session-new').a);
    expect(await codeOf(ha.complete(old.message))).toBe('wrong-session');
    // Even with the session id edited to match, the signature covers the real one.
    const ha2 = await createHandshake(sides('session-new').a);
    expect(await codeOf(ha2.complete({ ...old.message, sessionId: 'session-new' }))).toBe('bad-signature');
  });

  it('the wrong peer key, and a peer id that does not belong to the key', async () => {
    const o = sides();
    // Alice believes she is talking to Mallory, but Bob answers: Bob's signature is not Mallory's.
    const ha = await createHandshake({ ...o.a, peerKey: mallory.publicKey, peerId: mallory.id });
    const hb = await createHandshake(o.b);
    expect(await codeOf(ha.complete(hb.message))).toBe('bad-signature');
    expect(await codeOf(createHandshake({ ...o.a, peerId: mallory.id }))).toBe('wrong-key');
    expect(await codeOf(createHandshake({ ...o.a, peerKey: { alg: 'Ed25519', pub: 'AAAA' } }))).toBe('wrong-key');
    expect(await codeOf(createHandshake({ ...o.a, peerKey: alice.publicKey, peerId: alice.id }))).toBe('invalid-input');
    expect(await codeOf(createHandshake({ ...o.a, sessionId: '' }))).toBe('invalid-input');
  });

  it('malformed messages, a role clash, and a second complete()', async () => {
    const o = sides();
    const hb = await createHandshake(o.b);
    const good = hb.message;
    const bad: unknown[] = [
      null,
      'hello',
      {},
      { ...good, v: '2' },
      { ...good, ephPub: [] },
      { ...good, ephPub: [{ alg: 'X448', pub: 'AAAA' }] },
      { ...good, ephPub: [{ alg: 'X25519', pub: toBase64url(new Uint8Array(31)) }] },
      { ...good, ephPub: [good.ephPub[0], good.ephPub[0]] },
      { ...good, sig: 'not base64url!' },
      { ...good, sig: `${good.sig}A` },
    ];
    for (const m of bad) {
      const ha = await createHandshake(o.a);
      expect(await codeOf(ha.complete(m))).toBe('bad-handshake');
    }
    const clash = await createHandshake({ ...o.b, role: 'initiator' });
    const ha = await createHandshake(o.a);
    expect(await codeOf(ha.complete(clash.message))).toBe('bad-handshake');
    expect(await codeOf(ha.complete(good))).toBe('handshake-used');
  });

  it('a correctly signed low-order X25519 key (all-zero shared secret)', async () => {
    const o = sides();
    const ha = await createHandshake({ ...o.a, kex: ['X25519'] });
    // Bob's identity signs a zero point: what a buggy or hostile peer could send.
    const zero = new Uint8Array(32);
    const statement = encodeFields('parley-secure-channel/v2 handshake', [
      'session-1',
      alice.id,
      bob.id,
      'responder',
      '1',
      'X25519',
      zero,
    ]);
    const sig = toBase64url(await signIdentity(bob, statement));
    const message = {
      v: 2,
      sessionId: 'session-1',
      role: 'responder',
      ephPub: [{ alg: 'X25519', pub: toBase64url(zero) }],
      sig,
    };
    expect(await codeOf(ha.complete(message))).toBe('bad-handshake');
    expect(fromBase64url(message.ephPub[0]!.pub)).toHaveLength(32);
  });

  it('a correctly signed P-256 ephemeral key that is not on the curve', async () => {
    const o = sides();
    const ha = await createHandshake({ ...o.a, kex: ['P-256'] });
    const point = new Uint8Array(65).fill(5);
    point[0] = 4;
    const statement = encodeFields('parley-secure-channel/v2 handshake', [
      'session-1',
      alice.id,
      bob.id,
      'responder',
      '1',
      'P-256',
      point,
    ]);
    const sig = toBase64url(await signIdentity(bob, statement));
    const message = {
      v: 2,
      sessionId: 'session-1',
      role: 'responder',
      ephPub: [{ alg: 'P-256', pub: toBase64url(point) }],
      sig,
    };
    const error = await ha.complete(message).catch((e: unknown) => e);
    expect((error as CryptoError).code).toBe('bad-handshake');
    expect((error as CryptoError).message).toMatch(/P-256 key is invalid/);
  });
});
