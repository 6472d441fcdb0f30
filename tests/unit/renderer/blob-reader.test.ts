// BlobReader (renderer/src/platform/blob-reader.ts): the sending engine's reads of a picked file,
// served from one byte stream. Node's Blob gives a real byte stream (BYOB reads); a default stream
// with odd chunk sizes covers the other reader.
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadRenderer } from './load.js';

interface StreamableBlob {
  readonly size: number;
  slice(start: number): { stream(): ReadableStream<Uint8Array> };
}
interface BlobReaderModule {
  BlobReader: new (blob: StreamableBlob) => {
    read(offset: number, length: number): Promise<Uint8Array>;
    close(): void;
  };
}
let mod: BlobReaderModule;
beforeAll(async () => {
  mod = await loadRenderer<BlobReaderModule>('platform/blob-reader.ts');
});

const DATA: Uint8Array<ArrayBuffer> = new Uint8Array(randomBytes(1_000_003));

/** A blob whose streams are default (not byte) streams of 7,919-byte chunks, counting what it opens. */
function chunkyBlob(bytes: Uint8Array, opened: number[], failAt?: number): StreamableBlob {
  return {
    size: bytes.length,
    slice(start: number) {
      return {
        stream() {
          opened.push(start);
          let at = start;
          return new ReadableStream<Uint8Array>({
            pull(controller) {
              if (failAt !== undefined && at >= failAt)
                return controller.error(new Error('NotReadableError: file changed'));
              if (at >= bytes.length) return controller.close();
              const end = Math.min(at + 7919, bytes.length);
              controller.enqueue(bytes.slice(at, end));
              at = end;
            },
          });
        },
      };
    },
  };
}

/** Node's Blob, counting the streams opened (slice(start) is where a stream starts). */
function countingBlob(bytes: Uint8Array<ArrayBuffer>, opened: number[]): StreamableBlob {
  const blob = new Blob([bytes]);
  return {
    size: blob.size,
    slice(start: number) {
      opened.push(start);
      return blob.slice(start);
    },
  };
}

async function readAll(
  reader: { read(o: number, l: number): Promise<Uint8Array> },
  size: number,
  chunk: number,
): Promise<Uint8Array> {
  const out = new Uint8Array(size);
  for (let at = 0; at < size;) {
    const got = await reader.read(at, chunk);
    expect(got.length).toBe(Math.min(chunk, size - at));
    out.set(got, at);
    at += got.length;
  }
  return out;
}

describe.each([
  ['byte stream (BYOB reads)', countingBlob],
  ['default stream, odd chunk sizes', (b: Uint8Array<ArrayBuffer>, o: number[]) => chunkyBlob(b, o)],
])('BlobReader over a %s', (_name, make) => {
  it('reads the file in sequence through one stream', async () => {
    const opened: number[] = [];
    const reader = new mod.BlobReader(make(DATA, opened));
    expect(Buffer.from(await readAll(reader, DATA.length, 262_051)).equals(Buffer.from(DATA))).toBe(true);
    expect(opened).toEqual([0]);
    // At and past the end: nothing, and no new stream.
    expect((await reader.read(DATA.length, 100)).length).toBe(0);
    expect(opened).toEqual([0]);
    reader.close();
  });

  it('reopens at an out-of-sequence offset (a resume) and goes on from there', async () => {
    const opened: number[] = [];
    const reader = new mod.BlobReader(make(DATA, opened));
    await reader.read(0, 100_000);
    const back = await reader.read(12_345, 50_000);
    expect(Buffer.from(back).equals(Buffer.from(DATA.subarray(12_345, 62_345)))).toBe(true);
    const next = await reader.read(62_345, 10);
    expect(Buffer.from(next).equals(Buffer.from(DATA.subarray(62_345, 62_355)))).toBe(true);
    const ahead = await reader.read(900_000, 200_000);
    expect(Buffer.from(ahead).equals(Buffer.from(DATA.subarray(900_000)))).toBe(true);
    expect(opened).toEqual([0, 12_345, 900_000]);
    reader.close();
  });

  it('serves concurrent calls in call order', async () => {
    const reader = new mod.BlobReader(make(DATA, []));
    const parts = await Promise.all([
      reader.read(0, 300_000),
      reader.read(300_000, 300_000),
      reader.read(600_000, 500_000),
    ]);
    const joined = Buffer.concat(parts.map((p) => Buffer.from(p)));
    expect(joined.equals(Buffer.from(DATA))).toBe(true);
    reader.close();
  });

  it('refuses reads after close and bad ranges', async () => {
    const reader = new mod.BlobReader(make(DATA, []));
    await expect(reader.read(-1, 10)).rejects.toThrow(/bad read range/);
    await expect(reader.read(0, Number.NaN)).rejects.toThrow(/bad read range/);
    reader.close();
    await expect(reader.read(0, 10)).rejects.toThrow(/closed/);
  });
});

describe('BlobReader errors', () => {
  it('passes a stream error on and reopens for the next read', async () => {
    const opened: number[] = [];
    let fail = true;
    const inner = chunkyBlob(DATA, opened, 400_000);
    const blob: StreamableBlob = {
      size: DATA.length,
      slice: (start) => (fail ? inner.slice(start) : chunkyBlob(DATA, opened).slice(start)),
    };
    const reader = new mod.BlobReader(blob);
    await reader.read(0, 300_000);
    await expect(reader.read(300_000, 300_000)).rejects.toThrow(/file changed/);
    fail = false;
    const again = await reader.read(300_000, 300_000);
    expect(Buffer.from(again).equals(Buffer.from(DATA.subarray(300_000, 600_000)))).toBe(true);
    expect(opened).toEqual([0, 300_000]);
    reader.close();
  });

  it('returns what there is when the file is shorter than its size said', async () => {
    const short = DATA.subarray(0, 500_000);
    const blob: StreamableBlob = { size: DATA.length, slice: (start) => new Blob([short]).slice(start) };
    const reader = new mod.BlobReader(blob);
    const got = await reader.read(400_000, 262_051);
    expect(got.length).toBe(100_000);
    expect((await reader.read(500_000, 1000)).length).toBe(0);
    reader.close();
  });
});
