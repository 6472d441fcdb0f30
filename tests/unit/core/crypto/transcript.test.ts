import { beforeAll, describe, expect, it } from 'vitest';
import { toBase64url } from '../../../../signaling/protocol/index.js';
import { generateIdentityKeyPair, type IdentityKeyPair } from '../../../../core/src/identity/index.js';
import {
  CryptoError,
  buildTranscript,
  fingerprintOf,
  fingerprintsOf,
  signTranscript,
  transcriptFromSdp,
  verifyTranscript,
  type CryptoErrorCode,
} from '../../../../core/src/crypto/index.js';
import {
  CHROME_FP,
  CHROME_OFFER,
  SESSION_LEVEL_OFFER,
  WRTC_ANSWER,
  WRTC_FP,
  rewriteFingerprint,
} from './sdp-samples.js';

function codeOf(fn: () => unknown): CryptoErrorCode | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CryptoError);
    return (e as CryptoError).code;
  }
  return undefined;
}

const EVIL_FP = 'DE:AD:BE:EF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:01:23:45:67:89:AB:CD:EF:10:32:54:76';

describe('fingerprintsOf', () => {
  it('reads the one fingerprint of a Chromium offer (repeated per m-section)', () => {
    expect(fingerprintsOf(CHROME_OFFER)).toEqual([CHROME_FP]);
  });

  it('reads and upper-cases a libwebrtc answer', () => {
    expect(fingerprintsOf(WRTC_ANSWER)).toEqual([WRTC_FP]);
    expect(fingerprintOf(WRTC_ANSWER)).toBe(WRTC_FP);
  });

  it('reads a session-level fingerprint with LF line endings', () => {
    expect(fingerprintsOf(SESSION_LEVEL_OFFER)).toEqual([CHROME_FP]);
  });

  it('refuses SDP without a fingerprint', () => {
    const stripped = CHROME_OFFER.split('\r\n')
      .filter((l) => !l.startsWith('a=fingerprint'))
      .join('\r\n');
    expect(codeOf(() => fingerprintsOf(stripped))).toBe('no-fingerprint');
    expect(codeOf(() => fingerprintsOf(''))).toBe('no-fingerprint');
  });

  it('refuses conflicting fingerprints between m-sections or against the session level', () => {
    expect(codeOf(() => fingerprintsOf(rewriteFingerprint(CHROME_OFFER, EVIL_FP, '2')))).toBe('bad-fingerprint');
    const withSession = SESSION_LEVEL_OFFER.replace('a=mid:0', `a=mid:0\na=fingerprint:sha-256 ${EVIL_FP}`);
    expect(codeOf(() => fingerprintsOf(withSession))).toBe('bad-fingerprint');
  });

  it('refuses other hash functions and malformed values', () => {
    const extra = (line: string) => WRTC_ANSWER.replace('a=setup:active', `${line}\r\na=setup:active`);
    expect(
      codeOf(() =>
        fingerprintsOf(extra('a=fingerprint:sha-1 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01')),
      ),
    ).toBe('bad-fingerprint');
    expect(codeOf(() => fingerprintsOf(WRTC_ANSWER.replace('sha-256', 'sha-512')))).toBe('bad-fingerprint');
    expect(codeOf(() => fingerprintsOf(WRTC_ANSWER.replace(WRTC_FP.toLowerCase(), WRTC_FP.slice(3))))).toBe(
      'bad-fingerprint',
    );
    expect(codeOf(() => fingerprintsOf(WRTC_ANSWER.replace(WRTC_FP.toLowerCase(), WRTC_FP.replace(/:/g, ''))))).toBe(
      'bad-fingerprint',
    );
    expect(codeOf(() => fingerprintsOf(extra('a=fingerprint:sha-256')))).toBe('bad-fingerprint');
  });
});

