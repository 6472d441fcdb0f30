// Core's BulkPlatform in Node: the receiver listens on its interface addresses (TcpPlatform.listen, one
// listener per lane, closed when the lane ends) and writes through the engine's open partial; the sender
// dials the hints and reads the file itself. Each side hashes what it moves (the file digest core checks),
// so the engine's thread never touches the bytes. The desktop main process runs the same pieces behind IPC.
import { TransferError, TransferErrorCode } from '../../../../core/src/transfer/errors.js';
import type {
  BulkPlatform,
  BulkReceiveRequest,
  BulkReceiveResult,
  BulkReceiving,
  BulkSendRequest,
  BulkSendResult,
} from '../../../../core/src/transfer/bulk-platform.js';
import { FileDigest, type DigestPoint, type Sha256StreamFactory } from '../../../../core/src/transfer/hash.js';
import type { FileSource, SourceFile } from '../../../../core/src/transfer/io.js';
import type { TcpPlatform } from '../../../../core/src/session/tcp-path.js';
import { NodeFileSource } from '../file-io.js';
import { nodeBlockHash } from '../hash.js';
import { connectLane, type BulkLane } from './lane.js';
import { BulkLaneServer } from './lane-server.js';
import { LaneCut, receiveOnLane } from './receive-file.js';
import { sendOnLane } from './send-file.js';

export interface NodeBulkOptions {
  tcp: TcpPlatform;
  /** Reads what the sender sends (default: files by absolute path). */
  source?: FileSource;
  blockHash?: Sha256StreamFactory;
  handshakeMs?: number;
  /** How long the receiver waits for the sender to dial (default 15 s). */
  expectMs?: number;
  /** How long the sender tries the hints (default 5 s). */
  connectMs?: number;
}

const REHASH_BYTES = 1024 * 1024;
/** The sender's digest states go to the engine about this often without a checkpointBytes. */
const DEFAULT_CHECKPOINT_BYTES = 8 * 1024 * 1024;

/** Brings `digest` to `to` with the bytes of `read` (the partial's or the source's own). */
async function hashUpTo(
  digest: FileDigest,
  to: number,
  read: (offset: number, length: number) => Promise<Uint8Array>,
): Promise<void> {
  while (digest.position < to) {
    const data = await read(digest.position, Math.min(REHASH_BYTES, to - digest.position));
    if (data.length === 0) throw new TransferError(TransferErrorCode.SourceChanged, 'the file became shorter');
    digest.update(data);
  }
  await digest.settled();
}

/**
 * The source read in order, every byte fed to the digest (the bytes before the first read included, from
 * the digest's point on). A read before the digest's position (a receiver starting earlier than the point
 * the engine gave) starts the digest again from byte 0. `digest` is the current one.
 */
function hashing(
  source: SourceFile,
  start: FileDigest,
  restart: () => Promise<FileDigest>,
): SourceFile & { finish(size: number): Promise<void>; readonly digest: FileDigest } {
  let chain: Promise<unknown> = Promise.resolve();
  let digest = start;
  const read = (offset: number, length: number) => source.read(offset, length);
  return {
    size: source.size,
    ...(source.mtime !== undefined ? { mtime: source.mtime } : {}),
    read,
    get digest() {
      return digest;
    },
    readFramed(offset: number, length: number, headroom: number): Promise<Uint8Array> {
      const turn = chain.then(async () => {
        if (digest.position > offset) digest = await restart();
        if (digest.position !== offset) await hashUpTo(digest, offset, read);
        const frame = await source.readFramed!(offset, length, headroom);
        digest.update(frame.subarray(headroom));
        return frame;
      });
      chain = turn.catch(() => {});
      return turn;
    },
    close: () => source.close(),
    async finish(size: number): Promise<void> {
      await chain;
      await hashUpTo(digest, size, read);
    },
  };
}

