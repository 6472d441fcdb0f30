// The store-and-forward mail store's interface (mailbox.ts has the in-memory one and the handlers,
// cluster/mail-store.ts the Redis one). Types only: the relay context names the store without importing either.

/** One stored mail: its id and the `mail` message the recipient gets, serialised once. */
export interface StoredMail {
  readonly id: string;
  readonly text: string;
}

export type PostResult = 'queued' | 'rate-limited' | 'too-large' | 'full';

export interface PostOutcome {
  readonly result: PostResult;
  /** Set when queued. */
  readonly mail?: StoredMail;
}

/** Synchronous in a single process (answers keep their order with the rest), a promise in a cluster. */
export type MaybePromise<T> = T | Promise<T>;

/**
 * Where mail waits. Every implementation keeps the same rules: `MAX_MAIL_BYTES` per body, the per-sender rate,
 * `mailTotalBytes`, `mailPerPair` and `mailPerRecipient` (the oldest goes first), `mailTtlMs`, and mail kept
 * until its recipient acknowledges it. A store that reaches other nodes delivers new mail there itself.
 */
export interface MailStore {
  post(from: string, to: string, bodyJson: string): MaybePromise<PostOutcome>;
  /** Everything waiting for `to`, oldest first. */
  waiting(to: string): MaybePromise<readonly StoredMail[]>;
  ack(to: string, ids: readonly string[]): MaybePromise<void>;
}
