// The WebRTC signals peers exchange through the relay (what simple-peer emits), typed and validated once
// for sessions and calls. Peer input, relayed by an untrusted relay: nothing unvetted reaches the peer
// connection (no extra fields, bounded sizes).
import { z } from 'zod';
import type { SignalData } from 'simple-peer';

/** A sha-256 DTLS certificate fingerprint as SDP writes it (32 hex pairs). */
export const FingerprintSchema = z.string().regex(/^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){31}$/);
/** An identity signature, base64url. */
export const SignatureSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]+$/)
  .max(200);

export const RtcDescriptionSchema = z.object({
  type: z.enum(['offer', 'answer']),
  sdp: z
    .string()
    .min(1)
    .max(48 * 1024),
});
export const RtcCandidateSchema = z.object({
  type: z.literal('candidate'),
  candidate: z.object({
    candidate: z.string().max(1024),
    sdpMLineIndex: z.number().int().min(0).max(64).nullable().optional(),
    sdpMid: z.string().max(64).nullable().optional(),
    usernameFragment: z.string().max(256).nullable().optional(),
  }),
});

/** What a data-channel-only connection signals: descriptions and candidates. */
export const RtcDataChannelSignalSchema = z.union([RtcDescriptionSchema, RtcCandidateSchema]);
export type RtcDataChannelSignal = z.infer<typeof RtcDataChannelSignalSchema>;

/** Everything simple-peer signals on a media connection: also renegotiation and transceiver requests. */
export const RtcDataSchema = z.union([
  RtcDescriptionSchema,
  RtcCandidateSchema,
  z.object({ type: z.literal('renegotiate'), renegotiate: z.literal(true) }),
  // `init` is dropped: the requesting side needs only the kind, and nothing unvetted reaches addTransceiver.
  z.object({
    type: z.literal('transceiverRequest'),
    transceiverRequest: z.object({ kind: z.enum(['audio', 'video']) }),
  }),
]);
export type RtcData = z.infer<typeof RtcDataSchema>;

/** A local simple-peer signal as we send it (only the fields above), or null for what we never send. */
export function toRtcData(data: SignalData): RtcData | null {
  if ((data.type === 'offer' || data.type === 'answer') && typeof data.sdp === 'string')
    return { type: data.type, sdp: data.sdp };
  if (data.type === 'candidate' && data.candidate && typeof data.candidate === 'object') {
    const c = data.candidate as { candidate?: unknown; sdpMLineIndex?: unknown; sdpMid?: unknown };
    if (typeof c.candidate !== 'string') return null;
    return {
      type: 'candidate',
      candidate: {
        candidate: c.candidate,
        sdpMLineIndex: typeof c.sdpMLineIndex === 'number' ? c.sdpMLineIndex : null,
        sdpMid: typeof c.sdpMid === 'string' ? c.sdpMid : null,
      },
    };
  }
  if (data.type === 'renegotiate') return { type: 'renegotiate', renegotiate: true };
  if (data.type === 'transceiverRequest') {
    const kind = (data.transceiverRequest as { kind?: unknown } | undefined)?.kind;
    if (kind === 'audio' || kind === 'video') return { type: 'transceiverRequest', transceiverRequest: { kind } };
  }
  return null;
}