/** Calls `report` with the digest's block-boundary states about every `every` bytes. */
function reportBoundaries(digest: FileDigest, every: number, report: (point: DigestPoint) => void): void {
  let last = digest.position;
  digest.onBoundary = (point) => {
    if (point.offset - last < every) return;
    last = point.offset;
    report(point);
  };
}

export function nodeBulk(options: NodeBulkOptions): BulkPlatform {
  const blockHash = options.blockHash ?? nodeBlockHash;
  const files = options.source ?? new NodeFileSource();
  const laneOptions = options.handshakeMs !== undefined ? { handshakeMs: options.handshakeMs } : {};
  return {
    async receive(request: BulkReceiveRequest): Promise<BulkReceiving> {
      const { sink, size, from } = request;
      const digest = await FileDigest.create(request.digestFrom, blockHash);
      if (digest.position < from) {
        if (!sink.read) throw new Error('the partial cannot be read back to hash it');
        await hashUpTo(digest, from, (offset, length) => sink.read!(offset, length));
      }
      const server = new BulkLaneServer(await options.tcp.listen(), laneOptions);
      let lane: BulkLane | undefined;
      let cancelled = false;
      const expected = server.expect(request.key, 'receiver', options.expectMs);
      const done = (async (): Promise<BulkReceiveResult> => {
        let written = from;
        try {
          lane = await expected;
          if (cancelled) throw new Error('cancelled');
          written = await receiveOnLane(lane, sink, {
            size,
            from,
            digest,
            onWritten: request.onWritten,
            ...(request.onCheckpoint && request.checkpointBytes
              ? { onCheckpoint: request.onCheckpoint, checkpointBytes: request.checkpointBytes }
              : {}),
          });
          return { written, sha256: await digest.hex(), boundary: await digest.boundary() };
        } catch (error) {
          if (error instanceof LaneCut) written = error.written;
          return { written, sha256: null, boundary: await digest.boundary() };
        } finally {
          server.close();
          lane?.close();
        }
      })();
      return {
        hints: [...server.hints],
        done,
        cancel: () => {
          cancelled = true;
          server.close();
          lane?.close('cancelled');
        },
      };
    },

    async send(request: BulkSendRequest): Promise<BulkSendResult> {
      const source = await files.open(request.source);
      let lane: BulkLane | undefined;
      let reading: ReturnType<typeof hashing> | undefined;
      const abort = () => lane?.close('cancelled');
      request.signal?.addEventListener('abort', abort);
      try {
        const changed =
          source.size !== request.size ||
          (request.mtime !== undefined && source.mtime !== undefined && Math.abs(source.mtime - request.mtime) >= 1);
        if (changed) throw new TransferError(TransferErrorCode.SourceChanged, 'the file changed since it was offered');
        if (!source.readFramed) throw new Error('the source cannot read into frames');
        const socket = await options.tcp.connect(request.hints, options.connectMs ?? 5000);
        lane = await connectLane(socket, request.key, 'sender', laneOptions);
        if (request.signal?.aborted) lane.close('cancelled');
        const fresh = async (from?: DigestPoint) => {
          const digest = await FileDigest.create(from, blockHash);
          if (request.onCheckpoint)
            reportBoundaries(digest, request.checkpointBytes ?? DEFAULT_CHECKPOINT_BYTES, request.onCheckpoint);
          return digest;
        };
        reading = hashing(source, await fresh(request.digestFrom), () => fresh());
        const { from } = await sendOnLane(lane, reading, { size: request.size, onAcked: request.onAcked });
        await reading.finish(request.size);
        return { from, sha256: await reading.digest.hex() };
      } catch (error) {
        // Where the digest got to: the stream (or the next lane) goes on hashing from there.
        if (reading && request.onCheckpoint) {
          const point = await reading.digest.boundary().catch(() => null);
          if (point && point.offset > 0) request.onCheckpoint(point);
        }
        throw error;
      } finally {
        request.signal?.removeEventListener('abort', abort);
        lane?.close();
        await source.close().catch(() => {});
      }
    },
  };
}
