// The signed DTLS fingerprint on every call offer/answer: what passes, and each way a relay could try to cheat.
import { describe, expect, it } from 'vitest';
import {
  callFpStatement,
  signRing,
  signSdpFingerprint,
  TrustFailure,
  verifyRing,
  verifySdpFingerprint,
  type VerifySdpInput,
} from '../../../../core/src/call/trust.js';
import { generateIdentityKeyPair } from '../../../../core/src/identity/keys.js';
import { toBase64url } from '../../../../signaling/protocol/index.js';
import { signIdentity } from '../../../../core/src/identity/keys.js';

const FP_A = Array.from({ length: 32 }, (_, i) => (i * 7).toString(16).padStart(2, '0').toUpperCase()).join(':');
const FP_B = Array.from({ length: 32 }, (_, i) => (255 - i).toString(16).padStart(2, '0').toUpperCase()).join(':');
const sdpWith = (fp: string) =>
  `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=fingerprint:sha-256 ${fp}\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n`;

async function setup() {
  const caller = await generateIdentityKeyPair({ extractable: false });
  const callee = await generateIdentityKeyPair({ extractable: false });
  const sdp = sdpWith(FP_A);
  const fp = await signSdpFingerprint(caller, 'call-0123456789abcdef', 'caller', callee.id, sdp);
  const input: VerifySdpInput = {
    callId: 'call-0123456789abcdef',
    senderRole: 'caller',
    senderId: caller.id,
    senderKey: caller.publicKey,
    receiverId: callee.id,
    sdp,
    fp,
    senderName: 'Alice',
  };
  return { caller, callee, input };
}

async function failure(input: VerifySdpInput): Promise<TrustFailure> {
  const err = await verifySdpFingerprint(input).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TrustFailure);
  return err as TrustFailure;
}

describe('call DTLS fingerprint signatures', () => {
  it('accepts an SDP whose fingerprint the contact signed for this call, role and pair of ids', async () => {
    const { input } = await setup();
    expect(input.fp?.fingerprint).toBe(FP_A);
    expect(await verifySdpFingerprint(input)).toBe(FP_A);
    expect(await verifySdpFingerprint({ ...input, sdp: sdpWith(FP_A.toLowerCase()), pinned: FP_A })).toBe(FP_A);
  });

  it('refuses an SDP whose fingerprint the relay swapped, with the clear reason', async () => {
    const { input } = await setup();
    const err = await failure({ ...input, sdp: sdpWith(FP_B) });
    expect(err.code).toBe('tampered');
    expect(err.message).toContain("the relay altered the call's encryption fingerprint");
  });

  it('refuses a swapped fingerprint even when the relay also rewrites the claimed one (signature no longer matches)', async () => {
    const { input } = await setup();
    const err = await failure({ ...input, sdp: sdpWith(FP_B), fp: { fingerprint: FP_B, sig: input.fp!.sig } });
    expect(err.code).toBe('impersonation');
  });

  it('refuses unsigned setups, signatures by another key, and signatures for another call, role or receiver', async () => {
    const { input, callee } = await setup();
    expect((await failure({ ...input, fp: undefined })).code).toBe('impersonation');
    expect((await failure({ ...input, fp: { ...input.fp!, sig: 'AAAA' } })).code).toBe('impersonation');
    expect((await failure({ ...input, fp: { ...input.fp!, sig: '!!' } })).code).toBe('impersonation');
    const mallory = await generateIdentityKeyPair({ extractable: false });
    expect((await failure({ ...input, senderKey: mallory.publicKey })).code).toBe('impersonation');
    expect((await failure({ ...input, callId: 'call-another-one-xyz' })).code).toBe('impersonation');
    expect((await failure({ ...input, senderRole: 'callee' })).code).toBe('impersonation');
    expect((await failure({ ...input, receiverId: mallory.id })).code).toBe('impersonation');
    // A signature the callee made is not one by the caller.
    const bySomeoneElse = toBase64url(
      await signIdentity(callee, callFpStatement(input.callId, 'caller', input.senderId, input.receiverId, FP_A)),
    );
    expect((await failure({ ...input, fp: { fingerprint: FP_A, sig: bySomeoneElse } })).code).toBe('impersonation');
  });

  it('refuses an SDP without a usable fingerprint, and a fingerprint that changes during the call', async () => {
    const { input } = await setup();
    expect((await failure({ ...input, sdp: 'v=0\r\nm=audio 9 RTP 0\r\n' })).code).toBe('tampered');
    expect((await failure({ ...input, pinned: FP_B })).code).toBe('tampered');
  });
});

describe('signed rings', () => {
  it('verify for the same fields and fail for any change', async () => {
    const caller = await generateIdentityKeyPair({ extractable: false });
    const callee = await generateIdentityKeyPair({ extractable: false });
    const fields = {
      callId: 'ring-0123456789abcdef',
      callerId: caller.id,
      calleeId: callee.id,
      media: { audio: true, video: false },
      at: 1_700_000_000_000,
    };
    const sig = await signRing(caller, fields);
    expect(await verifyRing(caller.publicKey, fields, sig)).toBe(true);
    expect(await verifyRing(callee.publicKey, fields, sig)).toBe(false);
    expect(await verifyRing(caller.publicKey, { ...fields, at: fields.at + 1 }, sig)).toBe(false);
    expect(await verifyRing(caller.publicKey, { ...fields, media: { audio: true, video: true } }, sig)).toBe(false);
    expect(await verifyRing(caller.publicKey, { ...fields, calleeId: caller.id }, sig)).toBe(false);
    expect(await verifyRing(caller.publicKey, fields, 'not base64url!')).toBe(false);
  });
});
