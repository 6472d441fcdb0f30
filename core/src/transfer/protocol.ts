// The file-transfer wire protocol, carried as frames on a contact's session stream.
// Every frame starts with one kind byte: CONTROL (UTF-8 JSON, zod-validated on input) or CHUNK
// (binary: fixed header + file bytes). Chunks name their file and absolute offset, so a chunk is
// meaningful on its own: duplicates and gaps are detected by offset, never by counting.
import { z } from 'zod';
import { fromBase64url, toBase64url, type Bytes } from '../../../signaling/protocol/index.js';

// 2: files are verified with the block digest of hash.ts (FileDigest) instead of plain SHA-256.
export const TRANSFER_PROTOCOL_VERSION = 2;

/** Largest transfer frame (header included): the session stream's payload limit (MAX_STREAM_PAYLOAD). */
export const MAX_TRANSFER_FRAME_BYTES = 256 * 1024 - 64;
export const FRAME_CONTROL = 0x01;
export const FRAME_CHUNK = 0x02;
/** kind (1) + offerId (16) + fileId (u32) + offset (u64). */
export const CHUNK_HEADER_BYTES = 1 + 16 + 4 + 8;
export const MAX_CHUNK_BYTES = MAX_TRANSFER_FRAME_BYTES - CHUNK_HEADER_BYTES;
/**
 * The largest chunk: with every header it is one 256 KiB data channel message where both ends negotiated
 * that (Chromium, libwebrtc; otherwise the transport cuts it into 64 KiB pieces) and one sealed relay
 * record. A quarter as many chunks as at 64 KiB: per-chunk work (reads, frames, sends, acks) was most
 * of the engine's CPU in bench:transfer.
 */
export const DEFAULT_CHUNK_BYTES = MAX_CHUNK_BYTES;
/** Largest control frame body (JSON). */
export const MAX_CONTROL_BYTES = MAX_TRANSFER_FRAME_BYTES - 1;
export const MAX_FILES_PER_OFFER = 4096;
/** Most bytes a sender may have sent and not yet seen acknowledged. */
export const MAX_WINDOW_BYTES = 16 * 1024 * 1024;
/** Bytes of random offer id. */
export const OFFER_ID_BYTES = 16;

// 16 bytes in 22 base64url characters: the last one carries 2 bits, so only A, Q, g or w is canonical.
const offerId = z.string().regex(/^[A-Za-z0-9_-]{21}[AQgw]$/, 'must be a 16-byte base64url id');
const fileId = z
  .number()
  .int()
  .min(0)
  .max(MAX_FILES_PER_OFFER - 1);
const size = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a hex SHA-256');
const round = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const text = z.string().max(500);
const code = z
  .string()
  .min(1)
  .max(40)
  .regex(/^[a-z-]+$/);

/** One file in an offer. The relative path is checked by names.ts, not here, so a hostile name gets a clear refusal. */
export const OfferFileSchema = z.object({
  fileId,
  relativePath: z.string().min(1).max(4096),
  size,
  mime: z
    .string()
    .max(200)
    .regex(/^[\x20-\x7e]*$/, 'must be printable ASCII'),
  mtime: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
});
export type OfferFile = z.infer<typeof OfferFileSchema>;

export const OfferSchema = z
  .object({
    t: z.literal('offer'),
    v: z.literal(TRANSFER_PROTOCOL_VERSION),
    offerId,
    /** Bumped each time the sender (re-)offers; an accept answers one round. */
    round,
    files: z.array(OfferFileSchema).min(1).max(MAX_FILES_PER_OFFER),
    /** Sum of every file's size in the original offer. */
    total: size,
    /** The sender's window: the receiver acknowledges at least every quarter of it (or it would stall). */
    window: z.number().int().min(1024).max(MAX_WINDOW_BYTES).optional(),
    /** The sender can move files on bulk lanes (bulk-*.ts); older peers drop the field and never see a lane. */
    bulk: z.literal(1).optional(),
  })
  .superRefine((offer, ctx) => {
    const ids = new Set<number>();
    for (const file of offer.files) {
      if (ids.has(file.fileId))
        ctx.addIssue({ code: 'custom', message: `fileId ${file.fileId} repeated`, path: ['files'] });
      ids.add(file.fileId);
    }
  });
export type OfferMessage = z.infer<typeof OfferSchema>;

