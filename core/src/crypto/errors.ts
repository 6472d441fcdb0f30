// One error type for every cryptographic refusal, so callers can branch on `code` and show `message`.

export type CryptoErrorCode =
  /** A frame's counter is not above the last accepted one (duplicate, replay or reordering). */
  | 'replay'
  /** AEAD tag check failed: the frame was modified, truncated, or sealed with another key. */
  | 'authentication-failed'
  /** The channel refused further use after an authentication failure. */
  | 'channel-failed'
  /** The frame is structurally impossible (too short, too long). */
  | 'bad-frame'
  /** An opened relay record is not a well-formed batch of frames (crypto/record.ts). */
  | 'bad-record'
  /** Plaintext above the per-frame maximum. */
  | 'too-large'
  /** The send counter reached its maximum: make a new handshake. */
  | 'counter-exhausted'
  /** The peer's handshake message is malformed. */
  | 'bad-handshake'
  /** The peer's handshake or transcript signature does not verify. */
  | 'bad-signature'
  /** The peer's message belongs to another session. */
  | 'wrong-session'
  /** The peer's key does not match the identity we expected. */
  | 'wrong-key'
  /** A handshake was completed twice. */
  | 'handshake-used'
  /** The two sides share no key-agreement algorithm. */
  | 'unsupported'
  /** SDP without a DTLS fingerprint. */
  | 'no-fingerprint'
  /** SDP with more than one distinct DTLS fingerprint, or a hash function we do not accept. */
  | 'bad-fingerprint'
  /** An argument is out of its valid range (programming error or corrupt local data). */
  | 'invalid-input'
  /** The peer speaks another version of the handshake (an older or newer Parley). */
  | 'version'
  /** The peer's first frame is not its key confirmation: it does not hold the session keys (e.g. a replayed handshake). */
  | 'key-confirmation';

export class CryptoError extends Error {
  override readonly name = 'CryptoError';
  readonly code: CryptoErrorCode;

  constructor(code: CryptoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
