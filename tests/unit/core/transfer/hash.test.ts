import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DIGEST_BLOCK_BYTES,
  FileDigest,
  HashTrail,
  Sha256,
  decodeHashState,
  encodeHashState,
} from '../../../../core/src/transfer/hash.js';
import { nodeBlockHash } from '../../../../platform/node/src/hash.js';
import { randomBytes } from './memory-io.js';

const B = DIGEST_BLOCK_BYTES;
const node = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** The scheme spelled out independently with node:crypto: SHA-256(label ‖ SHA-256 of each 1 MiB block). */
function reference(data: Uint8Array): string {
  const outer = createHash('sha256').update('parley file digest: SHA-256 over SHA-256 of 1 MiB blocks, v1\n');
  for (let at = 0; at < data.length; at += B)
    outer.update(
      createHash('sha256')
        .update(data.subarray(at, at + B))
        .digest(),
    );
  return outer.digest('hex');
}

/** Feeds `data` in pieces of the given sizes (cycled), as chunks of any size arrive. */
function feed(digest: { update(d: Uint8Array): void }, data: Uint8Array, sizes: number[], from = 0): void {
  for (let at = from, i = 0; at < data.length; i++) {
    const n = Math.min(sizes[i % sizes.length]!, data.length - at);
    digest.update(data.subarray(at, at + n));
    at += n;
  }
}

describe('streaming SHA-256', () => {
  it('matches node:crypto, and a saved state resumes in another hasher', async () => {
    const data = randomBytes(300_000, 3);
    const a = await Sha256.create();
    a.update(data.subarray(0, 123_457));
    const saved = encodeHashState(a.save());
    expect(a.peekHex()).toBe(node(data.subarray(0, 123_457)));
    const b = await Sha256.create();
    b.load(decodeHashState(saved));
    b.update(data.subarray(123_457));
    expect(b.peekHex()).toBe(node(data));
  });
});

describe('FileDigest (SHA-256 over 1 MiB block digests)', () => {
  const data = randomBytes(3 * B + 12_345, 5);

  it('equals the scheme computed independently, however the bytes are cut', async () => {
    for (const sizes of [[65_488], [1], [B], [B + 1, 7], [3 * B + 12_345]]) {
      const digest = await FileDigest.create();
      feed(digest, sizes[0] === 1 ? data.subarray(0, 5000) : data, sizes);
      expect(await digest.hex()).toBe(reference(sizes[0] === 1 ? data.subarray(0, 5000) : data));
    }
  });

  it('is defined for empty files and exact block multiples, and differs from plain SHA-256', async () => {
    for (const size of [0, B, 2 * B]) {
      const digest = await FileDigest.create();
      digest.update(data.subarray(0, size));
      const hex = await digest.hex();
      expect(hex).toBe(reference(data.subarray(0, size)));
      expect(hex).not.toBe(node(data.subarray(0, size)));
    }
  });

  it('with the store hashing ranges: the same digest however the bytes are cut, one request per block', async () => {
    for (const sizes of [[65_488], [B], [B + 1, 7], [3 * B + 12_345]]) {
      const asked: Array<[number, number]> = [];
      const range = async (offset: number, length: number) => {
        asked.push([offset, length]);
        return new Uint8Array(
          createHash('sha256')
            .update(data.subarray(offset, offset + length))
            .digest(),
        );
      };
      const digest = await FileDigest.create(undefined, undefined, range);
      feed(digest, data, sizes);
      expect(await digest.hex()).toBe(reference(data));
      expect(asked).toEqual([
        [0, B],
        [B, B],
        [2 * B, B],
        [3 * B, 12_345],
      ]);
    }
  });

  it('hex() peeks: hashing continues after it', async () => {
    const digest = await FileDigest.create();
    digest.update(data.subarray(0, B + 10));
    expect(await digest.hex()).toBe(reference(data.subarray(0, B + 10)));
    digest.update(data.subarray(B + 10));
    expect(await digest.hex()).toBe(reference(data));
  });

  it('a boundary point taken mid-stream resumes in a new digest (what a checkpoint persists)', async () => {
    const digest = await FileDigest.create();
    feed(digest, data.subarray(0, 2 * B + 777), [65_488]);
    const pending = digest.boundary();
    // Later bytes do not move the point that was asked for.
    digest.update(data.subarray(2 * B + 777));
    const point = await pending;
    expect(point.offset).toBe(2 * B);
    const resumed = await FileDigest.create({
      offset: point.offset,
      state: decodeHashState(encodeHashState(point.state)),
    });
    expect(resumed.position).toBe(2 * B);
    feed(resumed, data, [100_000], 2 * B);
    expect(await resumed.hex()).toBe(reference(data));
    await expect(FileDigest.create({ offset: 5, state: point.state })).rejects.toThrow(/block boundary/);
  });

  it('keeps its backlog bounded when the caller awaits settled()', async () => {
    const digest = await FileDigest.create();
    let most = 0;
    for (let at = 0; at < data.length; at += 65_488) {
      digest.update(data.subarray(at, at + 65_488));
      most = Math.max(most, digest.backlog);
      if (digest.backlog > 1) await digest.settled();
    }
    expect(most).toBeLessThanOrEqual(2);
    await digest.settled();
    expect(digest.backlog).toBe(0);
  });
});

