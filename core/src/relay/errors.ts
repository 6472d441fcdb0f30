// Typed failures of relay operations, so callers branch on `code` instead of parsing messages.
export type RelayErrorCode =
  /** The target identity is not connected to the relay. */
  | 'offline'
  /** The client was closed; nothing more will be sent. */
  | 'closed'
  /** The relay connection dropped after the message left us; whether it arrived is unknown. */
  | 'disconnected'
  /** Too many messages waiting for the relay to come back. */
  | 'queue-full'
  /** The message waited longer than allowed for the relay to come back, or for an answer. */
  | 'timeout'
  /** The relay refused the request (its error code is in `relayCode`). */
  | 'refused';

export class RelayError extends Error {
  override readonly name = 'RelayError';
  constructor(
    readonly code: RelayErrorCode,
    message: string,
    readonly relayCode?: string,
  ) {
    super(message);
  }
}

export function isRelayError(error: unknown, code?: RelayErrorCode): error is RelayError {
  return error instanceof RelayError && (code === undefined || error.code === code);
}
