// Store-and-forward mail for contact requests and their answers (issue 14.5). A request must reach someone
// who may be offline, and must not tell the sender whether they are online: every accepted mail gets the same
// `mail-queued`, mail waits here (bounded count, size and age) until the recipient connects and acknowledges
// it. Bodies are opaque (the client signs them). Where the mail is kept is a MailStore: this in-memory one for
// a single process (and the embedded relay), a Redis one in a cluster (cluster/mail-store.ts), so a request
// reaches its recipient on whichever node they connect to.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ErrorCode, MAX_MAIL_BYTES } from '../protocol/index.js';
import type { RelayContext } from './context.js';
import type { RelayLimits } from './options.js';
import type { RelayPeer } from './peer.js';
import type { MailStore, MaybePromise, PostOutcome, StoredMail } from './mail-store.js';
import { TokenBucket } from './token-bucket.js';

export type { MailStore, MaybePromise, PostOutcome, PostResult, StoredMail } from './mail-store.js';

/** The mail limits (documented in options.ts). */
export type MailboxLimits = Pick<
  RelayLimits,
  'mailPerRecipient' | 'mailPerPair' | 'mailTotalBytes' | 'mailTtlMs' | 'mailPerMinute' | 'mailBurst'
>;

interface Mail extends StoredMail {
  readonly from: string;
  readonly at: number;
}

/** A mail json body ready to embed. */
export function mailText(id: string, from: string, at: number, bodyJson: string): string {
  return `{"type":"mail","id":"${id}","from":"${from}","at":${at},"body":${bodyJson}}`;
}

export function newMailId(): string {
  return randomBytes(12).toString('base64url');
}

const SWEEP_EVERY_MS = 60_000;

/** The single-process store. */
export class Mailbox implements MailStore {
  private readonly boxes = new Map<string, Mail[]>();
  private readonly buckets = new Map<string, TokenBucket>();
  private bytes = 0;
  private lastSweep = 0;

  constructor(
    private readonly limits: MailboxLimits,
    private readonly clock: () => number = Date.now,
  ) {}

  get size(): number {
    let n = 0;
    for (const box of this.boxes.values()) n += box.length;
    return n;
  }

  post(from: string, to: string, bodyJson: string): PostOutcome {
    const now = this.clock();
    if (now - this.lastSweep > SWEEP_EVERY_MS) this.sweep(now);
    if (Buffer.byteLength(bodyJson) > MAX_MAIL_BYTES) return { result: 'too-large' };
    let bucket = this.buckets.get(from);
    if (bucket === undefined)
      this.buckets.set(
        from,
        (bucket = new TokenBucket(this.limits.mailPerMinute / 60, this.limits.mailBurst, performance.now())),
      );
    if (!bucket.take(performance.now())) return { result: 'rate-limited' };
    if (this.bytes + bodyJson.length > this.limits.mailTotalBytes) return { result: 'full' };
    const id = newMailId();
    const mail: Mail = { id, from, at: now, text: mailText(id, from, now, bodyJson) };
    let box = this.boxes.get(to);
    if (box === undefined) this.boxes.set(to, (box = []));
    const fromSender = box.filter((m) => m.from === from);
    if (fromSender.length >= this.limits.mailPerPair) this.drop(box, box.indexOf(fromSender[0]!));
    if (box.length >= this.limits.mailPerRecipient) this.drop(box, 0);
    box.push(mail);
    this.bytes += mail.text.length;
    return { result: 'queued', mail };
  }

  /** Everything waiting for `to`, oldest first. */
  waiting(to: string): readonly Mail[] {
    const box = this.boxes.get(to);
    if (box === undefined) return [];
    const cutoff = this.clock() - this.limits.mailTtlMs;
    while (box.length > 0 && box[0]!.at <= cutoff) this.drop(box, 0);
    if (box.length === 0) this.boxes.delete(to);
    return box;
  }

  ack(to: string, ids: readonly string[]): void {
    const box = this.boxes.get(to);
    if (box === undefined) return;
    for (const id of ids) {
      const i = box.findIndex((m) => m.id === id);
      if (i >= 0) this.drop(box, i);
    }
    if (box.length === 0) this.boxes.delete(to);
  }

