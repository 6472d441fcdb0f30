// IPC protocol between a test and a test-bed WebRTC peer (the Node wrtc peer over a Node IPC channel, the
// Chromium page peer over page.evaluate / an exposed binding). Both directions are validated.
import { z } from 'zod';

/** First byte of every data-channel message: text from `send`, or a chunk of a `pump` stream. */
export const TAG_TEXT = 1;
export const TAG_DATA = 2;
export const MAX_PUMP_BYTES = 2 ** 31;
export const MAX_CHUNK = 256 * 1024;

const IceServer = z.object({
  urls: z.union([z.string(), z.array(z.string())]),
  username: z.string().optional(),
  credential: z.string().optional(),
});

export const RtcConfig = z.object({
  iceServers: z.array(IceServer).max(10).optional(),
  iceTransportPolicy: z.enum(['all', 'relay']).optional(),
});
export type RtcConfig = z.infer<typeof RtcConfig>;

export const PeerCommand = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('create'),
    initiator: z.boolean(),
    trickle: z.boolean().default(true),
    config: RtcConfig.default({ iceServers: [] }),
  }),
  z.object({ type: z.literal('signal'), data: z.record(z.string(), z.unknown()) }),
  z.object({ type: z.literal('send'), text: z.string().max(1 << 20) }),
  z.object({
    type: z.literal('pump'),
    bytes: z.int().min(0).max(MAX_PUMP_BYTES),
    chunkSize: z
      .int()
      .min(1)
      .max(MAX_CHUNK)
      .default(64 * 1024),
  }),
  /** Report `received` once this many pump bytes have arrived (counting from the previous report). */
  z.object({ type: z.literal('expect'), bytes: z.int().min(0).max(MAX_PUMP_BYTES) }),
  z.object({ type: z.literal('stats') }),
  z.object({ type: z.literal('destroy') }),
]);
export type PeerCommand = z.input<typeof PeerCommand>;
export type ParsedPeerCommand = z.output<typeof PeerCommand>;

const Candidate = z.object({
  candidateType: z.string(),
  protocol: z.string(),
  address: z.string().nullable(),
  port: z.number().nullable(),
  tcpType: z.string().nullable(),
  relayProtocol: z.string().nullable(),
});
export type Candidate = z.infer<typeof Candidate>;
export const CandidatePair = z.object({ local: Candidate, remote: Candidate });
export type CandidatePair = z.infer<typeof CandidatePair>;

export const PeerEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), runtime: z.enum(['node', 'chromium']) }),
  z.object({ type: z.literal('signal'), data: z.record(z.string(), z.unknown()) }),
  /** iceConnectionState changes (deduplicated). */
  z.object({ type: z.literal('ice'), state: z.string(), gathering: z.string() }),
  /** RTCPeerConnection.connectionState changes (deduplicated). */
  z.object({ type: z.literal('connection'), state: z.string() }),
  /** ms: from `create` to simple-peer's connect, measured inside the peer. */
  z.object({ type: z.literal('connect'), ms: z.number() }),
  z.object({ type: z.literal('text'), text: z.string() }),
  z.object({ type: z.literal('pumped'), bytes: z.number(), sha256: z.string(), ms: z.number() }),
  z.object({ type: z.literal('received'), bytes: z.number(), sha256: z.string(), ms: z.number() }),
  z.object({ type: z.literal('pair'), pair: CandidatePair.nullable() }),
  z.object({ type: z.literal('close') }),
  z.object({ type: z.literal('error'), message: z.string(), code: z.string().nullable() }),
]);
export type PeerEvent = z.infer<typeof PeerEvent>;
export type PeerEventOf<T extends PeerEvent['type']> = Extract<PeerEvent, { type: T }>;

/** Picks the selected candidate pair out of a standard getStats() report list. */
export function selectedPair(reports: ReadonlyArray<Record<string, unknown>>): CandidatePair | null {
  const byId = new Map(reports.map((r) => [String(r.id), r]));
  const transport = reports.find((r) => r.type === 'transport' && typeof r.selectedCandidatePairId === 'string');
  const pair =
    (transport ? byId.get(String(transport.selectedCandidatePairId)) : undefined) ??
    reports.find(
      (r) => r.type === 'candidate-pair' && (r.selected === true || (r.nominated === true && r.state === 'succeeded')),
    );
  if (!pair) return null;
  const local = byId.get(String(pair.localCandidateId));
  const remote = byId.get(String(pair.remoteCandidateId));
  if (!local || !remote) return null;
  return { local: candidate(local), remote: candidate(remote) };
}

function candidate(r: Record<string, unknown>): Candidate {
  const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);
  return {
    candidateType: str(r.candidateType) ?? 'unknown',
    protocol: str(r.protocol) ?? 'unknown',
    address: str(r.address) ?? str(r.ip),
    port: typeof r.port === 'number' ? r.port : null,
    tcpType: str(r.tcpType),
    relayProtocol: str(r.relayProtocol),
  };
}
