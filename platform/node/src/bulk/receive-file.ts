// The receiving end of one file on a bulk lane: sends START at `from` (where the partial and its digest
// are), then appends each DATA frame to the partial in order, feeds it to the file digest, and acknowledges
// every `ackBytes` written (which opens the sender's window: memory stays bounded however slow the disk).
// Resolves once the last byte is written; on a cut, rejects with LaneCut naming how far the partial and the
// digest got, so a new lane (or the session stream) continues from exactly there: nothing lost, nothing
// written twice. The caller owns the partial (SinkFile, positioned at `from`) and the digest.
import { MAX_DIGEST_BACKLOG, type DigestPoint, type FileDigest } from '../../../../core/src/transfer/hash.js';
import type { SinkFile } from '../../../../core/src/transfer/io.js';
import { BulkLaneError } from '../../../../core/src/transfer/bulk-frame.js';
import { LaneReceiveState } from '../../../../core/src/transfer/bulk-state.js';
import type { BulkLane } from './lane.js';

export const DEFAULT_LANE_ACK_BYTES = 2 * 1024 * 1024;
/**
 * Bytes received and not yet written, at most: the sender's window (16 MiB by default) and some slack. A sender
 * that ignores its window is cut off instead of filling this process's memory.
 */
export const MAX_UNWRITTEN_BYTES = 24 * 1024 * 1024;

export interface ReceiveOnLaneOptions {
  size: number;
  /** Bytes already in the partial and in `digest` (the START offset). */
  from: number;
  digest: FileDigest;
  /** Acknowledge at least this often (default 2 MiB; keep it under a quarter of the sender's window). */
  ackBytes?: number;
  /** Received and not yet written, at most (default MAX_UNWRITTEN_BYTES). */
  maxUnwrittenBytes?: number;
  /** Bytes written (and hashed) up to `offset`. */
  onWritten?: (offset: number) => void;
  /** Every this many bytes: flush the partial, then onCheckpoint with the digest at its last block boundary. */
  checkpointBytes?: number;
  onCheckpoint?: (point: DigestPoint) => void;
}

/** The lane ended before the file did; `written` bytes are in the partial and the digest. */
export class LaneCut extends Error {
  override readonly name = 'LaneCut';
  constructor(
    readonly written: number,
    readonly reason: Error,
  ) {
    super(`lane cut at ${written}: ${reason.message}`);
  }
}

export function receiveOnLane(lane: BulkLane, sink: SinkFile, options: ReceiveOnLaneOptions): Promise<number> {
  const state = new LaneReceiveState(options.size, options.from);
  if (options.digest.position !== options.from)
    throw new RangeError(`the digest is at ${options.digest.position}, not at ${options.from}`);
  const ackBytes = options.ackBytes ?? DEFAULT_LANE_ACK_BYTES;
  const maxUnwritten = options.maxUnwrittenBytes ?? MAX_UNWRITTEN_BYTES;
  let written = options.from;
  let lastAck = options.from;
  let lastCheckpoint = options.from;
  let writing: Promise<void> = Promise.resolve();
  let settled = false;
  return new Promise((resolve, reject) => {
    const cut = (error: Error): void => {
      if (settled) return;
      settled = true;
      if (!lane.closed) lane.fail(error.message);
      // Frames already taken are authentic and in order: they still land, then the caller learns where.
      void writing.then(
        () => reject(new LaneCut(written, error)),
        (writeError: unknown) => reject(new LaneCut(written, writeError as Error)),
      );
    };
    lane.onClose((reason) => cut(new BulkLaneError('closed', reason)));
    lane.onFrame((frame) => {
      if (settled) return;
      let step;
      try {
        step = state.receive(frame);
      } catch (error) {
        return cut(error as Error);
      }
      if (step.kind === 'failed')
        return cut(new BulkLaneError('peer-failed', `the sender ended the lane: ${step.reason}`));
      const data = step.data;
      if (state.next - written > maxUnwritten)
        return cut(new BulkLaneError('overrun', `the sender is ${state.next - written} bytes ahead of the disk`));
      writing = writing.then(async () => {
        await sink.write(data);
        options.digest.update(data);
        if (options.digest.backlog > MAX_DIGEST_BACKLOG) await options.digest.settled();
        written += data.length;
        options.onWritten?.(written);
        if (written - lastAck >= ackBytes || written === options.size) {
          lastAck = written;
          await lane.send(state.ack(written)).catch(() => {});
        }
        if (options.onCheckpoint && options.checkpointBytes && written - lastCheckpoint >= options.checkpointBytes) {
          lastCheckpoint = written;
          // Durable first: a restart trusts the point only for bytes that are on disk.
          await sink.flush();
          const point = await options.digest.boundary();
          options.onCheckpoint({ offset: point.offset, state: point.state.slice() });
        }
        if (written === options.size && !settled) {
          settled = true;
          resolve(written);
        }
      });
      writing.catch((error: unknown) => cut(error as Error));
    });
    void lane.send(state.start()).catch(() => {});
    if (state.complete && !settled) {
      settled = true;
      resolve(written);
    }
  });
}
