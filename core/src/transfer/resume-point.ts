// Where a received file continues after a restart or a new offer round: the last checkpoint a restart
// trusts (offset + digest state, made durable by a flush), plus, provisionally, the bytes the partial
// holds beyond it. A crash (not a power cut) then loses no written byte: the sender checks those bytes'
// hash (`check` in our accept) and either continues after them or from the checkpoint.
import {
  FileDigest,
  MAX_DIGEST_BACKLOG,
  Sha256,
  type DigestPoint,
  type RangeHash,
  type Sha256StreamFactory,
} from './hash.js';
import type { SinkFile } from './io.js';
import type { AcceptFile } from './protocol.js';

/** A checkpoint: the file digest's state at a block boundary the partial holds durably. */
export type HashPoint = DigestPoint;

/**
 * Bytes kept from before a restart that no durable checkpoint covers yet: [from.offset, from.offset + length).
 * We continue after them provisionally; the sender checks their hash (`check` in our accept) and either
 * continues where we are (they were right) or from `from` (we roll back to its hash state).
 */
export interface Unconfirmed {
  from: HashPoint;
  length: number;
  sha256: string;
  /** Our accept carried the check: the next chunk's offset tells the sender's verdict. */
  checkSent: boolean;
}

/** Where a file continues (a file not open right now, as promised in our last accept or left when closed). */
export interface Position {
  expected: number;
  /** The digest at `expected`: a live one (handed over when a file closed), a checkpoint, or none (offset 0). */
  state: FileDigest | HashPoint | undefined;
  unconfirmed?: Unconfirmed | undefined;
}

/** The start of a file: nothing kept. */
export const START: Position = Object.freeze({ expected: 0, state: undefined });

/**
 * Where a partial found on disk continues: after its last checkpoint, plus (provisionally) whatever
 * the partial holds beyond it, if it can be read back and is at most `maxTailBytes`.
 */
export async function restorePosition(
  sink: SinkFile,
  checkpoint: HashPoint | undefined,
  size: number,
  maxTailBytes: number,
  blockHash?: Sha256StreamFactory,
): Promise<Position> {
  const saved = checkpoint ?? (await FileDigest.origin());
  const length = sink.existingBytes;
  // The partial lost bytes we had made durable (or was replaced): start over.
  if (length < saved.offset) return { ...START };
  const tailLength = Math.min(length, size) - saved.offset;
  if (tailLength > 0 && sink.read && tailLength <= maxTailBytes) {
    const tail = await hashTail(sink, saved, tailLength, blockHash);
    if (tail) {
      return {
        expected: tail.digest.position,
        state: tail.digest,
        unconfirmed: { from: saved, length: tailLength, sha256: tail.sha256, checkSent: false },
      };
    }
  }
  return { expected: saved.offset, state: saved };
}

/** Hashes the partial's bytes after the checkpoint: their own SHA-256 and the file hash state at their end. */
async function hashTail(
  sink: SinkFile,
  saved: HashPoint,
  length: number,
  blockHash: Sha256StreamFactory | undefined,
): Promise<{ sha256: string; digest: FileDigest } | null> {
  const tailHash = await Sha256.create();
  const fileHash = await FileDigest.create(saved, blockHash, rangeHashOf(sink));
  let at = saved.offset;
  const end = saved.offset + length;
  while (at < end) {
    const data = await sink.read!(at, Math.min(1024 * 1024, end - at));
    if (data.length === 0) return null;
    tailHash.update(data);
    fileHash.update(data);
    at += data.length;
    if (fileHash.backlog > MAX_DIGEST_BACKLOG) await fileHash.settled();
  }
  return { sha256: tailHash.peekHex(), digest: fileHash };
}

/** The sink's own block hashing (SinkFile.hashRange), if it has it. */
export function rangeHashOf(sink: SinkFile): RangeHash | undefined {
  return sink.hashRange ? (offset, length) => sink.hashRange!(offset, length) : undefined;
}

/** What our accept says for one file; marks the unconfirmed bytes as asked about. */
export function acceptOf(fileId: number, offset: number, unconfirmed: Unconfirmed | undefined): AcceptFile {
  if (!unconfirmed) return { fileId, offset };
  unconfirmed.checkSent = true;
  return {
    fileId,
    offset,
    check: { from: unconfirmed.from.offset, length: unconfirmed.length, sha256: unconfirmed.sha256 },
  };
}
