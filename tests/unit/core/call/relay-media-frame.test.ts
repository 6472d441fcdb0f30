import { describe, expect, it } from 'vitest';
import {
  decodeMediaMessage,
  encodeFeedback,
  encodeKeyRequest,
  encodeMediaFrame,
  MEDIA_HEADER_BYTES,
  MediaMessageError,
  seqAfter,
  type MediaFrameHeader,
} from '../../../../core/src/call/relay-media/frame.js';

/** Deterministic PRNG (mulberry32), so a failing case can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const header = (over: Partial<MediaFrameHeader> = {}): MediaFrameHeader => ({
  track: 'video',
  seq: 7,
  timestampUs: 1_234_567,
  captureMs: 1_700_000_000_123.5,
  key: true,
  layer: 0,
  channels: 0,
  ...over,
});

describe('relay media messages', () => {
  it('round-trips media frames of both tracks (random cases)', () => {
    const r = rng(11);
    for (let i = 0; i < 500; i++) {
      const track = r() < 0.5 ? 'audio' : 'video';
      const h = header({
        track,
        seq: Math.floor(r() * 0x100000000),
        timestampUs: (r() - 0.5) * 1e15,
        captureMs: r() * 2e12,
        key: r() < 0.5,
        layer: track === 'audio' ? 0 : Math.floor(r() * 3),
        channels: track === 'audio' ? 1 + Math.floor(r() * 4) : 0,
      });
      const payload = Uint8Array.from({ length: 1 + Math.floor(r() * 300) }, () => Math.floor(r() * 256));
      const m = decodeMediaMessage(encodeMediaFrame(h, payload));
      expect(m.type).toBe('media');
      if (m.type !== 'media') return;
      expect({ ...m, payload: [...m.payload] }).toEqual({ type: 'media', ...h, payload: [...payload] });
    }
  });

  it('round-trips feedback and key requests', () => {
    const f = { audioBytes: 1, videoBytes: 0xffffffff, videoSeq: 9, receiverMs: 5.5, echoCaptureMs: 4.25 };
    expect(decodeMediaMessage(encodeFeedback(f))).toEqual({ type: 'feedback', ...f });
    expect(decodeMediaMessage(encodeKeyRequest())).toEqual({ type: 'key-request' });
  });

  it('refuses malformed messages with a reason naming the field', () => {
    const good = encodeMediaFrame(header(), Uint8Array.of(1, 2, 3));
    const bad = (mutate: (b: Uint8Array) => Uint8Array): string => {
      try {
        decodeMediaMessage(mutate(good.slice()));
      } catch (error) {
        expect(error).toBeInstanceOf(MediaMessageError);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad(() => new Uint8Array(0))).toMatch(/empty/);
    expect(bad((b) => ((b[0] = 9), b))).toMatch(/unknown media message type 9/);
    expect(bad((b) => b.subarray(0, MEDIA_HEADER_BYTES))).toMatch(/shorter than its header/);
    expect(bad((b) => ((b[1] = 2), b))).toMatch(/unknown track/);
    expect(bad((b) => ((b[2] = 0x80), b))).toMatch(/flags/);
    expect(bad((b) => ((b[3] = 3), b))).toMatch(/temporal layer/);
    expect(
      bad((b) => {
        new DataView(b.buffer).setFloat64(16, Number.NaN);
        return b;
      }),
    ).toMatch(/not finite/);
    expect(bad(() => Uint8Array.of(2, 0, 0))).toMatch(/feedback: 3 bytes/);
    expect(bad(() => Uint8Array.of(3, 0))).toMatch(/key request/);
  });

  it('never throws anything but MediaMessageError on random bytes', () => {
    const r = rng(5);
    for (let i = 0; i < 2000; i++) {
      const bytes = Uint8Array.from({ length: Math.floor(r() * 64) }, () => Math.floor(r() * 256));
      if (r() < 0.5 && bytes.length > 0) bytes[0] = 1 + Math.floor(r() * 3); // mostly valid types
      try {
        decodeMediaMessage(bytes);
      } catch (error) {
        expect(error).toBeInstanceOf(MediaMessageError);
      }
    }
  });

  it('orders u32 sequence numbers across the wrap', () => {
    expect(seqAfter(1, 0)).toBe(true);
    expect(seqAfter(0, 0xffffffff)).toBe(true);
    expect(seqAfter(0xffffffff, 0)).toBe(false);
    expect(seqAfter(5, 5)).toBe(false);
  });
});
