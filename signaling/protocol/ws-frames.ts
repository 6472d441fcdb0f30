// WebSocket frames as a byte stream (RFC 6455 §5.2), for the hot paths of the relay and its Node clients: a
// parser in front of a `ws` receiver that takes complete, unfragmented binary frames out of the stream and
// hands them on as the pieces of the chunks that hold their payload (unmasked in place), without joining
// them; `ws` would copy each 256 KiB channel frame into a fresh buffer first. Every other frame (text,
// control, fragmented, oversized, wrongly masked, anything while no handler is set) goes to `write` byte for
// byte and in order, so the receiver's checks and close handling stay as they are. Plain Uint8Arrays: the
// relay (signaling/server/frame-tap.ts) and Node clients (platform/node/src/websocket.ts) both use it.

/** Receives one binary message: `parts` hold its `length` payload bytes in order (views of the chunks). */
export type BinaryPartsHandler = (parts: Uint8Array[], length: number) => void;

const FIN_BINARY = 0x82;
const OP_CLOSE = 0x08;

const HEAD = 0;
/** A binary frame's payload being collected for onBinary. */
const TAKE = 1;
/** A frame's payload going to `ws`. */
const PASS = 2;
/** From a close frame or an oversized length on, everything goes to `ws` (which stops or fails there). */
const PASS_ALL = 3;

/**
 * The parser itself: push() takes the socket's chunks; what is not a tapped binary frame goes to `write` (the
 * receiver's), in order; its result is the receiver's back-pressure signal.
 */
export class FrameSplitter {
  /** Binary frames go here while set; while null they go to `write` like everything else. */
  onBinary: BinaryPartsHandler | null = null;
  #state = HEAD;
  /** Header bytes gathered across chunks (at most 14). */
  readonly #head = new Uint8Array(14);
  #headHave = 0;
  /** Payload bytes still to come in the current frame. */
  #left = 0;
  #length = 0;
  #parts: Uint8Array[] = [];
  /** The frame's mask, or null when it is all zero (nothing to undo). */
  #mask: Uint8Array | null = null;
  /** Payload bytes of the current frame unmasked so far (the mask's phase). */
  #done = 0;
  /** `ws` is inside a fragmented message: continuation frames and their data go to it. */
  #fragmented = false;
  /** What the last write to `ws` returned (false: the socket should pause until it drains). */
  #flowing = true;

  constructor(
    private readonly write: (chunk: Uint8Array) => boolean,
    private readonly maxPayload: number,
    /** A server reads clients' frames, which must be masked; a client reads a server's, which must not be. */
    private readonly fromClient = true,
    /** XORs bytes (payload from offset `phase` on) with a frame's mask in place; a native one is faster. */
    private readonly unmask: (bytes: Uint8Array, mask: Uint8Array, phase: number) => void = unmaskJs,
  ) {}

