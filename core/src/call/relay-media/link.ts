// One call's media over the relay: a relay channel of its own with its own signed key agreement and
// AES-GCM counters (session/relay-transport.ts, reused as is: a replayed, reordered or forged record kills
// it), one message per encoded frame (frame.ts), the receiver's feedback every 100 ms and the congestion
// controller (congestion.ts) between the encoder and the channel (flow.ts). Media never goes through the
// session's reliable stream: its retransmission and resume would replay stale media.
// Where the pipeline can run the record layer itself (the browser's media worker), the link hands the
// channel's keys and counters over after the key agreement (RelayTransport.handOff) and only ferries sealed
// records between the relay channel and the pipeline: sealing, opening and the per-frame logic run beside the
// codecs and the window never sees media in plaintext. Otherwise (no such pipeline, a custom AEAD engine) all
// of it runs here.
import type { Logger } from '../../platform/types.js';
import { RelayChannelSocket } from '../../relay/channel.js';
import type { RecordSocket } from '../../session/transport.js';
import type { RelayTransport } from '../../session/relay-transport.js';
import { Emitter } from '../../util/emitter.js';
import type { StreamLike, TrackLike } from '../media-types.js';
import type { CongestionOptions } from './congestion.js';
import { MediaFlow, type MediaFlowCounters } from './flow.js';
import type { RelayMediaEngine, RelayMediaPipeline, RelayMediaStats } from './pipeline.js';

export { FEEDBACK_INTERVAL_MS } from './flow.js';

export interface RelayMediaLinkStats extends RelayMediaStats, Omit<MediaFlowCounters, 'stages'> {
  /** Where records are sealed and opened: here, or in the pipeline (the media worker); null: not yet decided. */
  recordLayer: 'window' | 'pipeline' | null;
}

interface LinkEvents {
  /** The link is gone (the channel closed, a record was refused, the pipeline failed). */
  closed: string;
  /** The peer's first frame of this kind decoded. */
  received: 'audio' | 'video';
}

export interface RelayMediaLinkOptions<S extends StreamLike> {
  transport: RelayTransport;
  engine: RelayMediaEngine<S>;
  tracks: ReadonlyArray<{ track: TrackLike; stream: StreamLike }>;
  logger: Logger;
  congestion?: CongestionOptions;
  now?: () => number;
  /** 'window': keep the record layer here even if the pipeline could run it (tests, comparisons). */
  recordLayer?: 'auto' | 'window';
}

const NO_COUNTERS: MediaFlowCounters = {
  bytesSent: 0,
  bytesReceived: 0,
  rttMs: null,
  bitrate: 0,
  inflightBytes: 0,
  droppedAfterEncode: 0,
  skippedBeforeEncode: 0,
  refused: 0,
  stages: {},
};

export class RelayMediaLink<S extends StreamLike = StreamLike> {
  readonly #o: RelayMediaLinkOptions<S>;
  readonly #transport: RelayTransport;
  readonly #pipeline: RelayMediaPipeline<S>;
  readonly #events = new Emitter<LinkEvents>();
  /** The per-frame logic when the record layer is here. */
  #flow: MediaFlow | null = null;
  /** The relay channel when the pipeline runs the record layer. */
  #socket: RecordSocket | null = null;
  #handingOff = false;
  /** Messages the transport opened while the record layer was being handed off. */
  #early: Uint8Array[] = [];
  #closed = false;
  /** The kinds of the peer's media that decoded here. */
  readonly #received = new Set<'audio' | 'video'>();
  readonly #offs: Array<() => void> = [];

