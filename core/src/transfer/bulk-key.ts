// Keys of a bulk lane (stage B of the desktop TCP path): a file's bytes travel on a TCP connection of their
// own between the two main processes, outside the session stream, so they need a key of their own that the
// main processes may hold while the identity keys stay in the renderers.
//   lane key   = HKDF-SHA256(ikm = senderShare ‖ receiverShare, info = sessionId ‖ offerId ‖ fileId)
//   lane tag   = HMAC(lane key, "tag")[0..16]: names the lane to a listener without revealing the key
//   directions = HKDF(lane key, info = connectorNonce ‖ listenerNonce): fresh AES-GCM secrets per connection,
//                so a lane reopened after a cut never reuses a nonce although its counters start again at 0.
// Each side draws its 32-byte share and sends it inside the verified, encrypted session: nobody outside
// the session learns the key, and neither side alone chooses it. The transfer engine passes an empty
// sessionId (it has no id both ends share per session attempt): the fresh shares, offerId and fileId bind
// the key. Pure WebCrypto: no DOM, no Node.
import type { Bytes } from '../../../signaling/protocol/index.js';
import { encodeFields } from '../crypto/encoding.js';
import type { DirectionSecret } from '../crypto/aead-channel.js';

export const BULK_SHARE_BYTES = 32;
export const LANE_KEY_BYTES = 32;
export const LANE_TAG_BYTES = 16;
export const LANE_NONCE_BYTES = 16;
export const LANE_MAC_BYTES = 32;

const KEY_LABEL = 'parley-bulk/v1 lane key';
const TAG_LABEL = 'parley-bulk/v1 lane tag';
const CONFIRM_LABEL = 'parley-bulk/v1 confirm';
const DIRECTIONS_LABEL = 'parley-bulk/v1 directions';

/** Which end of the file a side is: the sender reads it, the receiver writes it. */
export type LaneRole = 'sender' | 'receiver';
/** Which end of the TCP connection: the connector dialled, the listener accepted. */
export type LaneEnd = 'connector' | 'listener';

export function newBulkShare(): Bytes {
  return crypto.getRandomValues(new Uint8Array(BULK_SHARE_BYTES));
}

export interface LaneKeyInput {
  /** Bound into the key when the caller has one; the transfer engine passes '' (see above). */
  sessionId: string;
  offerId: string;
  fileId: number;
  senderShare: Uint8Array;
  receiverShare: Uint8Array;
}

function u32(value: number): Bytes {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, false);
  return out;
}

function exact(bytes: Uint8Array, length: number, what: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length)
    throw new RangeError(`${what} must be ${length} bytes`);
}

async function hkdf(ikm: Uint8Array, info: Uint8Array, bytes: number): Promise<Bytes> {
  const base = await crypto.subtle.importKey('raw', ikm as Bytes, 'HKDF', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: info as Bytes },
    base,
    bytes * 8,
  );
  return new Uint8Array(bits);
}

async function hmac(key: Uint8Array, data: Uint8Array): Promise<Bytes> {
  const k = await crypto.subtle.importKey('raw', key as Bytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', k, data as Bytes));
}

/** The lane key both sides compute from the two shares they exchanged inside the session. */
export async function deriveLaneKey(input: LaneKeyInput): Promise<Bytes> {
  exact(input.senderShare, BULK_SHARE_BYTES, 'the sender share');
  exact(input.receiverShare, BULK_SHARE_BYTES, 'the receiver share');
  if (!Number.isInteger(input.fileId) || input.fileId < 0 || input.fileId > 0xffff_ffff)
    throw new RangeError('fileId must be a u32');
  const ikm = encodeFields(KEY_LABEL, [input.senderShare, input.receiverShare]);
  const info = encodeFields(KEY_LABEL, [input.sessionId, input.offerId, u32(input.fileId)]);
  return hkdf(ikm, info, LANE_KEY_BYTES);
}

/** The lane's public name: what a connector announces so the listener finds the key (HMAC, not the key). */
export async function laneTag(key: Uint8Array): Promise<Bytes> {
  exact(key, LANE_KEY_BYTES, 'a lane key');
  return (await hmac(key, encodeFields(TAG_LABEL, []))).slice(0, LANE_TAG_BYTES);
}

export interface ConfirmInput {
  key: Uint8Array;
  /** Whose proof this is. */
  end: LaneEnd;
  /** The file role the connector claimed (bound into both proofs: a lane cannot be turned around). */
  connectorRole: LaneRole;
  tag: Uint8Array;
  connectorNonce: Uint8Array;
  listenerNonce: Uint8Array;
}

/** Key confirmation: each end proves it holds the key, bound to both fresh nonces and to its end. */
export async function confirmMac(input: ConfirmInput): Promise<Bytes> {
  exact(input.key, LANE_KEY_BYTES, 'a lane key');
  exact(input.tag, LANE_TAG_BYTES, 'a lane tag');
  exact(input.connectorNonce, LANE_NONCE_BYTES, 'a nonce');
  exact(input.listenerNonce, LANE_NONCE_BYTES, 'a nonce');
  return hmac(
    input.key,
    encodeFields(CONFIRM_LABEL, [input.end, input.connectorRole, input.tag, input.connectorNonce, input.listenerNonce]),
  );
}

/** Equal in time that does not depend on where they differ. */
export function macEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export interface LaneDirections {
  /** Sender → receiver (file bytes). */
  toReceiver: DirectionSecret;
  /** Receiver → sender (start offset, acknowledgements). */
  toSender: DirectionSecret;
}

/** This connection's record secrets (fresh per connection: both nonces are in the derivation). */
export async function laneDirections(
  key: Uint8Array,
  connectorNonce: Uint8Array,
  listenerNonce: Uint8Array,
): Promise<LaneDirections> {
  exact(key, LANE_KEY_BYTES, 'a lane key');
  const bits = await hkdf(key, encodeFields(DIRECTIONS_LABEL, [connectorNonce, listenerNonce]), 2 * (32 + 4));
  return {
    toReceiver: { base: bits.slice(0, 32), noncePrefix: bits.slice(32, 36) },
    toSender: { base: bits.slice(36, 68), noncePrefix: bits.slice(68, 72) },
  };
}
