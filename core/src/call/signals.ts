// Call signals ({ kind: 'call', op, callId, … }). Since v2 they travel inside a signed, sealed envelope
// ({ kind: 'call-signal', … }, signal-link.ts); v1 sent them in clear. Peer input, relayed by an untrusted
// relay: everything is validated here with zod before the call engine looks at it.
import { z } from 'zod';
import { FingerprintSchema, RtcDataSchema, SignatureSchema } from '../platform/rtc-signal.js';

export { RtcDataSchema, type RtcData } from '../platform/rtc-signal.js';

export const CALL_SIGNAL_KIND = 'call';
/** The relay signal kind of the envelope call signals travel in (v2). */
export const SEALED_CALL_SIGNAL_KIND = 'call-signal';

/** The direct attempts a call may make: the first, then bounded retries while the relay carries it. */
export const MAX_DIRECT_ATTEMPT = 16;

export const CallIdSchema = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/);

const fingerprint = FingerprintSchema;
const signature = SignatureSchema;

/** Reasons a hangup may carry: a plain hangup, a ring given up, or the failure the sender diagnosed. */
export const HANGUP_REASONS = [
  'hangup',
  'cancelled',
  'no-answer',
  'superseded',
  'no-candidates',
  'no-path',
  'turn-unreachable',
  'ice-failed',
  'dtls-failed',
  'timeout',
  'tampered',
  'impersonation',
  'connection-lost',
  'unsupported',
  'media-error',
  'protocol',
  'error',
] as const;
export type HangupReason = (typeof HANGUP_REASONS)[number];

const base = { kind: z.literal(CALL_SIGNAL_KIND), callId: CallIdSchema };

export const CallSignalSchema = z.discriminatedUnion('op', [
  z.object({
    ...base,
    op: z.literal('ring'),
    media: z.object({ audio: z.boolean(), video: z.boolean() }),
    /** Caller's clock (ms since epoch) and its identity signature over the ring (trust.ts ringStatement). */
    at: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    sig: signature,
  }),
  z.object({ ...base, op: z.literal('ringing') }),
  z.object({ ...base, op: z.literal('accept') }),
  z.object({ ...base, op: z.literal('decline'), reason: z.enum(['declined', 'busy']) }),
  z.object({ ...base, op: z.literal('hangup'), reason: z.enum(HANGUP_REASONS) }),
  z.object({
    ...base,
    op: z.literal('rtc'),
    data: RtcDataSchema,
    fp: z.object({ fingerprint, sig: signature }).optional(),
    /** Which direct attempt of the call this belongs to (absent: the first; later ones: path-switch retries). */
    attempt: z.number().int().min(0).max(MAX_DIRECT_ATTEMPT).optional(),
  }),
  z.object({
    ...base,
    op: z.literal('state'),
    muted: z.boolean(),
    cameraOff: z.boolean(),
    video: z.boolean().optional(),
    rev: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  }),
  /** Which path carries the sender's media and whether it receives direct media (path-switch.ts). */
  z.object({
    ...base,
    op: z.literal('path'),
    path: z.enum(['direct', 'relay']),
    epoch: z.number().int().min(0).max(1_000_000),
    directOk: z.boolean(),
    rev: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  }),
]);
export type CallSignal = z.infer<typeof CallSignalSchema>;
export type CallSignalOf<Op extends CallSignal['op']> = Extract<CallSignal, { op: Op }>;

/** Distributes Omit over the union, so each op keeps its own fields. */
type OutgoingOf<T> = T extends CallSignal ? Omit<T, 'kind' | 'callId'> : never;
export type OutgoingCallSignal = OutgoingOf<CallSignal>;

/** A relay signal for the call engine: a sealed call signal, or a clear one of v1 (answered with a version error). */
export function isCallSignal(data: Record<string, unknown>): boolean {
  return data.kind === SEALED_CALL_SIGNAL_KIND || data.kind === CALL_SIGNAL_KIND;
}

/** Short human text of a validation failure, for logs (never echoes the offending value). */
export function describeCallSignalIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid call signal';
  return `${issue.path.join('.') || '(root)'}: ${issue.message}`;
}
