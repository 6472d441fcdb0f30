// Byte helpers shared by the frame codecs.
import type { Bytes } from '../../../signaling/protocol/index.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function utf8(text: string): Bytes {
  return encoder.encode(text) as Bytes;
}

/** Strict UTF-8 decode: throws on malformed input rather than inventing replacement characters. */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** One new array holding `parts` in order. */
export function concatBytes(parts: readonly Uint8Array[]): Bytes {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** The same bytes backed by an ArrayBuffer (what WebCrypto wants): the view itself when it is, else a copy. */
export function bufferBacked(data: Uint8Array): Bytes {
  return data.buffer instanceof ArrayBuffer ? (data as Bytes) : new Uint8Array(data);
}

/** Always a copy backed by its own ArrayBuffer (transfer needs that; views of pooled Buffers are not). */
export function ownBytes(view: Uint8Array): Bytes {
  const out = new Uint8Array(view.length);
  out.set(view);
  return out;
}

/** Writes a non-negative safe integer as 8 bytes big-endian (2^53 is far beyond any counter here). */
export function writeU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, Math.floor(value / 0x1_0000_0000), false);
  view.setUint32(offset + 4, value >>> 0, false);
}

export function readU64(view: DataView, offset: number): number {
  const hi = view.getUint32(offset, false);
  const lo = view.getUint32(offset + 4, false);
  if (hi > 0x1fffff) throw new RangeError('counter beyond 2^53');
  return hi * 0x1_0000_0000 + lo;
}

/** A Uint8Array view of what a transport hands us (Buffer, ArrayBuffer, typed array view), or null. */
export function byteView(data: unknown): Uint8Array | null {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
}
