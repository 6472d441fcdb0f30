// End-to-end encryption of session signal bodies between two contacts, so the relay cannot read SDP or
// ICE candidates (the addresses in them). Each Session has an ephemeral P-256 key for its life (its
// epoch); every signed envelope carries the sender's public key, so each side learns the other's from
// the first signal it verifies. Body key per direction = HKDF(ECDH(ours, theirs), salt = both keys and
// ids, info = direction); AES-256-GCM with the envelope's seq as nonce (unique per sender epoch) and the
// envelope header as associated data.
import { fromBase64url, toBase64url, type Bytes } from '../../../signaling/protocol/index.js';
import { encodeFields, sha256 } from '../crypto/encoding.js';

const SALT_LABEL = 'parley-signal-box/v1 salt';
const INFO_LABEL = 'parley-signal-box/v1';
const ECDH = { name: 'ECDH', namedCurve: 'P-256' } as const;

export class SignalKey {
  private constructor(
    readonly privateKey: CryptoKey,
    /** Raw public key, base64url (65-byte uncompressed P-256 point). */
    readonly publicKey: string,
  ) {}

  static async generate(): Promise<SignalKey> {
    const pair = (await crypto.subtle.generateKey(ECDH, false, ['deriveBits'])) as CryptoKeyPair;
    return new SignalKey(
      pair.privateKey,
      toBase64url(new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey))),
    );
  }
}

/** The AES key for signals from `senderId` (key `senderKey`) to `receiverId` (key `receiverKey`). */
export async function boxKey(
  own: SignalKey,
  peerPublic: string,
  senderId: string,
  receiverId: string,
  senderKey: string,
  receiverKey: string,
): Promise<CryptoKey> {
  const peer = await crypto.subtle.importKey('raw', fromBase64url(peerPublic), ECDH, false, []);
  const shared = new Uint8Array(await crypto.subtle.deriveBits({ name: 'ECDH', public: peer }, own.privateKey, 256));
  const ikm = await crypto.subtle.importKey('raw', shared, 'HKDF', false, ['deriveKey']);
  shared.fill(0);
  const salt = await sha256(encodeFields(SALT_LABEL, [senderId, receiverId, senderKey, receiverKey]));
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt, info: encodeFields(INFO_LABEL, [senderId, '->', receiverId]) },
    ikm,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

function nonceOf(seq: number): Bytes {
  const nonce = new Uint8Array(12);
  const view = new DataView(nonce.buffer);
  view.setUint32(4, Math.floor(seq / 0x1_0000_0000), false);
  view.setUint32(8, seq >>> 0, false);
  return nonce;
}

export async function sealBody(key: CryptoKey, seq: number, header: Bytes, body: string): Promise<string> {
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv: nonceOf(seq), additionalData: header },
    key,
    new TextEncoder().encode(body),
  );
  return toBase64url(new Uint8Array(sealed));
}

export async function openBody(key: CryptoKey, seq: number, header: Bytes, sealed: string): Promise<string> {
  const plain = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: nonceOf(seq), additionalData: header },
    key,
    fromBase64url(sealed),
  );
  return new TextDecoder().decode(plain);
}