describe('transcripts', () => {
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

  const fields = () => ({
    sessionId: 'sess-1',
    initiatorId: alice.id,
    responderId: bob.id,
    initiatorFingerprint: CHROME_FP,
    responderFingerprint: WRTC_FP,
  });

  it('is canonical: domain-separated, case-insensitive on fingerprints, sensitive to every field', () => {
    const t = buildTranscript(fields());
    expect(new TextDecoder().decode(t.subarray(4, 24))).toBe('parley-transcript/v1');
    expect(buildTranscript({ ...fields(), responderFingerprint: WRTC_FP.toLowerCase() })).toEqual(t);
    const variants = [
      { ...fields(), sessionId: 'sess-2' },
      { ...fields(), initiatorId: bob.id, responderId: alice.id },
      { ...fields(), initiatorFingerprint: WRTC_FP, responderFingerprint: CHROME_FP },
      { ...fields(), responderFingerprint: EVIL_FP },
    ];
    for (const v of variants) expect(buildTranscript(v)).not.toEqual(t);
  });

  it('refuses invalid fields', () => {
    expect(codeOf(() => buildTranscript({ ...fields(), sessionId: '' }))).toBe('invalid-input');
    expect(codeOf(() => buildTranscript({ ...fields(), sessionId: 'a b' }))).toBe('invalid-input');
    expect(codeOf(() => buildTranscript({ ...fields(), initiatorId: 'short' }))).toBe('invalid-input');
    expect(codeOf(() => buildTranscript({ ...fields(), responderId: alice.id }))).toBe('invalid-input');
    expect(codeOf(() => buildTranscript({ ...fields(), initiatorFingerprint: 'AB:CD' }))).toBe('invalid-input');
  });

  it('signs and verifies with Ed25519 and P-256 identities', async () => {
    const t = buildTranscript(fields());
    for (const signer of [alice, bob]) {
      const sig = await signTranscript(signer, t);
      expect(sig).toMatch(/^[A-Za-z0-9_-]{86}$/);
      expect(await verifyTranscript(signer.publicKey, t, sig)).toBe(true);
      expect(await verifyTranscript(mallory.publicKey, t, sig)).toBe(false);
    }
  });

  it('rejects tampered transcripts and signatures, malformed signatures included', async () => {
    const t = buildTranscript(fields());
    const sig = await signTranscript(alice, t);
    const tampered = t.slice();
    tampered[tampered.length - 1]! ^= 1;
    expect(await verifyTranscript(alice.publicKey, tampered, sig)).toBe(false);
    const raw = Uint8Array.from(atob(sig.replace(/-/g, '+').replace(/_/g, '/')), (ch) => ch.charCodeAt(0));
    raw[10]! ^= 0x40;
    expect(await verifyTranscript(alice.publicKey, t, toBase64url(raw))).toBe(false);
    expect(await verifyTranscript(alice.publicKey, t, 'not base64!')).toBe(false);
    expect(await verifyTranscript(alice.publicKey, t, sig.slice(0, 40))).toBe(false);
    expect(await verifyTranscript(alice.publicKey, t, '')).toBe(false);
    await expect(verifyTranscript({ alg: 'Ed25519', pub: 'AAAA' }, t, sig)).rejects.toMatchObject({
      code: 'wrong-key',
    });
  });

  it('detects a relay that rewrote a fingerprint in forwarded SDP, in either direction', async () => {
    const base = { sessionId: 'sess-9', initiatorId: alice.id, responderId: bob.id };
    // Alice offers CHROME_OFFER; Bob answers WRTC_ANSWER. Each signs its own view.
    const aliceView = { ...base, role: 'initiator' as const, localSdp: CHROME_OFFER, remoteSdp: WRTC_ANSWER };
    const bobView = { ...base, role: 'responder' as const, localSdp: WRTC_ANSWER, remoteSdp: CHROME_OFFER };
    expect(transcriptFromSdp(aliceView)).toEqual(transcriptFromSdp(bobView));
    const bobSig = await signTranscript(bob, transcriptFromSdp(bobView));
    expect(await verifyTranscript(bob.publicKey, transcriptFromSdp(aliceView), bobSig)).toBe(true);

    // The relay replaced Bob's fingerprint on the way to Alice.
    const aliceSawEvil = { ...aliceView, remoteSdp: WRTC_ANSWER.replace(WRTC_FP.toLowerCase(), EVIL_FP) };
    expect(await verifyTranscript(bob.publicKey, transcriptFromSdp(aliceSawEvil), bobSig)).toBe(false);

    // The relay replaced Alice's fingerprint (every m-section) on the way to Bob.
    const bobSawEvil = { ...bobView, remoteSdp: rewriteFingerprint(CHROME_OFFER, EVIL_FP) };
    const bobSigOnEvil = await signTranscript(bob, transcriptFromSdp(bobSawEvil));
    expect(await verifyTranscript(bob.publicKey, transcriptFromSdp(aliceView), bobSigOnEvil)).toBe(false);
  });
});