  private drop(box: Mail[], index: number): void {
    const [gone] = box.splice(index, 1);
    if (gone !== undefined) this.bytes -= gone.text.length;
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    for (const to of [...this.boxes.keys()]) this.waiting(to);
    // A bucket that has refilled completely is the same as no bucket.
    if (this.buckets.size > 10_000) this.buckets.clear();
  }
}

/** Per connection: ids of mail already sent to it, so a mail that arrives twice (stored and live) shows once. */
const sent = new WeakMap<RelayPeer, Set<string>>();
/** Ids remembered per connection; beyond it the oldest are forgotten (mail evicted unacknowledged). */
const SENT_MEMORY = 256;

/** Sends `mail` to `conn` unless it already has it. */
export function deliverTo(conn: RelayPeer, mail: StoredMail): void {
  let ids = sent.get(conn);
  if (ids === undefined) sent.set(conn, (ids = new Set()));
  else if (ids.has(mail.id)) return;
  ids.add(mail.id);
  if (ids.size > SENT_MEMORY) ids.delete(ids.values().next().value!);
  conn.sendText(mail.text);
}

/** New mail for `to`: every connection of `to` on this node, except the sender's own. */
export function deliverLive(ctx: RelayContext, to: string, mail: StoredMail, except: RelayPeer | null): void {
  const targets = ctx.presence.connectionsOf(to);
  if (targets === undefined) return;
  for (const target of Array.isArray(targets) ? (targets as readonly RelayPeer[]) : [targets as RelayPeer]) {
    if (target !== except) deliverTo(target, mail);
  }
}

/** Runs `then` at once for a plain value; for a promise, returns the promise of the outcome (never rejected). */
function settle<T>(value: MaybePromise<T>, then: (v: T) => void, failed: (err: unknown) => void): Promise<void> | void {
  if (value instanceof Promise) return value.then(then, failed);
  then(value);
}

/** `mail` from an authenticated connection. The answer never depends on the recipient's presence. */
export function postMail(
  ctx: RelayContext,
  from: RelayPeer,
  to: string,
  body: unknown,
  ref: string | undefined,
): Promise<void> | void {
  const bodyJson = JSON.stringify(body);
  if (Buffer.byteLength(bodyJson) > MAX_MAIL_BYTES) {
    from.violation(ErrorCode.TooLarge, `mail body exceeds ${MAX_MAIL_BYTES} bytes`, { ref, to });
    return;
  }
  return settle(
    ctx.mailbox.post(from.id!, to, bodyJson),
    ({ result, mail }) => {
      switch (result) {
        case 'rate-limited':
          from.sendError(
            ErrorCode.RateLimited,
            `more than ${ctx.limits.mailPerMinute} mails per minute; mail not queued`,
            { ref, to },
          );
          return;
        case 'too-large':
          from.violation(ErrorCode.TooLarge, `mail body exceeds ${MAX_MAIL_BYTES} bytes`, { ref, to });
          return;
        case 'full':
          from.sendError(ErrorCode.MailboxFull, 'the relay stores no more mail right now; try later', { ref, to });
          return;
        case 'queued':
          break;
      }
      from.sendText(ref === undefined ? '{"type":"mail-queued"}' : JSON.stringify({ type: 'mail-queued', ref }));
      if (mail !== undefined) deliverLive(ctx, to, mail, from);
    },
    () => {
      // Cluster store unreachable: say so (never a silent loss); the client sends again later.
      from.sendError(ErrorCode.Unavailable, 'relay mail store unavailable: mail not queued; try again', { ref, to });
    },
  );
}

/** After `ready`: everything that waited for this identity. Kept until acknowledged (crash-safe). */
export function deliverMail(ctx: RelayContext, conn: RelayPeer): Promise<void> | void {
  return settle(
    ctx.mailbox.waiting(conn.id!),
    (mails) => {
      for (const mail of mails) deliverTo(conn, mail);
    },
    (err: unknown) => {
      // Unreachable now: nothing is lost (it stays stored); it comes on the next connection.
      ctx.logger.debug(
        { conn: conn.serial, err: err instanceof Error ? err.message : typeof err },
        'mail fetch failed',
      );
    },
  );
}

export function ackMail(ctx: RelayContext, conn: RelayPeer, ids: readonly string[]): Promise<void> | void {
  // `sent` keeps the ids: a copy still in flight from another node must not show again.
  return settle(
    ctx.mailbox.ack(conn.id!, ids),
    () => undefined,
    () => undefined, // the mail comes again on a later connection, and the client acknowledges it again
  );
}
