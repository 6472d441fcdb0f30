// The sending end of one file on a bulk lane: waits for the receiver's START, then reads the file from that
// offset straight into DATA frames (the read lands behind the frame header: no copy) and sends them, never
// more than `windowBytes` past the receiver's last ACK, one read ahead of the send. Resolves when the
// receiver acknowledged the last byte; rejects (BulkLaneError, or the source's TransferError) otherwise,
// with the lane closed. Nothing here decides where the file goes on after a cut: the caller does.
import type { SourceFile } from '../../../../core/src/transfer/io.js';
import {
  BulkLaneError,
  DEFAULT_LANE_DATA,
  LANE_HEADER_BYTES,
  writeDataHeader,
} from '../../../../core/src/transfer/bulk-frame.js';
import { LaneSendState } from '../../../../core/src/transfer/bulk-state.js';
import type { BulkLane } from './lane.js';

export const DEFAULT_LANE_WINDOW = 16 * 1024 * 1024;
export const DEFAULT_START_MS = 10_000;

export interface SendOnLaneOptions {
  size: number;
  /** Bytes per DATA frame (default 252 KiB). */
  chunkBytes?: number;
  /** Most bytes sent and not yet acknowledged (default 16 MiB). */
  windowBytes?: number;
  /** START must arrive within this (default 10 s). */
  startMs?: number;
  /** The receiver acknowledged up to `offset` (written there). */
  onAcked?: (offset: number) => void;
}

export interface SendOnLaneResult {
  /** Where the receiver asked to start. */
  from: number;
}

export function sendOnLane(lane: BulkLane, source: SourceFile, options: SendOnLaneOptions): Promise<SendOnLaneResult> {
  const state = new LaneSendState(options.size);
  const chunk = options.chunkBytes ?? DEFAULT_LANE_DATA;
  const window = options.windowBytes ?? DEFAULT_LANE_WINDOW;
  if (!source.readFramed) throw new TypeError('a lane source reads into frames (readFramed)');
  const readFramed = source.readFramed.bind(source);
  return new Promise((resolve, reject) => {
    let wake: (() => void) | null = null;
    let done = false;
    const finish = (error?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(startTimer);
      offClose();
      wake?.();
      if (error) {
        if (!lane.closed) lane.fail(error.message);
        reject(error);
      } else resolve({ from: startedAt });
    };
    let startedAt = 0;
    const startTimer = setTimeout(
      () => finish(new BulkLaneError('timeout', `no START within ${options.startMs ?? DEFAULT_START_MS} ms`)),
      options.startMs ?? DEFAULT_START_MS,
    );
    const offClose = lane.onClose((reason) =>
      finish(new BulkLaneError('closed', `lane closed at ${state.acked} of ${options.size}: ${reason}`)),
    );

    const pump = async (): Promise<void> => {
      const read = (range: { offset: number; length: number } | null) =>
        range ? readFramed(range.offset, range.length, LANE_HEADER_BYTES).then((f) => ({ range, f })) : null;
      let next = read(state.take(chunk));
      while (next && !done) {
        const { range, f } = await next;
        if (f.length !== LANE_HEADER_BYTES + range.length)
          throw new BulkLaneError('overrun', `the file ended at ${range.offset + f.length - LANE_HEADER_BYTES}`);
        // Room in the window for the one after this one, or wait for acknowledgements.
        while (!done && state.sent + chunk - state.acked > window && state.sent < options.size)
          await new Promise<void>((r) => (wake = r));
        next = done ? null : read(state.take(chunk));
        await lane.send(writeDataHeader(f, range.offset));
      }
    };

    lane.onFrame((frame) => {
      if (done) return;
      try {
        const step = state.receive(frame);
        if (step.kind === 'failed')
          return finish(new BulkLaneError('peer-failed', `the receiver ended the lane: ${step.reason}`));
        if (step.kind === 'started') {
          clearTimeout(startTimer);
          startedAt = step.offset;
          if (state.complete) return finish();
          pump().catch((error: unknown) => finish(error as Error));
          return;
        }
        options.onAcked?.(step.offset);
        const w = wake;
        wake = null;
        w?.();
        if (state.complete) finish();
      } catch (error) {
        finish(error as Error);
      }
    });
  });
}