export const AcceptFileSchema = z
  .object({
    fileId,
    /** Send from here... */
    offset: size,
    /**
     * ...unless the receiver's bytes [from, from + length) — kept from before a restart but not yet
     * covered by a durable hash checkpoint — do not hash to `sha256` in the sender's file: then send
     * from `from`. Lets a receiver keep what it wrote (and what the session re-delivered) after a crash.
     */
    check: z.object({ from: size, length: size.min(1), sha256 }).optional(),
  })
  .refine((f) => !f.check || f.check.from + f.check.length <= f.offset, {
    message: 'check range must end at or before offset',
    path: ['check'],
  });
export type AcceptFile = z.infer<typeof AcceptFileSchema>;

export const AcceptSchema = z.object({
  t: z.literal('accept'),
  offerId,
  round,
  files: z.array(AcceptFileSchema).max(MAX_FILES_PER_OFFER),
  /** Files the receiver already verified (the sender may have missed their result). */
  have: z.array(fileId).max(MAX_FILES_PER_OFFER),
  /** The receiver can take files on bulk lanes too (only ever sent when the offer said bulk). */
  bulk: z.literal(1).optional(),
});
export type AcceptMessage = z.infer<typeof AcceptSchema>;

export const DeclineSchema = z.object({ t: z.literal('decline'), offerId, code, message: text });
/**
 * Receiver → sender: bytes of a file written so far (opens the sender's window), and how far of it is
 * durable (the receiver will never ask for bytes before `durable` again, so the sender can forget them).
 */
export const AckSchema = z.object({ t: z.literal('ack'), offerId, fileId, offset: size, durable: size });
/** Sender → receiver, after a file's last chunk. */
export const EndSchema = z.object({ t: z.literal('end'), offerId, fileId, size, sha256 });
/** Receiver → sender: the file verified and was committed (ok), or failed verification. */
export const ResultSchema = z.object({
  t: z.literal('result'),
  offerId,
  fileId,
  ok: z.boolean(),
  code: code.optional(),
  message: text.optional(),
});
/**
 * Receiver → sender. With fileId and offset: send that file again from offset (a gap was seen).
 * Without: please re-offer (the receiver is ready again, e.g. after a full disk was freed, or it
 * restarted and sees chunks it has not agreed to); `round` is the latest round it answered, so a
 * sender that has re-offered since ignores it.
 */
export const ResumeSchema = z.object({
  t: z.literal('resume'),
  offerId,
  fileId: fileId.optional(),
  offset: size.optional(),
  round: z.number().int().min(0).optional(),
});
/** Either side: the whole offer (no fileId) or one file is cancelled for good. */
export const CancelSchema = z.object({ t: z.literal('cancel'), offerId, fileId: fileId.optional(), message: text });
/** Either side: an error on one file. fatal → the file failed for good; otherwise the offer pauses (partial kept). */
export const ErrorSchema = z.object({
  t: z.literal('error'),
  offerId,
  fileId: fileId.optional(),
  code,
  message: text,
  fatal: z.boolean(),
});

/** 32 random bytes in 43 base64url characters (the last carries 4 bits: only these are canonical). */
const share = z.string().regex(/^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/, 'must be a 32-byte base64url share');
export const MAX_LANE_HINTS = 8;
const laneHint = z.object({
  host: z.string().min(2).max(64),
  port: z.number().int().min(1).max(65535),
});
/**
 * A bulk lane for one file (only between peers that both said bulk). Sender → receiver: `share`, its half
 * of the lane key, instead of the file's chunks. Receiver → sender: its `share`, where it listens (`hints`)
 * and from which `offset` it takes the file; or no share: no lane, send the chunks on this stream.
 * The lane key is HKDF(both shares, sid ‖ offerId ‖ fileId) (bulk-key.ts): these travel only inside the
 * verified, encrypted session.
 */
export const LaneSchema = z.object({
  t: z.literal('lane'),
  offerId,
  fileId,
  round,
  share: share.optional(),
  hints: z.array(laneHint).max(MAX_LANE_HINTS).optional(),
  offset: size.optional(),
});

export const ControlSchema = z.discriminatedUnion('t', [
  LaneSchema,
  OfferSchema,
  AcceptSchema,
  DeclineSchema,
  AckSchema,
  EndSchema,
  ResultSchema,
  ResumeSchema,
  CancelSchema,
  ErrorSchema,
]);
export type ControlMessage = z.infer<typeof ControlSchema>;
export type ControlOf<T extends ControlMessage['t']> = Extract<ControlMessage, { t: T }>;

export interface ChunkFrame {
  offerId: string;
  fileId: number;
  offset: number;
  data: Uint8Array;
}

