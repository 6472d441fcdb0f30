// A call's relay media record layer where the media is (the media worker), so encoded frames never cross to
// the window in plaintext: the relay channel's secure channel, handed off after its key agreement
// (RelayTransport.handOff), goes on here with the same keys and counters, one sealed record per frame in the
// relay transport's record format (crypto/record.ts). The peer cannot tell it from a RelayTransport: old
// and new clients interoperate. The window only ferries the sealed bytes between this and the relay channel.
// A replayed, reordered, modified or malformed record closes it, as it closes a RelayTransport.
import { CHANNEL_HEADER_BYTES } from '../../../../signaling/protocol/index.js';
import { resumeAeadChannel, type ChannelHandOff, type SecureChannel } from '../../crypto/aead-channel.js';
import type { AeadEngine } from '../../crypto/aead-engine.js';
import { MAX_RECORD_FRAME, packRecord, packedSize, RECORD_TYPE_BYTES, unpackRecord } from '../../crypto/record.js';
import type { Logger } from '../../platform/types.js';
import { REFUSED_RECORD } from '../../session/relay-transport.js';
import type { CongestionOptions } from './congestion.js';
import { MediaFlow, type MediaFlowSink } from './flow.js';
import type { RecordLayerHandOff } from './pipeline.js';

export interface MediaRecordLayerOptions {
  channel: ChannelHandOff;
  /** A sealed record for the relay channel: its first CHANNEL_HEADER_BYTES are room for the channel header. */
  write(sealed: Uint8Array): void;
  /** A plaintext message the peer sent, in order. */
  onMessage(message: Uint8Array): void;
  /** Once: the layer refused a record or failed to seal (it sends and delivers nothing after). */
  onClose(reason: string): void;
  aead?: AeadEngine;
}

export class MediaRecordLayer {
  readonly #o: MediaRecordLayerOptions;
  readonly #channel: SecureChannel;
  #sendChain: Promise<void> = Promise.resolve();
  #openChain: Promise<void> = Promise.resolve();
  #closed = false;
  recordsSent = 0;
  recordsReceived = 0;

  constructor(options: MediaRecordLayerOptions) {
    this.#o = options;
    this.#channel = resumeAeadChannel(options.channel, options.aead);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Seals `message` as a record of its own; records go out in send() order. */
  send(message: Uint8Array): void {
    if (this.#closed) throw new Error('relay media record layer closed');
    if (message.length > MAX_RECORD_FRAME)
      throw new Error(`cannot send a frame of ${message.length} bytes over the relay (at most ${MAX_RECORD_FRAME})`);
    const record = packRecord([message], 0, 1, RECORD_TYPE_BYTES + packedSize(message.length));
    // The counter is claimed now, so records are numbered in send order; the chain keeps them in it.
    const sealed = this.#channel.seal(record, CHANNEL_HEADER_BYTES);
    sealed.catch(() => {}); // handled in turn below
    this.#sendChain = this.#sendChain.then(async () => {
      let bytes: Uint8Array;
      try {
        bytes = await sealed;
      } catch (error) {
        this.close(`cannot seal: ${(error as Error).message}`);
        return;
      }
      if (this.#closed) return;
      this.recordsSent++;
      try {
        this.#o.write(bytes);
      } catch (error) {
        this.close(`relay send failed: ${(error as Error).message}`);
      }
    });
  }

  /** A sealed record from the relay channel, in arrival order. */
  receive(sealed: Uint8Array): void {
    if (this.#closed) return;
    // open() claims the counter now, in arrival order; decryption overlaps, delivery follows the chain.
    const opened = this.#channel.open(sealed);
    opened.catch(() => {});
    this.#openChain = this.#openChain.then(async () => {
      let plain: Uint8Array;
      try {
        plain = await opened;
      } catch (error) {
        this.close(`${REFUSED_RECORD}: ${(error as Error).message}`);
        return;
      }
      if (this.#closed) return;
      let messages: Uint8Array[];
      try {
        messages = unpackRecord(plain);
      } catch (error) {
        this.close(`refused a malformed relay record: ${(error as Error).message}`);
        return;
      }
      this.recordsReceived++;
      for (const m of messages) {
        if (this.#closed) return;
        this.#o.onMessage(m);
      }
    });
  }

  close(reason = 'closed'): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#o.onClose(reason);
  }

  /** Closes without onClose (its owner is the one closing). */
  closeQuietly(): void {
    this.#closed = true;
  }
}

export interface PipelineLinkOptions {
  handOff: RecordLayerHandOff;
  /** Sealed records for the relay channel (CHANNEL_HEADER_BYTES of room first). */
  write(sealed: Uint8Array): void;
  /** The codecs: validated frames to decode, the congestion controller's decisions, key frame requests. */
  sink: MediaFlowSink;
  /** Once, when the link ends here (a refused record, a failed seal, a peer sending garbage). */
  onClose(reason: string): void;
  logger: Logger;
  congestion?: CongestionOptions;
  now?: () => number;
}

/**
 * What a pipeline runs for RelayMediaPipeline.attachRecordLayer: the record layer and the per-frame logic
 * (flow.ts) together, beside the codecs. `receive` takes the relay channel's sealed records.
 */
export class PipelineLink {
  readonly flow: MediaFlow;
  readonly layer: MediaRecordLayer;

  constructor(o: PipelineLinkOptions) {
    let flow: MediaFlow | null = null;
    this.layer = new MediaRecordLayer({
      channel: o.handOff.channel,
      write: o.write,
      onMessage: (m) => flow?.receive(m),
      onClose: (reason) => {
        flow?.stop();
        o.onClose(reason);
      },
    });
    flow = new MediaFlow({
      sink: o.sink,
      send: (m) => this.layer.send(m),
      onFail: (reason) => this.layer.close(reason),
      logger: o.logger,
      ...(o.congestion ? { congestion: o.congestion } : {}),
      ...(o.now ? { now: o.now } : {}),
    });
    this.flow = flow;
    for (const m of o.handOff.early) flow.receive(m);
  }

  receive(sealed: Uint8Array): void {
    this.layer.receive(sealed);
  }

  /** Ends it here without telling onClose (the owner is closing). */
  stop(): void {
    this.flow.stop();
    if (!this.layer.closed) this.layer.closeQuietly();
  }
}
