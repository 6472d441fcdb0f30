// Short-lived TURN credentials for authenticated clients, in the TURN REST scheme coturn checks with
// `use-auth-secret` + `static-auth-secret`: username "<expiry unix seconds>:<opaque id>", credential
// base64(HMAC-SHA1(secret, username)). The TURN server needs no user database and no call to the relay: it
// recomputes the credential from the username and refuses it once the expiry has passed.
import { createHmac } from 'node:crypto';
import {
  ErrorCode,
  MAX_TURN_TTL_SECONDS,
  MAX_TURN_URLS,
  MIN_TURN_TTL_SECONDS,
  turnUrlProblem,
  type TurnCredentials,
} from '../protocol/index.js';
import type { RelayPeer } from './peer.js';
import { TokenBucket } from './token-bucket.js';

export interface RelayTurnOptions {
  /** turn:/turns: URLs of the TURN server(s) that share `secret`, e.g. "turn:turn.example.org:3478?transport=udp". */
  urls: readonly string[];
  /** The TURN server's shared secret (coturn: static-auth-secret). Never logged. */
  secret: string;
  /** How long handed-out credentials stay valid, in seconds. Default 3600. */
  ttlSeconds?: number;
}

export const DEFAULT_TURN_TTL_SECONDS = 3_600;
/** Shorter secrets are refused: anyone who guesses it mints TURN credentials at will. */
export const MIN_TURN_SECRET_LENGTH = 16;

/** Validated TURN settings; the secret is hidden from JSON.stringify and util.inspect (so from logs). */
export class TurnIssuer {
  readonly urls: readonly string[];
  readonly ttlSeconds: number;
  readonly #secret: string;

  constructor(options: RelayTurnOptions) {
    const urls = [...new Set(options.urls.map((u) => u.trim()))];
    if (urls.length === 0) throw new RangeError('turn: at least one TURN URL is needed');
    if (urls.length > MAX_TURN_URLS) throw new RangeError(`turn: at most ${MAX_TURN_URLS} TURN URLs`);
    for (const url of urls) {
      const problem = turnUrlProblem(url);
      if (problem !== null) throw new RangeError(`turn: "${url}" is not a TURN URL: ${problem}`);
    }
    const ttl = options.ttlSeconds ?? DEFAULT_TURN_TTL_SECONDS;
    if (!Number.isInteger(ttl) || ttl < MIN_TURN_TTL_SECONDS || ttl > MAX_TURN_TTL_SECONDS)
      throw new RangeError(
        `turn: the credential lifetime must be ${MIN_TURN_TTL_SECONDS} to ${MAX_TURN_TTL_SECONDS} seconds, got ${ttl}`,
      );
    if (typeof options.secret !== 'string' || options.secret.length < MIN_TURN_SECRET_LENGTH)
      throw new RangeError(`turn: the shared secret must be at least ${MIN_TURN_SECRET_LENGTH} characters`);
    if (/[\r\n\0]/.test(options.secret)) throw new RangeError('turn: the shared secret must be one line');
    this.urls = Object.freeze(urls);
    this.ttlSeconds = ttl;
    this.#secret = options.secret;
  }

  /** Credentials for `identityId`, valid for ttlSeconds from `nowMs`. */
  issue(identityId: string, nowMs: number = Date.now()): TurnCredentials {
    const expiry = Math.floor(nowMs / 1000) + this.ttlSeconds;
    const username = turnUsername(expiry, turnUserId(this.#secret, identityId));
    return { urls: [...this.urls], username, credential: turnCredential(this.#secret, username), ttl: this.ttlSeconds };
  }

  toJSON(): { urls: readonly string[]; ttlSeconds: number } {
    return { urls: this.urls, ttlSeconds: this.ttlSeconds };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `TurnIssuer ${JSON.stringify(this.toJSON())}`;
  }
}

/**
 * The opaque part of the username: a keyed hash of the identity id (not the id itself, nor the key). The TURN
 * server's logs then tie each allocation to one identity for abuse handling, yet name nobody to whoever reads
 * them without the secret; the operator, who has it, can compute it for a given id.
 */
export function turnUserId(secret: string, identityId: string): string {
  return createHmac('sha256', secret)
    .update(`parley-turn-user/v1\0${identityId}`)
    .digest()
    .subarray(0, 16)
    .toString('base64url');
}

export function turnUsername(expiryUnixSeconds: number, opaqueId: string): string {
  return `${expiryUnixSeconds}:${opaqueId}`;
}

/** coturn's check: base64(HMAC-SHA1(static-auth-secret, username)). */
export function turnCredential(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username).digest('base64');
}

/** Refresh requests one connection may make: a few back to back, then one a minute (a refresh is due every ttl/2). */
export const TURN_REQUEST_BURST = 3;
export const TURN_REQUESTS_PER_SECOND = 1 / 60;

/** Per-connection budget for `turn-credentials` requests, kept beside the connection without widening it. */
export class TurnRequestBudget {
  readonly #buckets = new WeakMap<object, TokenBucket>();

  take(conn: object, nowMs: number): boolean {
    let bucket = this.#buckets.get(conn);
    if (!bucket) {
      bucket = new TokenBucket(TURN_REQUESTS_PER_SECOND, TURN_REQUEST_BURST, nowMs);
      this.#buckets.set(conn, bucket);
    }
    return bucket.take(nowMs);
  }
}

/** The relay's TURN handout: the issuer and the per-connection request budget. */
export interface RelayTurn {
  readonly issuer: TurnIssuer;
  readonly budget: TurnRequestBudget;
}

export function relayTurnOf(options: RelayTurnOptions | undefined): RelayTurn | null {
  return options ? { issuer: new TurnIssuer(options), budget: new TurnRequestBudget() } : null;
}

/** Credentials for the `ready` message of a connection that just authenticated as `id`; undefined without TURN. */
export function turnForReady(turn: RelayTurn | null, id: string): TurnCredentials | undefined {
  return turn?.issuer.issue(id);
}

/**
 * `turn-credentials` from an authenticated connection: fresh credentials, within the request budget. A relay
 * without TURN answers bad-message (a client asks only when its `ready` carried `turn`).
 */
export function answerTurnRequest(turn: RelayTurn | null, peer: RelayPeer, ref: string | undefined): void {
  if (turn === null) {
    peer.violation(ErrorCode.BadMessage, 'turn-credentials: this relay has no TURN server', { ref });
    return;
  }
  if (!turn.budget.take(peer, Date.now())) {
    peer.sendError(ErrorCode.RateLimited, 'turn-credentials: asked too often; the ones you have are still valid', {
      ref,
    });
    return;
  }
  peer.sendText(
    JSON.stringify({
      type: 'turn-credentials',
      ...(ref !== undefined ? { ref } : {}),
      turn: turn.issuer.issue(peer.id!),
    }),
  );
}
