// Canonical, unambiguous byte strings for anything we sign or hash: a domain label, then every
// field as a 4-byte big-endian length followed by its bytes. No field can bleed into the next,
// and no statement of one kind can be read as another (the label comes first, length-prefixed too).
import type { Bytes } from '../../../signaling/protocol/index.js';

const encoder = new TextEncoder();

export type Field = string | Uint8Array;

export function encodeFields(label: string, fields: readonly Field[]): Bytes {
  const parts = [label, ...fields].map((f) => (typeof f === 'string' ? encoder.encode(f) : f));
  let size = 0;
  for (const p of parts) size += 4 + p.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const p of parts) {
    view.setUint32(at, p.length, false);
    out.set(p, at + 4);
    at += 4 + p.length;
  }
  return out;
}

export async function sha256(data: Bytes): Promise<Bytes> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', data));
}
