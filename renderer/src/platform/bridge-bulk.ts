// Core's BulkPlatform over the Electron bridge (ParleyBridge.bulk): the main process moves the file's bytes
// between disk and its lane; this side hands it the lane key and names the file — a download handle
// (bridge-sink.ts) to receive into, a token from main's own picker to send — and turns main's events into
// the engine's progress and outcome. File bytes never come here. Sources the user picked in the page
// (File objects) are not main's to read: they stay on the session stream (canSend).
import type { BridgeBulk, BridgeBulkEvent } from '../../../core/src/bridge.js';
import type {
  BulkPlatform,
  BulkReceiveResult,
  BulkReceiving,
  BulkSendResult,
} from '../../../core/src/transfer/bulk-platform.js';
import { TransferError, isTransferErrorCode } from '../../../core/src/transfer/errors.js';
import type { FileSource, SourceFile } from '../../../core/src/transfer/io.js';
import { bridgeSinkHandle } from './bridge-sink.js';

/** `source` strings of files picked in main's dialog: this prefix, then main's token. */
export const MAIN_SOURCE_PREFIX = 'main:';
/** Events of lanes not known yet (an event can overtake the reply that names the lane), at most. */
const MAX_EARLY_EVENTS = 64;
/** Bytes per read call: main refuses more than 1 MiB. */
const READ_BLOCK = 1024 * 1024;

interface Waiter {
  progress(offset: number): void;
  checkpoint?(point: { offset: number; state: Uint8Array }): void;
  settle(event: Exclude<BridgeBulkEvent, { kind: 'progress' | 'checkpoint' }>): void;
}

export function bridgeBulkPlatform(bulk: BridgeBulk): BulkPlatform {
  const waiting = new Map<string, Waiter>();
  const early = new Map<string, BridgeBulkEvent[]>();
  const deliver = (w: Waiter, event: BridgeBulkEvent): void => {
    if (event.kind === 'progress') return w.progress(event.offset);
    if (event.kind === 'checkpoint') return w.checkpoint?.(event.point);
    waiting.delete(event.lane);
    w.settle(event);
  };
  bulk.onEvent((event) => {
    const w = waiting.get(event.lane);
    if (w) return deliver(w, event);
    if (early.size >= MAX_EARLY_EVENTS && !early.has(event.lane)) return;
    early.set(event.lane, [...(early.get(event.lane) ?? []), event]);
  });
  const register = (lane: string, w: Waiter): void => {
    waiting.set(lane, w);
    const missed = early.get(lane) ?? [];
    early.delete(lane);
    for (const event of missed) if (waiting.get(lane) === w) deliver(w, event);
  };

  return {
    canSend: (source) => source.startsWith(MAIN_SOURCE_PREFIX),

    async receive(request): Promise<BulkReceiving> {
      const handle = bridgeSinkHandle(request.sink);
      if (!handle) throw new Error('this file is not written by the main process');
      const { lane, hints } = await bulk.receive({
        handle,
        key: request.key,
        size: request.size,
        from: request.from,
        digestFrom: { offset: request.digestFrom.offset, state: request.digestFrom.state },
        // Main flushes at most once a MiB.
        ...(request.onCheckpoint && request.checkpointBytes
          ? { checkpointBytes: Math.max(1024 * 1024, request.checkpointBytes) }
          : {}),
      });
      const done = new Promise<BulkReceiveResult>((resolve) =>
        register(lane, {
          progress: (offset) => request.onWritten(offset),
          checkpoint: (point) => request.onCheckpoint?.(point),
          settle: (event) =>
            resolve(
              event.kind === 'received'
                ? { written: event.written, sha256: event.sha256, boundary: event.boundary }
                : { written: request.from, sha256: null, boundary: request.digestFrom },
            ),
        }),
      );
      return { hints, done, cancel: () => void bulk.cancel(lane).catch(() => {}) };
    },

    async send(request): Promise<BulkSendResult> {
      if (!request.source.startsWith(MAIN_SOURCE_PREFIX)) throw new Error('not a file main can read');
      const { lane } = await bulk.send({
        token: request.source.slice(MAIN_SOURCE_PREFIX.length),
        key: request.key,
        hints: request.hints,
        size: request.size,
        ...(request.mtime !== undefined ? { mtime: request.mtime } : {}),
        ...(request.digestFrom ? { digestFrom: request.digestFrom } : {}),
        // Main sends a state at most once a MiB.
        ...(request.onCheckpoint
          ? { checkpointBytes: Math.max(1024 * 1024, request.checkpointBytes ?? 8 * 1024 * 1024) }
          : {}),
      });
      const abort = () => void bulk.cancel(lane).catch(() => {});
      request.signal?.addEventListener('abort', abort);
      if (request.signal?.aborted) abort();
      try {
        return await new Promise<BulkSendResult>((resolve, reject) =>
          register(lane, {
            progress: (offset) => request.onAcked(offset),
            checkpoint: (point) => request.onCheckpoint?.(point),
            settle: (event) => {
              if (event.kind === 'sent') resolve({ from: event.from, sha256: event.sha256 });
              else if (event.kind === 'failed' && event.code && isTransferErrorCode(event.code))
                reject(new TransferError(event.code, event.message));
              else reject(new Error(event.kind === 'failed' ? event.message : 'the lane failed'));
            },
          }),
        );
      } finally {
        request.signal?.removeEventListener('abort', abort);
      }
    },
  };
}

/**
 * The engine's FileSource for files picked in main's dialog (`main:<token>`), read through the bridge when
 * they go on the session stream (a peer without lanes, a lane that ended); any other source goes to `other`.
 */
export function withMainSources(bulk: BridgeBulk, other: FileSource): FileSource {
  return {
    async open(source: string): Promise<SourceFile> {
      if (!source.startsWith(MAIN_SOURCE_PREFIX)) return other.open(source);
      const token = source.slice(MAIN_SOURCE_PREFIX.length);
      const fail = (error: unknown) =>
        new TransferError('source-unreadable', `cannot read the file: ${(error as Error).message}`);
      const info = await bulk.sourceInfo(token).catch((error: unknown) => {
        throw fail(error);
      });
      return {
        size: info.size,
        mtime: info.mtime,
        async read(offset: number, length: number): Promise<Uint8Array> {
          const out = new Uint8Array(length);
          let got = 0;
          try {
            while (got < length) {
              const part = await bulk.readSource(token, offset + got, Math.min(READ_BLOCK, length - got));
              if (part.byteLength === 0) break;
              out.set(part, got);
              got += part.byteLength;
            }
          } catch (error) {
            throw fail(error);
          }
          return got === length ? out : out.subarray(0, got);
        },
        close: async () => {},
      };
    },
  };
}
