// Chat frames on the session stream (StreamKind.Chat): JSON, validated (peer input).
import { z } from 'zod';
import { fromUtf8, utf8 } from '../util/bytes.js';

export const MAX_TEXT_CHARS = 64 * 1024;
/** The longest delay a 'retry' frame may ask for. */
export const MAX_RETRY_AFTER_MS = 60_000;

export const ChatFrameSchema = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('msg'),
    id: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/),
    text: z.string().max(MAX_TEXT_CHARS),
    sentAt: z.number().finite(),
  }),
  z.object({
    t: z.literal('ack'),
    ids: z
      .array(z.string().regex(/^[A-Za-z0-9_-]{8,64}$/))
      .min(1)
      .max(512),
  }),
  // Read receipt: these messages were shown to the contact with their chat open (a peer on an older
  // version drops the frame as malformed and its messages simply stay 'delivered').
  z.object({
    t: z.literal('read'),
    ids: z
      .array(z.string().regex(/^[A-Za-z0-9_-]{8,64}$/))
      .min(1)
      .max(512),
  }),
  // Not stored (a per-contact limit): send these again after `afterMs`, in order; later ones wait too. A peer
  // on an older version drops the frame as malformed and resends when its session restarts, as before.
  z.object({
    t: z.literal('retry'),
    ids: z
      .array(z.string().regex(/^[A-Za-z0-9_-]{8,64}$/))
      .min(1)
      .max(512),
    afterMs: z.number().int().min(0).max(MAX_RETRY_AFTER_MS),
  }),
]);
export type ChatFrame = z.infer<typeof ChatFrameSchema>;

/** How far ahead of our clock a peer's clock may run before its stamp is not believed. */
export const MAX_CLOCK_AHEAD_MS = 24 * 3600 * 1000;
/** Earlier than any message Parley can have sent (2020-01-01T00:00:00Z). */
export const EARLIEST_SENT_AT = Date.UTC(2020, 0, 1);

/**
 * A peer's `sentAt` as we store it: its own stamp when it lies between 2020 and a day ahead of our
 * clock (clocks drift; outbox messages can be old), else the time it arrived. A stamp outside that
 * window is a broken or hostile clock; 1e16 is past the largest Date and would throw in every render.
 */
export function boundSentAt(sentAt: number, receivedAt: number): number {
  if (!Number.isFinite(sentAt) || sentAt < EARLIEST_SENT_AT || sentAt > receivedAt + MAX_CLOCK_AHEAD_MS)
    return receivedAt;
  return Math.floor(sentAt);
}

export function encodeChatFrame(frame: ChatFrame): Uint8Array {
  return utf8(JSON.stringify(frame));
}

export function decodeChatFrame(bytes: Uint8Array): ChatFrame | null {
  try {
    const parsed = ChatFrameSchema.safeParse(JSON.parse(fromUtf8(bytes)));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
