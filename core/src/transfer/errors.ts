// One error type for everything that can go wrong in a transfer, with a stable code the UI and CLI
// can switch on and a message a person can read. IO adapters (Node, browser) throw it too.

export const TransferErrorCode = {
  /** A relative path the peer sent (or we were asked to send) is unsafe to write. */
  BadName: 'bad-name',
  /** A source file could not be opened or read. */
  SourceUnreadable: 'source-unreadable',
  /** A source file changed (size or mtime) since it was offered; resuming would corrupt the copy. */
  SourceChanged: 'source-changed',
  /** The receiving disk is full; the partial file is kept for a later resume. */
  DiskFull: 'disk-full',
  /** Any other write failure; the partial file is kept. */
  WriteFailed: 'write-failed',
  /** The received bytes do not hash to what the sender hashed. */
  VerifyFailed: 'verify-failed',
  /** The peer broke the transfer protocol (malformed frame, bytes outside the window, ...). */
  Protocol: 'protocol',
  Cancelled: 'cancelled',
  Declined: 'declined',
  /** Too large or too many files for one offer. */
  TooLarge: 'too-large',
  /** The link to the contact went away; the transfer resumes when it comes back. */
  Interrupted: 'interrupted',
} as const;
export type TransferErrorCode = (typeof TransferErrorCode)[keyof typeof TransferErrorCode];

const CODES = new Set<string>(Object.values(TransferErrorCode));

export class TransferError extends Error {
  override readonly name = 'TransferError';
  constructor(
    readonly code: TransferErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isTransferErrorCode(value: string): value is TransferErrorCode {
  return CODES.has(value);
}

/** Wraps anything thrown by an IO adapter into a TransferError, keeping a TransferError as is. */
export function asTransferError(error: unknown, fallback: TransferErrorCode, context: string): TransferError {
  if (error instanceof TransferError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new TransferError(fallback, `${context}: ${detail}`, { cause: error });
}