  push(chunk: Uint8Array): boolean {
    if (this.#state === PASS_ALL) return this.write(chunk);
    this.#flowing = true;
    const end = chunk.length;
    let at = 0;
    /** Start of bytes of this chunk not yet handed to `ws` (-1: none pending). */
    let passFrom = -1;
    while (at < end) {
      if (this.#state === HEAD) {
        const start = at;
        const before = this.#headHave;
        const headLength = this.#readHead(chunk, at);
        if (headLength < 0) {
          // The header continues in the next chunk; its bytes so far are in #head.
          if (passFrom >= 0) this.#pass(chunk.subarray(passFrom, start));
          return this.#flowing;
        }
        // Where the header began: in this chunk, or (gathered) in earlier ones.
        const gathered = this.#headHave > 0;
        at += headLength - before;
        const head = gathered ? this.#head.subarray(0, headLength) : chunk.subarray(start, start + headLength);
        this.#headHave = 0;
        const b0 = head[0]!;
        const payload = this.#payloadLength(head);
        if (payload > this.maxPayload || payload < 0) {
          // `ws` refuses it (1009) and reads no further: hand it this frame and everything after.
          if (passFrom >= 0) this.#pass(chunk.subarray(passFrom, start));
          if (gathered) this.#pass(new Uint8Array(head));
          this.#state = PASS_ALL;
          this.#pass(chunk.subarray(gathered ? at : start));
          return this.#flowing;
        }
        const masked = (head[1]! & 0x80) !== 0;
        if (
          this.onBinary !== null &&
          b0 === FIN_BINARY &&
          masked === this.fromClient &&
          !this.#fragmented &&
          payload > 0
        ) {
          if (passFrom >= 0) this.#pass(chunk.subarray(passFrom, start));
          passFrom = -1;
          const mask = masked ? head.subarray(headLength - 4, headLength) : null;
          this.#mask = mask === null || (mask[0]! | mask[1]! | mask[2]! | mask[3]!) === 0 ? null : new Uint8Array(mask);
          this.#done = 0;
          this.#left = payload;
          this.#length = payload;
          this.#parts = [];
          this.#state = TAKE;
          continue;
        }
        // To `ws`: the header (from this chunk, or the gathered copy), then its payload.
        if (gathered) {
          if (passFrom >= 0) this.#pass(chunk.subarray(passFrom, start));
          this.#pass(new Uint8Array(head));
          passFrom = at;
        } else if (passFrom < 0) passFrom = start;
        const opcode = b0 & 0x0f;
        if (opcode === OP_CLOSE) {
          this.#state = PASS_ALL;
          this.#pass(chunk.subarray(passFrom));
          return this.#flowing;
        }
        if (opcode < 0x08) this.#fragmented = (b0 & 0x80) === 0;
        this.#left = payload;
        this.#state = payload > 0 ? PASS : HEAD;
        continue;
      }
      const take = Math.min(this.#left, end - at);
      if (this.#state === PASS) {
        if (passFrom < 0) passFrom = at;
        at += take;
        this.#left -= take;
        if (this.#left === 0) this.#state = HEAD;
        continue;
      }
      // TAKE
      const part = take === end && at === 0 ? chunk : chunk.subarray(at, at + take);
      if (this.#mask !== null) this.unmask(part, this.#mask, this.#done);
      this.#done += take;
      this.#parts.push(part);
      at += take;
      this.#left -= take;
      if (this.#left === 0) {
        const parts = this.#parts;
        this.#parts = [];
        this.#state = HEAD;
        this.onBinary?.(parts, this.#length);
      }
    }
    if (passFrom >= 0) this.#pass(chunk.subarray(passFrom, end));
    return this.#flowing;
  }

  #pass(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (!this.write(bytes)) this.#flowing = false;
  }

  /**
   * The header's length once it is complete (gathering it in #head when it spans chunks), or -1 when more
   * bytes are needed. When #headHave > 0 on return, the header is in #head.
   */
  #readHead(chunk: Uint8Array, at: number): number {
    const avail = chunk.length - at;
    if (this.#headHave === 0 && avail >= 2) {
      const needed = headLengthOf(chunk[at + 1]!);
      if (avail >= needed) return needed;
    }
    const head = this.#head;
    while (this.#headHave < 2 && at < chunk.length) head[this.#headHave++] = chunk[at++]!;
    if (this.#headHave < 2) return -1;
    const needed = headLengthOf(head[1]!);
    while (this.#headHave < needed && at < chunk.length) head[this.#headHave++] = chunk[at++]!;
    if (this.#headHave < needed) return -1;
    return needed;
  }

  /** The payload length a complete header announces (-1 beyond 2^53: `ws` refuses those too). */
  #payloadLength(head: Uint8Array): number {
    const len7 = head[1]! & 0x7f;
    if (len7 < 126) return len7;
    if (len7 === 126) return (head[2]! << 8) | head[3]!;
    const high = u32(head, 2);
    if (high > 0x1fffff) return -1;
    return high * 0x100000000 + u32(head, 6);
  }
}

function headLengthOf(b1: number): number {
  const len7 = b1 & 0x7f;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + ((b1 & 0x80) !== 0 ? 4 : 0);
}

function u32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

/** XORs `bytes` (payload bytes from offset `phase` on) with a frame's 4-byte mask, in place. */
function unmaskJs(bytes: Uint8Array, mask: Uint8Array, phase: number): void {
  for (let i = 0; i < bytes.length; i++) bytes[i] = bytes[i]! ^ mask[(phase + i) & 3]!;
}