describe('HashTrail', () => {
  it('rewinds to any offset, re-hashing less than a block from the nearest boundary', async () => {
    const data = randomBytes(5 * B + 999, 4);
    const trail = await HashTrail.create();
    feed(trail, data, [65_488]);
    expect(await trail.digestHex()).toBe(reference(data));
    await trail.settled();
    for (const target of [1000, 3 * B, 3 * B + 5, data.length - 1]) {
      const from = await trail.rewind(target);
      expect(from).toBe(Math.floor(target / B) * B);
      trail.update(data.subarray(from, target));
      expect(trail.position).toBe(target);
      expect(await trail.digestHex()).toBe(reference(data.subarray(0, target)));
    }
    // Already there: nothing to re-hash.
    expect(await trail.rewind(trail.position)).toBe(data.length - 1);
  });

  it('continues from a state remembered from storage, and forgets older states', async () => {
    const data = randomBytes(3 * B + 10, 6);
    const first = await HashTrail.create();
    feed(first, data, [65_488]);
    await first.settled();
    const state = first.stateAt(2 * B)!;
    expect(state).toBeDefined();
    const second = await HashTrail.create();
    second.remember(2 * B, state);
    second.remember(B + 1, state); // not a boundary: ignored
    expect(second.stateAt(B + 1)).toBeUndefined();
    expect(await second.rewind(2 * B + 5)).toBe(2 * B);
    second.update(data.subarray(2 * B));
    expect(await second.digestHex()).toBe(reference(data));
    first.forgetBefore(2 * B + 3);
    expect(first.stateAt(B)).toBeUndefined();
    expect(first.stateAt(2 * B)).toBeDefined();
  });
});

describe('FileDigest with a native block hash (node:crypto, as the CLI runs it)', () => {
  const data = randomBytes(3 * B + 12_345, 7);

  it('gives the same digest as the WebCrypto path, however the bytes are cut, without a backlog', async () => {
    for (const sizes of [[65_488], [1, 262_051], [B], [B + 1, 7], [3 * B + 12_345]]) {
      const input = sizes[0] === 1 ? data.subarray(0, 2 * B + 3) : data;
      const digest = await FileDigest.create(undefined, nodeBlockHash);
      let most = 0;
      for (let at = 0, i = 0; at < input.length; i++) {
        const n = Math.min(sizes[i % sizes.length]!, input.length - at);
        digest.update(input.subarray(at, at + n));
        most = Math.max(most, digest.backlog);
        at += n;
      }
      expect(most).toBe(0);
      expect(await digest.hex()).toBe(reference(input));
    }
  });

  it('peeks a partial block, keeps going, and its boundary points resume on either engine', async () => {
    const digest = await FileDigest.create(undefined, nodeBlockHash);
    feed(digest, data.subarray(0, 2 * B + 777), [65_488]);
    expect(await digest.hex()).toBe(reference(data.subarray(0, 2 * B + 777)));
    const point = await digest.boundary();
    expect(point.offset).toBe(2 * B);
    feed(digest, data, [100_000], 2 * B + 777);
    expect(await digest.hex()).toBe(reference(data));
    // A checkpoint written by one engine continues on the other (a receiver may restart as another build).
    const webcrypto = await FileDigest.create(point);
    feed(webcrypto, data, [100_000], 2 * B);
    expect(await webcrypto.hex()).toBe(reference(data));
    const web = await FileDigest.create();
    feed(web, data.subarray(0, B), [65_488]);
    const native = await FileDigest.create(await web.boundary(), nodeBlockHash);
    feed(native, data, [65_488], B);
    expect(await native.hex()).toBe(reference(data));
  });

  it('a HashTrail rewinds and keeps its states with it', async () => {
    const trail = await HashTrail.create(nodeBlockHash);
    feed(trail, data, [65_488]);
    expect(trail.backlog).toBe(0);
    expect(trail.stateAt(3 * B)).toBeDefined();
    const from = await trail.rewind(2 * B + 5);
    expect(from).toBe(2 * B);
    trail.update(data.subarray(from));
    expect(await trail.digestHex()).toBe(reference(data));
  });
});
