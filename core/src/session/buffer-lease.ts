// Received memory lent for reuse. A producer that allocates large buffers per record (Node's AES-GCM
// decrypt: a fresh 256 KiB per record, a page fault per 4 KiB on first write) lends each buffer out and
// takes it back once its readers are done, instead of leaving it to the garbage collector.
//
// The rule that keeps reuse safe: a buffer goes back only after EVERY reader released it, and a reader that
// does not know about leases never releases, so its buffer is simply never reused. Readers are counted per
// record: the transport that opened a record splits its lease into one per frame (splitLease); each frame's
// last reader (the stream for ACK/RESUME frames, the transfer engine for chunks once written and hashed)
// calls releaseLease once. Views (subarrays) of a lent buffer name it: the lease is keyed by the memory.

interface Lease {
  /** Readers that have not released yet. */
  left: number;
  giveBack: () => void;
}

const leases = new WeakMap<ArrayBufferLike, Lease>();

/**
 * Lends `bytes` (the whole of its memory) to one reader; `giveBack` runs once that reader, or every reader it
 * split the lease into, released it. Lending memory that is already lent replaces the old lease.
 */
export function lend(bytes: Uint8Array, giveBack: () => void): void {
  leases.set(bytes.buffer, { left: 1, giveBack });
}

/** Whether `bytes` is a view of lent memory not given back yet. */
export function isLent(bytes: Uint8Array): boolean {
  return leases.has(bytes.buffer);
}

/**
 * The one reader of lent `bytes` hands it on to `readers` readers (the frames of a record), each of which must
 * release once. Zero readers: given back now. Memory that is not lent: nothing happens.
 */
export function splitLease(bytes: Uint8Array, readers: number): void {
  const lease = leases.get(bytes.buffer);
  if (!lease) return;
  if (lease.left !== 1) throw new Error('only a lease with one reader can be split');
  lease.left = readers;
  if (readers <= 0) giveBack(bytes.buffer, lease);
}

/**
 * A reader is done with `bytes` (any view of lent memory): nothing reads or keeps it any more. The last
 * release gives the memory back to its producer, which may overwrite it at once. Not lent: nothing happens.
 */
export function releaseLease(bytes: Uint8Array): void {
  const lease = leases.get(bytes.buffer);
  if (!lease) return;
  lease.left -= 1;
  if (lease.left <= 0) giveBack(bytes.buffer, lease);
}

function giveBack(buffer: ArrayBufferLike, lease: Lease): void {
  leases.delete(buffer);
  lease.giveBack();
}
