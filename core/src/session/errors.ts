// Why a session or one of its transports was refused or failed.
export type SessionErrorCode =
  /** The SDP's DTLS fingerprint differs from the one the contact signed: someone rewrote it in transit. */
  | 'tampered'
  /** A signature did not verify with the contact's key: someone else is speaking for the contact. */
  | 'impersonation'
  /** The signed transcript over the data channel did not verify. */
  | 'transcript'
  /** Malformed peer input. */
  | 'protocol'
  /** The contact runs a Parley that speaks another version of the session protocol. */
  | 'version'
  /** The direct attempt did not connect (ICE failure, timeout, peer gone). */
  | 'failed';

export class SessionError extends Error {
  override readonly name = 'SessionError';
  constructor(
    readonly code: SessionErrorCode,
    message: string,
  ) {
    super(message);
  }

  /** Refusals mean an attack or a wrong key: the session stops instead of retrying. */
  get refusal(): boolean {
    return this.code === 'tampered' || this.code === 'impersonation' || this.code === 'transcript';
  }
}
