// Lent received memory (core/src/session/buffer-lease.ts): a buffer goes back to its producer only after every
// reader its lease was split into released it; a reader that never releases keeps it from reuse for good.
import { describe, expect, it } from 'vitest';
import { isLent, lend, releaseLease, splitLease } from '../../../../core/src/session/buffer-lease.js';

describe('buffer leases', () => {
  it('gives a buffer back only once every frame of its record was released, through any view of it', () => {
    const record = new Uint8Array(300);
    let back = 0;
    lend(record, () => back++);
    const frames = [record.subarray(0, 100), record.subarray(100, 200), record.subarray(200)];
    splitLease(record, frames.length);
    releaseLease(frames[2]!);
    releaseLease(frames[0]!);
    expect(back).toBe(0);
    expect(isLent(record)).toBe(true);
    releaseLease(frames[1]!.subarray(10, 20));
    expect(back).toBe(1);
    expect(isLent(record)).toBe(false);
    // Released again (a bug elsewhere) or memory never lent: nothing happens.
    releaseLease(frames[1]!);
    releaseLease(new Uint8Array(8));
    expect(back).toBe(1);
  });

  it('never gives back a buffer one of whose readers does not release', () => {
    const record = new Uint8Array(64);
    let back = 0;
    lend(record, () => back++);
    splitLease(record, 2);
    releaseLease(record.subarray(0, 32));
    expect(back).toBe(0);
    expect(isLent(record)).toBe(true);
  });

  it('a record of no frames goes back at once; a lease already split cannot be split again', () => {
    const record = new Uint8Array(16);
    let back = 0;
    lend(record, () => back++);
    splitLease(record, 0);
    expect(back).toBe(1);
    const other = new Uint8Array(16);
    lend(other, () => back++);
    splitLease(other, 2);
    expect(() => splitLease(other, 3)).toThrow(/one reader/);
  });
});