export type DecodedFrame = { kind: 'control'; message: ControlMessage } | { kind: 'chunk'; chunk: ChunkFrame };

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function newOfferId(): string {
  return toBase64url(crypto.getRandomValues(new Uint8Array(OFFER_ID_BYTES)));
}

export function encodeControl(message: ControlMessage): Bytes {
  const body = encoder.encode(JSON.stringify(message));
  if (body.length > MAX_CONTROL_BYTES) throw new RangeError(`control message larger than ${MAX_CONTROL_BYTES} bytes`);
  const frame = new Uint8Array(1 + body.length);
  frame[0] = FRAME_CONTROL;
  frame.set(body, 1);
  return frame;
}

/** Size of a control message once encoded, for packing files into offers. */
export function controlSize(message: ControlMessage): number {
  return 1 + encoder.encode(JSON.stringify(message)).length;
}

/** Allocates a chunk frame with its header written; the caller fills `frame.subarray(CHUNK_HEADER_BYTES)`. */
export function allocChunkFrame(offerIdBytes: Uint8Array, fileIdValue: number, offset: number, length: number): Bytes {
  if (length > MAX_CHUNK_BYTES) throw new RangeError(`chunk larger than ${MAX_CHUNK_BYTES} bytes`);
  return writeChunkHeader(new Uint8Array(CHUNK_HEADER_BYTES + length), offerIdBytes, fileIdValue, offset);
}

/**
 * Makes `frame` a chunk frame by writing the header into its first CHUNK_HEADER_BYTES; the rest of it is the
 * chunk's data (read there by SourceFile.readFramed). Returns `frame`.
 */
export function writeChunkHeader<T extends Uint8Array>(
  frame: T,
  offerIdBytes: Uint8Array,
  fileIdValue: number,
  offset: number,
): T {
  if (frame.length - CHUNK_HEADER_BYTES > MAX_CHUNK_BYTES)
    throw new RangeError(`chunk larger than ${MAX_CHUNK_BYTES} bytes`);
  const view = new DataView(frame.buffer, frame.byteOffset, CHUNK_HEADER_BYTES);
  frame[0] = FRAME_CHUNK;
  frame.set(offerIdBytes, 1);
  view.setUint32(17, fileIdValue, false);
  view.setUint32(21, Math.floor(offset / 2 ** 32), false);
  view.setUint32(25, offset >>> 0, false);
  return frame;
}

export function encodeChunk(chunk: ChunkFrame): Bytes {
  const frame = allocChunkFrame(offerIdBytes(chunk.offerId), chunk.fileId, chunk.offset, chunk.data.length);
  frame.set(chunk.data, CHUNK_HEADER_BYTES);
  return frame;
}

export function offerIdBytes(id: string): Bytes {
  const bytes = fromBase64url(id);
  if (bytes.length !== OFFER_ID_BYTES) throw new RangeError('bad offer id');
  return bytes;
}

/** Decodes and validates one frame from the peer. Throws an Error with a one-line reason on anything malformed. */
export function decodeFrame(frame: Uint8Array): DecodedFrame {
  if (frame.length === 0) throw new Error('empty frame');
  if (frame.length > MAX_TRANSFER_FRAME_BYTES) throw new Error('frame too large');
  if (frame[0] === FRAME_CHUNK) {
    if (frame.length < CHUNK_HEADER_BYTES) throw new Error('chunk frame too short');
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    const id = view.getUint32(17, false);
    if (id >= MAX_FILES_PER_OFFER) throw new Error('chunk fileId out of range');
    const hi = view.getUint32(21, false);
    const offset = hi * 2 ** 32 + view.getUint32(25, false);
    if (!Number.isSafeInteger(offset + (frame.length - CHUNK_HEADER_BYTES)))
      throw new Error('chunk offset out of range');
    return {
      kind: 'chunk',
      chunk: {
        offerId: toBase64url(frame.subarray(1, 17)),
        fileId: id,
        offset,
        data: frame.subarray(CHUNK_HEADER_BYTES),
      },
    };
  }
  if (frame[0] === FRAME_CONTROL) {
    let json: unknown;
    try {
      json = JSON.parse(decoder.decode(frame.subarray(1)));
    } catch {
      throw new Error('control frame is not UTF-8 JSON');
    }
    const parsed = ControlSchema.safeParse(json);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      const where = first && first.path.length ? first.path.join('.') : 'message';
      throw new Error(`bad control message: ${where}: ${first?.message ?? 'invalid'}`.slice(0, 300));
    }
    return { kind: 'control', message: parsed.data };
  }
  throw new Error(`unknown frame kind ${frame[0]}`);
}
