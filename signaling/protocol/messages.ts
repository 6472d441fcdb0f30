// Every JSON control message of the relay protocol, typed once as zod schemas.
// Both directions are validated at input: the relay parses client messages, clients parse relay messages.
import { z } from 'zod';
import {
  IDENTITY_ID_LENGTH,
  MAX_IDS_PER_MESSAGE,
  MAX_MAIL_ID_LENGTH,
  MAX_REF_LENGTH,
  MAX_TAG_LENGTH,
  NONCE_BYTES,
} from './constants.js';
import { KEY_ALGORITHMS } from './identity.js';
import { TurnCredentialsSchema } from './turn.js';
import { WatchGrantSchema } from './watch.js';

const b64url = z.string().regex(/^[A-Za-z0-9_-]*$/, 'must be base64url');
export const IdentityIdSchema = b64url.length(IDENTITY_ID_LENGTH);
const ref = z.string().min(1).max(MAX_REF_LENGTH).optional();
const tag = z
  .string()
  .min(1)
  .max(MAX_TAG_LENGTH)
  .regex(/^[A-Za-z0-9_.:-]+$/);
const channel = z.number().int().min(1).max(0xffffffff);
/** Opaque signal payload: a JSON object the relay forwards without interpreting. */
const signalData = z.record(z.string(), z.unknown());
const mailId = z
  .string()
  .min(1)
  .max(MAX_MAIL_ID_LENGTH)
  .regex(/^[A-Za-z0-9_-]+$/);

export const PublicIdentityKeySchema = z.object({
  alg: z.enum(KEY_ALGORITHMS),
  pub: b64url.min(43).max(88),
});

// ---- client → relay ----
export const HelloSchema = z.object({
  type: z.literal('hello'),
  v: z.number().int(),
  alg: z.enum(KEY_ALGORITHMS),
  pub: b64url.min(43).max(88),
});
export const AuthSchema = z.object({ type: z.literal('auth'), sig: b64url.min(80).max(200) });
/** Watch contacts' presence: each entry is a grant the watched identity signed for us (protocol v2). */
export const SubscribeSchema = z.object({
  type: z.literal('subscribe'),
  grants: z.array(WatchGrantSchema).min(1).max(MAX_IDS_PER_MESSAGE),
});
export const UnsubscribeSchema = z.object({
  type: z.literal('unsubscribe'),
  ids: z.array(IdentityIdSchema).min(1).max(MAX_IDS_PER_MESSAGE),
});
export const SignalOutSchema = z.object({ type: z.literal('signal'), to: IdentityIdSchema, data: signalData, ref });
export const ChannelOpenSchema = z.object({ type: z.literal('channel-open'), to: IdentityIdSchema, tag });
export const ChannelCloseSchema = z.object({ type: z.literal('channel-close'), channel });
export const PingSchema = z.object({ type: z.literal('ping'), ref });
/**
 * Store-and-forward mail (contact requests and their answers). The relay answers every accepted mail with
 * the same `mail-queued`, whether the recipient is online or not, so mail never reveals presence.
 * `body` is opaque to the relay (the client signs it); its JSON is at most MAX_MAIL_BYTES.
 */
export const MailOutSchema = z.object({ type: z.literal('mail'), to: IdentityIdSchema, body: signalData, ref });
/** The recipient stored these mails: the relay forgets them. */
export const MailAckSchema = z.object({
  type: z.literal('mail-ack'),
  ids: z.array(mailId).min(1).max(MAX_IDS_PER_MESSAGE),
});
/** Fresh TURN credentials, before the ones from `ready` expire (only to a relay whose `ready` carried `turn`). */
export const TurnCredentialsRequestSchema = z.object({ type: z.literal('turn-credentials'), ref });

export const ClientMessageSchema = z.discriminatedUnion('type', [
  HelloSchema,
  AuthSchema,
  SubscribeSchema,
  UnsubscribeSchema,
  SignalOutSchema,
  ChannelOpenSchema,
  ChannelCloseSchema,
  PingSchema,
  MailOutSchema,
  MailAckSchema,
  TurnCredentialsRequestSchema,
]);
export type ClientMessage = z.infer<typeof ClientMessageSchema>;
export type HelloMessage = z.infer<typeof HelloSchema>;
export type AuthMessage = z.infer<typeof AuthSchema>;

// ---- relay → client ----
export const ChallengeSchema = z.object({
  type: z.literal('challenge'),
  v: z.number().int(),
  nonce: b64url.length(Math.ceil((NONCE_BYTES * 4) / 3)),
});
export const LimitsSchema = z.object({
  maxControlBytes: z.number().int().positive(),
  maxChannelPayload: z.number().int().positive(),
  maxSubscriptions: z.number().int().positive(),
  maxChannels: z.number().int().positive(),
  heartbeatMs: z.number().int().positive(),
});
export type RelayLimitsInfo = z.infer<typeof LimitsSchema>;
export const ReadySchema = z.object({
  type: z.literal('ready'),
  id: IdentityIdSchema,
  limits: LimitsSchema,
  /** Short-lived credentials for the relay's TURN server(s), when its operator configured one (turn.ts). */
  turn: TurnCredentialsSchema.optional(),
});
export const PresenceSchema = z.object({ type: z.literal('presence'), id: IdentityIdSchema, online: z.boolean() });
export const SignalInSchema = z.object({ type: z.literal('signal'), from: IdentityIdSchema, data: signalData });
export const ChannelReadySchema = z.object({ type: z.literal('channel-ready'), channel, peer: IdentityIdSchema, tag });
export const ChannelClosedSchema = z.object({
  type: z.literal('channel-closed'),
  channel,
  reason: z.string().max(200),
});
export const ErrorSchema = z.object({
  type: z.literal('error'),
  code: z.string().max(64),
  message: z.string().max(500),
  ref,
  to: IdentityIdSchema.optional(),
  /** Set on errors answering a channel-open, so the client knows which (to, tag) failed. */
  tag: tag.optional(),
});
export const PongSchema = z.object({ type: z.literal('pong'), ref });
export const MailInSchema = z.object({
  type: z.literal('mail'),
  id: mailId,
  from: IdentityIdSchema,
  at: z.number().int().nonnegative(),
  body: signalData,
});
export const MailQueuedSchema = z.object({ type: z.literal('mail-queued'), ref });
export const TurnCredentialsMessageSchema = z.object({
  type: z.literal('turn-credentials'),
  ref,
  turn: TurnCredentialsSchema,
});

export const ServerMessageSchema = z.discriminatedUnion('type', [
  ChallengeSchema,
  ReadySchema,
  PresenceSchema,
  SignalInSchema,
  ChannelReadySchema,
  ChannelClosedSchema,
  ErrorSchema,
  PongSchema,
  MailInSchema,
  MailQueuedSchema,
  TurnCredentialsMessageSchema,
]);
export type ServerMessage = z.infer<typeof ServerMessageSchema>;
export type ErrorMessage = z.infer<typeof ErrorSchema>;
export type SignalIn = z.infer<typeof SignalInSchema>;
export type ChannelReady = z.infer<typeof ChannelReadySchema>;
export type MailIn = z.infer<typeof MailInSchema>;

/** Formats a zod failure as one short line naming the first offending field. */
export function describeIssue(error: z.ZodError): string {
  const first = error.issues[0];
  if (!first) return 'invalid message';
  const where = first.path.length ? first.path.join('.') : 'message';
  return `${where}: ${first.message}`.slice(0, 300);
}
