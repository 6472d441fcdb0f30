// Where a received file continues after a restart (core/src/transfer/resume-point.ts), on the in-memory
// disk: the checkpoint, plus the partial's readable tail as unconfirmed bytes the sender must check.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DIGEST_BLOCK_BYTES, FileDigest } from '../../../../core/src/transfer/hash.js';
import type { SinkFile } from '../../../../core/src/transfer/io.js';
import { acceptOf, restorePosition, START } from '../../../../core/src/transfer/resume-point.js';
import { MemoryDisk, randomBytes } from './memory-io.js';

async function partialHolding(data: Uint8Array): Promise<SinkFile> {
  const disk = new MemoryDisk();
  const first = await disk.open('f.bin', { key: 'k' });
  await first.write(data);
  await first.close();
  return disk.open('f.bin', { key: 'k' });
}

async function digestOf(data: Uint8Array): Promise<string> {
  const digest = await FileDigest.create();
  digest.update(data);
  return digest.hex();
}

describe('restorePosition', () => {
  const size = 3 * DIGEST_BLOCK_BYTES;
  const data = randomBytes(size, 3);

  it('continues after the whole readable tail when there is no checkpoint, asking the sender to check it', async () => {
    const kept = data.subarray(0, DIGEST_BLOCK_BYTES + 1234);
    const position = await restorePosition(await partialHolding(kept), undefined, size, 64 * 1024 * 1024);
    expect(position.expected).toBe(kept.length);
    expect(position.unconfirmed).toMatchObject({
      length: kept.length,
      checkSent: false,
      sha256: createHash('sha256').update(kept).digest('hex'),
    });
    expect(position.unconfirmed!.from.offset).toBe(0);
    // The digest handed over continues the file: finishing it gives the whole file's digest.
    const digest = position.state as FileDigest;
    digest.update(data.subarray(kept.length));
    expect(await digest.hex()).toBe(await digestOf(data));
  });

  it('continues from the checkpoint when the tail is longer than it may re-hash, or cannot be read', async () => {
    const digest = await FileDigest.create();
    digest.update(data.subarray(0, DIGEST_BLOCK_BYTES));
    const checkpoint = await digest.boundary();
    const partial = await partialHolding(data.subarray(0, 2 * DIGEST_BLOCK_BYTES));
    const tooLong = await restorePosition(partial, checkpoint, size, DIGEST_BLOCK_BYTES - 1);
    expect(tooLong).toEqual({ expected: DIGEST_BLOCK_BYTES, state: checkpoint });
    const unreadable = { ...partial, read: undefined };
    expect(await restorePosition(unreadable, checkpoint, size, 64 * 1024 * 1024)).toEqual({
      expected: DIGEST_BLOCK_BYTES,
      state: checkpoint,
    });
  });

  it('starts over when the partial lost bytes the checkpoint counted on', async () => {
    const digest = await FileDigest.create();
    digest.update(data.subarray(0, 2 * DIGEST_BLOCK_BYTES));
    const checkpoint = await digest.boundary();
    const position = await restorePosition(
      await partialHolding(data.subarray(0, DIGEST_BLOCK_BYTES)),
      checkpoint,
      size,
      64 * 1024 * 1024,
    );
    expect(position).toEqual(START);
  });

  it('never counts bytes past the offered size', async () => {
    const longer = new Uint8Array(DIGEST_BLOCK_BYTES + 10);
    const position = await restorePosition(
      await partialHolding(longer),
      undefined,
      DIGEST_BLOCK_BYTES,
      64 * 1024 * 1024,
    );
    expect(position.expected).toBe(DIGEST_BLOCK_BYTES);
    expect(position.unconfirmed?.length).toBe(DIGEST_BLOCK_BYTES);
  });
});

describe('acceptOf', () => {
  it('says where to continue, with the check of unconfirmed bytes, and marks the check as sent', async () => {
    expect(acceptOf(2, 100, undefined)).toEqual({ fileId: 2, offset: 100 });
    const unconfirmed = { from: await FileDigest.origin(), length: 100, sha256: 'ab'.repeat(32), checkSent: false };
    expect(acceptOf(2, 100, unconfirmed)).toEqual({
      fileId: 2,
      offset: 100,
      check: { from: 0, length: 100, sha256: 'ab'.repeat(32) },
    });
    expect(unconfirmed.checkSent).toBe(true);
  });
});
