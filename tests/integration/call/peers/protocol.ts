// IPC between a call test and its peer scripts (call-peer.ts, relay-host.ts). Commands are validated in the
// peer with zod (IPC is input like any other); events are plain objects the test reads.
import { z } from 'zod';
import { WatchGrantSchema, type WatchGrant } from '../../../../signaling/protocol/index.js';

const IceServerSchema = z.object({
  urls: z.union([z.string(), z.array(z.string())]),
  username: z.string().optional(),
  credential: z.string().optional(),
});

export const CallPeerCommand = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('init'),
    relayUrl: z.string(),
    name: z.string(),
    iceServers: z.array(IceServerSchema).optional(),
    /** Add the TURN servers the relay provides after `iceServers`, as the Messenger does. Default true. */
    relayTurn: z.boolean().optional(),
    /** CallManagerOptions.relayOnly: TURN relay candidates only. */
    relayOnly: z.boolean().optional(),
    timeouts: z
      .object({ ringMs: z.number(), connectMs: z.number(), reconnectMs: z.number(), closeGraceMs: z.number() })
      .partial()
      .optional(),
  }),
  /** `grant`: the contact's watch grant for this endpoint (presence, and "offline" answers for calls). */
  z.object({
    type: z.literal('contact'),
    id: z.string(),
    key: z.object({ alg: z.enum(['Ed25519', 'P-256']), pub: z.string() }),
    name: z.string(),
    grant: WatchGrantSchema.optional(),
  }),
  /** Emits a `grant` event: this endpoint's watch grant for `to`. */
  z.object({ type: z.literal('grant'), to: z.string() }),
  z.object({ type: z.literal('call'), to: z.string(), video: z.boolean() }),
  z.object({ type: z.literal('accept'), video: z.boolean() }),
  z.object({ type: z.literal('decline') }),
  z.object({ type: z.literal('hangup') }),
  z.object({ type: z.literal('mute'), muted: z.boolean() }),
  z.object({ type: z.literal('camera-off'), off: z.boolean() }),
  z.object({ type: z.literal('add-video') }),
  z.object({ type: z.literal('replace-video') }),
  z.object({ type: z.literal('stats') }),
  /** Reports received media once at least this much arrived (or whatever arrived when timeoutMs passes). */
  z.object({
    type: z.literal('await-media'),
    videoFrames: z.number().int().min(0),
    audioSamples: z.number().int().min(0),
    timeoutMs: z.number().int().positive(),
  }),
  /** Resets the received-audio peak meter (for "muted audio is silent"). */
  z.object({ type: z.literal('reset-peak') }),
]);
export type CallPeerCommand = z.infer<typeof CallPeerCommand>;

export interface MediaReport {
  videoFrames: number;
  /** Distinct frame contents seen (the synthetic source changes every frame). */
  distinctFrames: number;
  width: number | null;
  height: number | null;
  audioSamples: number;
  /** Largest |sample| since the last reset-peak. */
  audioPeak: number;
  timedOut: boolean;
}

export type CallPeerEvent =
  | { type: 'ready'; id: string; key: { alg: 'Ed25519' | 'P-256'; pub: string } }
  | { type: 'call'; callId: string; direction: 'outgoing' | 'incoming' }
  | { type: 'incoming'; callId: string; from: string; offered: { audio: boolean; video: boolean } }
  | {
      type: 'state';
      callId: string;
      state: string;
      previous: string;
      end?: { code: string; message: string; remote: boolean };
      at: number;
    }
  | { type: 'remote-state'; callId: string; muted: boolean; cameraOff: boolean; video: boolean }
  | { type: 'remote-track'; callId: string; kind: string }
  | { type: 'stats'; stats: Record<string, unknown> | null; error?: string }
  | { type: 'media'; report: MediaReport }
  | { type: 'grant'; grant: WatchGrant }
  | { type: 'done'; command: string }
  | { type: 'error'; message: string };

export type CallPeerEventOf<T extends CallPeerEvent['type']> = Extract<CallPeerEvent, { type: T }>;

export const RelayHostArgs = z.object({
  address: z.string(),
  port: z.number().int().positive(),
  /** Alter every call offer/answer the relay forwards (a hostile relay): relay-host.ts. */
  tamper: z.boolean(),
  /** Report every call signal the relay forwards (what a relay can read). */
  observe: z.boolean().optional(),
  /** Serve this directory over HTTP on the relay's port (the call test page, like the real web client). */
  staticDir: z.string().optional(),
  /** Hand clients TURN REST credentials for these URLs made with this secret (RelayOptions.turn). */
  turn: z.object({ urls: z.array(z.string()), secret: z.string(), ttlSeconds: z.number().optional() }).optional(),
});
export type RelayHostArgs = z.infer<typeof RelayHostArgs>;

export type RelayHostEvent =
  | { type: 'ready'; url: string; httpUrl: string }
  | { type: 'tampered'; count: number }
  | { type: 'forwarded'; text: string }
  | { type: 'error'; message: string };
