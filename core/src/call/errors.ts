// Errors thrown synchronously by call operations the caller got wrong (wrong state, unknown contact).
// Failures of the call itself are not thrown: they end the call with a CallEnd (see types.ts).
export type CallErrorCode =
  /** Another call is in progress. */
  | 'busy'
  /** The id is not a contact (no key known). */
  | 'unknown-contact'
  /** The operation does not fit the call's current state or direction. */
  | 'invalid-state'
  /** A media argument is unusable (no tracks, unknown track). */
  | 'invalid-media'
  /** The manager was closed. */
  | 'closed';

export class CallError extends Error {
  override readonly name = 'CallError';
  constructor(
    readonly code: CallErrorCode,
    message: string,
  ) {
    super(message);
  }
}