  constructor(options: RelayMediaLinkOptions<S>) {
    this.#o = options;
    this.#transport = options.transport;
    this.#pipeline = options.engine.start({
      tracks: options.tracks,
      onFrame: (f) => this.#flow?.send(f),
      onKeyFrameNeeded: () => this.#flow?.requestKeyFrame(),
      onReceived: (kind) => {
        if (this.#closed || this.#received.has(kind)) return;
        this.#received.add(kind);
        this.#events.emit('received', kind);
      },
      onError: (message) => this.close(`media pipeline failed: ${message}`),
      onClosed: (reason) => this.close(reason),
      logger: options.logger,
    });
    this.#offs.push(
      this.#transport.onFrame((bytes) => {
        if (this.#flow) this.#flow.receive(bytes);
        else this.#early.push(bytes);
      }),
    );
    this.#offs.push(
      this.#transport.onClose((reason) => {
        if (!this.#handingOff) this.close(reason);
      }),
    );
    const handOff = typeof this.#transport.handOff === 'function';
    if (this.#pipeline.attachRecordLayer && options.recordLayer !== 'window' && handOff) void this.#handOff();
    else this.#startFlow();
  }

  get remoteStream(): S {
    return this.#pipeline.remoteStream;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The peer's media of this kind decoded here (the pipeline said so: onReceived). */
  received(kind: 'audio' | 'video'): boolean {
    return this.#received.has(kind);
  }

  get pipeline(): RelayMediaPipeline<S> {
    return this.#pipeline;
  }

  on<K extends keyof LinkEvents>(event: K, listener: (value: LinkEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  stats(): RelayMediaLinkStats {
    const pipeline = this.#pipeline.stats();
    const { link, ...media } = pipeline;
    const counters = this.#flow?.counters() ?? link ?? NO_COUNTERS;
    const { stages, ...rest } = counters;
    return {
      ...media,
      ...rest,
      stages: { ...media.stages, ...stages },
      recordLayer: this.#flow ? 'window' : this.#socket ? 'pipeline' : null,
    };
  }

  close(reason = 'closed'): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#flow?.stop();
    for (const off of this.#offs) off();
    this.#pipeline.close();
    this.#socket?.close();
    this.#transport.close(reason);
    this.#events.emit('closed', reason);
    this.#events.removeAll();
  }

  #startFlow(): void {
    const flow = new MediaFlow({
      sink: this.#pipeline,
      send: (bytes) => this.#transport.send(bytes),
      onFail: (reason) => this.close(reason),
      logger: this.#o.logger,
      ...(this.#o.congestion ? { congestion: this.#o.congestion } : {}),
      ...(this.#o.now ? { now: this.#o.now } : {}),
    });
    this.#flow = flow;
    for (const m of this.#early.splice(0)) flow.receive(m);
  }

  /** Gives the record layer to the pipeline; the link then ferries sealed records. */
  async #handOff(): Promise<void> {
    this.#handingOff = true;
    const h = await this.#transport.handOff();
    this.#handingOff = false;
    if (this.#closed) {
      h?.release();
      h?.socket.close();
      return;
    }
    if (!h) {
      // Not possible after all (a custom AEAD engine, or the transport closed meanwhile).
      if (this.#transport.closed) this.close(this.#transport.closeReason);
      else this.#startFlow();
      return;
    }
    h.release();
    const socket = h.socket;
    this.#socket = socket;
    if (h.closedWith !== null) {
      this.close(`relay channel closed: ${h.closedWith}`);
      return;
    }
    // A relay channel's peer and tag let the platform route its records off the window (the media lane).
    const route = socket instanceof RelayChannelSocket ? { peer: socket.peer, tag: socket.tag } : undefined;
    const receive = this.#pipeline.attachRecordLayer!(
      { channel: h.channel, early: this.#early.splice(0), ...(route ? { route } : {}) },
      (sealed) => {
        if (this.#closed) return;
        try {
          socket.sendFramed(sealed);
        } catch (error) {
          this.close(`relay media send failed: ${(error as Error).message}`);
        }
      },
    );
    for (const m of h.pending) receive(m);
    this.#offs.push(socket.onFrame((m) => receive(m)));
    this.#offs.push(socket.onClose((reason) => this.close(`relay channel closed: ${reason}`)));
  }
}
