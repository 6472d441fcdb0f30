// Store-and-forward mail for contact requests and their answers (issue 14.5). A request must reach someone
// who may be offline, and must not tell the sender whether they are online: every accepted mail gets the same
// `mail-queued`, mail waits here (bounded count, size and age) until the recipient connects and acknowledges
// it. Bodies are opaque (the client signs them). Node-local: in a cluster mail reaches recipients on this node.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ErrorCode, MAX_MAIL_BYTES } from '../protocol/index.js';
import type { Connection } from './connection.js';
import type { RelayContext } from './context.js';
import { TokenBucket } from './token-bucket.js';

export interface MailboxLimits {
  /** Mails kept per recipient; the oldest goes first. */
  mailPerRecipient: number;
  /** Mails one sender may have waiting for one recipient; its oldest goes first. */
  mailPerPair: number;
  /** Bytes of mail kept relay-wide; beyond it new mail is refused with mailbox-full. */
  mailTotalBytes: number;
  /** How long undelivered (unacknowledged) mail is kept. */
  mailTtlMs: number;
  /** Mails per minute one identity may send (token bucket), and its burst. */
  mailPerMinute: number;
  mailBurst: number;
}

interface Mail {
  readonly id: string;
  readonly from: string;
  readonly at: number;
  readonly text: string;
}

export type PostResult = 'queued' | 'rate-limited' | 'too-large' | 'full';

const SWEEP_EVERY_MS = 60_000;

export class Mailbox {
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

  post(from: string, to: string, bodyJson: string): { result: PostResult; mail?: Mail } {
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
    const id = randomBytes(12).toString('base64url');
    const mail: Mail = {
      id,
      from,
      at: now,
      text: `{"type":"mail","id":"${id}","from":"${from}","at":${now},"body":${bodyJson}}`,
    };
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

/** `mail` from an authenticated connection. The answer never depends on the recipient's presence. */
export function postMail(
  ctx: RelayContext,
  from: Connection,
  to: string,
  body: unknown,
  ref: string | undefined,
): void {
  const { result, mail } = ctx.mailbox.post(from.id!, to, JSON.stringify(body));
  switch (result) {
    case 'rate-limited':
      from.sendError(ErrorCode.RateLimited, `more than ${ctx.limits.mailPerMinute} mails per minute; mail not queued`, {
        ref,
        to,
      });
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
  const targets = ctx.presence.connectionsOf(to);
  if (targets === undefined || mail === undefined) return;
  for (const target of Array.isArray(targets) ? (targets as readonly Connection[]) : [targets as Connection]) {
    if (target !== from) target.sendText(mail.text);
  }
}

/** After `ready`: everything that waited for this identity. Kept until acknowledged (crash-safe). */
export function deliverMail(ctx: RelayContext, conn: Connection): void {
  for (const mail of ctx.mailbox.waiting(conn.id!)) conn.sendText(mail.text);
}

export function ackMail(ctx: RelayContext, conn: Connection, ids: readonly string[]): void {
  ctx.mailbox.ack(conn.id!, ids);
}
