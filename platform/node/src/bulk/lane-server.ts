// The accepting side of bulk lanes: one TCP listener (TcpPlatform.listen: interface addresses only,
// ephemeral port) serving the lanes this side was told to expect, each named by its tag. A connection that
// does not complete the key confirmation for an expected lane within the deadline is dropped; handshakes in
// flight and lanes expected at once are bounded; an expectation that nobody meets in time fails.
import type { TcpHint, TcpListener } from '../../../../core/src/session/tcp-path.js';
import type { RecordSocket } from '../../../../core/src/session/transport.js';
import { BulkLaneError } from '../../../../core/src/transfer/bulk-frame.js';
import { laneTag, type LaneRole } from '../../../../core/src/transfer/bulk-key.js';
import { acceptLane, type BulkLane, type LaneOptions } from './lane.js';

export const DEFAULT_MAX_PENDING_HANDSHAKES = 8;
export const DEFAULT_MAX_EXPECTED_LANES = 16;
export const DEFAULT_EXPECT_MS = 15_000;

export interface LaneServerOptions extends LaneOptions {
  maxPendingHandshakes?: number;
  maxExpectedLanes?: number;
}

interface Expected {
  key: Uint8Array;
  role: LaneRole;
  resolve: (lane: BulkLane) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
  claimed: boolean;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export class BulkLaneServer {
  readonly #listener: TcpListener;
  readonly #options: LaneServerOptions;
  readonly #expected = new Map<string, Expected>();
  readonly #handshaking = new Set<RecordSocket>();
  #closed = false;
  /** Connections refused or dropped (limit, unknown lane, wrong key, deadline): for tests and logs. */
  refused = 0;

  constructor(listener: TcpListener, options: LaneServerOptions = {}) {
    this.#listener = listener;
    this.#options = options;
    listener.onConnection((socket) => this.#onConnection(socket));
  }

  /** Where connectors dial (what this side tells the peer, inside the session). */
  get hints(): readonly TcpHint[] {
    return this.#listener.hints;
  }

  get expectedCount(): number {
    return this.#expected.size;
  }

  /**
   * Waits for the peer to open the lane for `key`, this side playing `role` for the file. Rejects after
   * `timeoutMs` with nobody through, when the server closes, or past the limit of lanes expected at once.
   */
  async expect(key: Uint8Array, role: LaneRole, timeoutMs = DEFAULT_EXPECT_MS): Promise<BulkLane> {
    if (this.#closed) throw new BulkLaneError('closed', 'the lane server is closed');
    if (this.#expected.size >= (this.#options.maxExpectedLanes ?? DEFAULT_MAX_EXPECTED_LANES))
      throw new BulkLaneError('limit', 'too many lanes expected at once');
    const tag = hex(await laneTag(key));
    if (this.#closed) throw new BulkLaneError('closed', 'the lane server is closed');
    if (this.#expected.has(tag)) throw new BulkLaneError('limit', 'that lane is expected already');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#expected.delete(tag);
        reject(new BulkLaneError('timeout', `nobody opened the lane within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#expected.set(tag, { key, role, resolve, reject, timer, claimed: false });
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener.close();
    for (const socket of this.#handshaking) socket.close();
    for (const e of this.#expected.values()) {
      clearTimeout(e.timer);
      e.reject(new BulkLaneError('closed', 'the lane server closed'));
    }
    this.#expected.clear();
  }

  #onConnection(socket: RecordSocket): void {
    if (
      this.#closed ||
      this.#handshaking.size >= (this.#options.maxPendingHandshakes ?? DEFAULT_MAX_PENDING_HANDSHAKES)
    ) {
      this.refused += 1;
      socket.close();
      return;
    }
    this.#handshaking.add(socket);
    let tag = '';
    let claimedHere = false;
    acceptLane(
      socket,
      (t) => {
        tag = hex(t);
        const e = this.#expected.get(tag);
        // One connection at a time proves a lane: a second connector waits for the first to fail.
        if (!e || e.claimed) return undefined;
        e.claimed = true;
        claimedHere = true;
        return { key: e.key, role: e.role };
      },
      this.#options,
    ).then(
      (lane) => {
        this.#handshaking.delete(socket);
        const e = this.#expected.get(tag);
        if (!e || this.#closed) return lane.close('not expected any more');
        clearTimeout(e.timer);
        this.#expected.delete(tag);
        e.resolve(lane);
      },
      () => {
        this.#handshaking.delete(socket);
        this.refused += 1;
        const e = this.#expected.get(tag);
        if (e && claimedHere) e.claimed = false;
      },
    );
  }
}
