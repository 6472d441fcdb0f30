// Session signals carried in relay `signal` messages (data field). Peer input: validated here with zod.
import { z } from 'zod';
import { MAX_TAG_LENGTH } from '../../../signaling/protocol/index.js';

export const SidSchema = z.string().min(8).max(MAX_TAG_LENGTH).regex(/^[A-Za-z0-9_.:-]+$/);
const fingerprint = z.string().regex(/^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){31}$/);

const RtcPayloadSchema = z.union([
  z.object({ type: z.enum(['offer', 'answer']), sdp: z.string().min(1).max(48 * 1024) }),
  z.object({
    type: z.literal('candidate'),
    candidate: z.object({
      candidate: z.string().max(1024),
      sdpMLineIndex: z.number().int().min(0).max(64).nullable().optional(),
      sdpMid: z.string().max(64).nullable().optional(),
      usernameFragment: z.string().max(256).nullable().optional(),
    }),
  }),
]);

export const RtcSignalSchema = z.object({
  kind: z.literal('rtc'),
  sid: SidSchema,
  signal: RtcPayloadSchema,
  /** On offer/answer: the sender's DTLS fingerprint and its identity signature over (sid, role, ids, fingerprint). */
  fp: fingerprint.optional(),
  sig: z.string().regex(/^[A-Za-z0-9_-]+$/).max(200).optional(),
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

export const PeerSignalSchema = z.discriminatedUnion('kind', [RtcSignalSchema, SessionSignalSchema, RelayOpenSignalSchema]);

export type RtcSignal = z.infer<typeof RtcSignalSchema>;
export type SessionSignal = z.infer<typeof SessionSignalSchema>;
export type PeerSignal = z.infer<typeof PeerSignalSchema>;

/** Signal kinds this module owns; a messenger routes other kinds (calls, later) elsewhere. */
export const SESSION_SIGNAL_KINDS: ReadonlySet<string> = new Set(['rtc', 'session', 'relay']);
