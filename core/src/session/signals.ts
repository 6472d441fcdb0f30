// Session signals, as carried inside the signed envelope (signal-envelope.ts). Peer input: validated here with zod.
import { z } from 'zod';
import { MAX_TAG_LENGTH } from '../../../signaling/protocol/index.js';
import { SIGNED_SIGNAL_KIND, V1_SIGNAL_KINDS } from './signal-envelope.js';
import { FingerprintSchema, RtcDataChannelSignalSchema, SignatureSchema } from '../platform/rtc-signal.js';

export const SidSchema = z
  .string()
  .min(8)
  .max(MAX_TAG_LENGTH)
  .regex(/^[A-Za-z0-9_.:-]+$/);
export const RtcSignalSchema = z.object({
  kind: z.literal('rtc'),
  sid: SidSchema,
  signal: RtcDataChannelSignalSchema,
  /** On offer/answer: the sender's DTLS fingerprint and its identity signature over (sid, role, ids, fingerprint). */
  fp: FingerprintSchema.optional(),
  sig: SignatureSchema.optional(),
});

export const SessionSignalSchema = z.object({
  kind: z.literal('session'),
  op: z.literal('start'),
  /** What the sender currently has: lets the leader notice transports that died only on one side. */
  direct: z.boolean(),
  relay: z.boolean(),
  pending: z.boolean(),
});

export const RelayOpenSignalSchema = z.object({ kind: z.literal('relay'), sid: SidSchema });

export const PeerSignalSchema = z.discriminatedUnion('kind', [
  RtcSignalSchema,
  SessionSignalSchema,
  RelayOpenSignalSchema,
]);

export type RtcSignal = z.infer<typeof RtcSignalSchema>;
export type SessionSignal = z.infer<typeof SessionSignalSchema>;
export type PeerSignal = z.infer<typeof PeerSignalSchema>;

/**
 * Relay signal kinds a messenger routes to the contact's Session (calls go elsewhere): the signed
 * envelope, and the unsigned kinds of v1 so a contact on an older Parley gets a clear error.
 */
export const SESSION_SIGNAL_KINDS: ReadonlySet<string> = new Set([SIGNED_SIGNAL_KIND, ...V1_SIGNAL_KINDS]);
