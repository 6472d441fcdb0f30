// The record layer of the secure channel: AES-256-GCM frames with explicit counters.
//   frame = counter (8 bytes, big-endian) || ciphertext || tag (16 bytes)
//   nonce = direction prefix (4 bytes, from HKDF) || counter (8 bytes)
//   AAD   = encodeFields(label, [sessionId]) || counter
// Keys are per direction and per epoch of 2^20 frames (each derived once with HKDF from the
// direction's base secret), which keeps every AES-GCM key under about 2^34 blocks (the TLS 1.3
// limit) even for endless file transfers, without a new handshake.
import type { Bytes } from '../../../signaling/protocol/index.js';
import { webCryptoAead, type AeadEngine, type AeadKey } from './aead-engine.js';
import { bufferBacked, concatBytes } from '../util/bytes.js';
import { encodeFields } from './encoding.js';
import { CryptoError } from './errors.js';

export const MAX_PLAINTEXT = 256 * 1024;
export const COUNTER_BYTES = 8;
export const TAG_BYTES = 16;
export const NONCE_PREFIX_BYTES = 4;
/** Frames per derived AES key. */
export const EPOCH_FRAMES = 2 ** 20;
/** The last usable counter; JS numbers are exact up to here. */
export const MAX_COUNTER = Number.MAX_SAFE_INTEGER;
/** Largest frame open() accepts. */
export const MAX_FRAME = COUNTER_BYTES + MAX_PLAINTEXT + TAG_BYTES;

const FRAME_LABEL = 'parley-secure-channel/v1 frame';
const EPOCH_LABEL = 'parley-secure-channel/v1 epoch';

export interface SecureChannel {
  /**
   * Encrypts one message (≤ 256 KiB). Frames must be delivered in the order seal() was called.
   * With `headroom`, the result starts with that many zero bytes before the frame (room for a transport
   * header, so the frame is not copied again to prepend one). The plaintext is read after seal() returns:
   * do not change it until the promise settles.
   */
  seal(plaintext: Uint8Array, headroom?: number): Promise<Bytes>;
  /**
   * Like seal(), as pieces whose concatenation is the frame seal() gives ([counter, ciphertext, tag] when the
   * engine has encryptParts, else [frame]): for a socket that gather-writes them. Same counter rules.
   */
  sealParts?(plaintext: Uint8Array): Promise<Bytes[]>;
  /** Decrypts one frame; rejects replays and reordering (counter must increase) and any tampering. */
  open(sealed: Uint8Array): Promise<Bytes>;
  /**
   * Optional: gives the channel's state away (to go on in a worker: resumeAeadChannel); this channel then
   * refuses every seal and open. Call it when no seal or open is in flight.
   */
  handOff?(): Promise<ChannelHandOff>;
  readonly sessionId: string;
}

/**
 * A channel's state, structured-cloneable (the base secrets are non-extractable HKDF CryptoKeys, which a
 * worker can use but nobody can read): the same keys, nonces and counters go on elsewhere.
 */
export interface ChannelHandOff {
  sessionId: string;
  send: { base: CryptoKey; noncePrefix: Bytes };
  receive: { base: CryptoKey; noncePrefix: Bytes };
  nextSend: number;
  lastReceived: number;
}

/** One direction's secrets: a 32-byte HKDF base secret and a 4-byte nonce prefix. */
export interface DirectionSecret {
  base: Bytes;
  noncePrefix: Bytes;
}

function writeCounter(into: Uint8Array, at: number, counter: number): void {
  const view = new DataView(into.buffer, into.byteOffset, into.byteLength);
  view.setUint32(at, Math.floor(counter / 0x1_0000_0000), false);
  view.setUint32(at + 4, counter >>> 0, false);
}

function readCounter(from: Uint8Array): number {
  const view = new DataView(from.buffer, from.byteOffset, from.byteLength);
  const hi = view.getUint32(0, false);
  const lo = view.getUint32(4, false);
  // Above 2^53 - 1 the number would be inexact; such a counter is never sent.
  if (hi > 0x1f_ffff) return Number.POSITIVE_INFINITY;
  return hi * 0x1_0000_0000 + lo;
}

/** Derives AES-GCM keys for one direction, one per epoch, keeping only the current one. */
class DirectionKeys {
  readonly noncePrefix: Bytes;
  readonly base: Promise<CryptoKey>;
  private epoch = -1;
  private key: Promise<AeadKey> | undefined;

  constructor(
    secret: DirectionSecret | { base: CryptoKey; noncePrefix: Bytes },
    private readonly engine: AeadEngine,
  ) {
    if (
      secret.noncePrefix.length !== NONCE_PREFIX_BYTES ||
      (secret.base instanceof Uint8Array && secret.base.length !== 32)
    ) {
      throw new CryptoError('invalid-input', 'A channel direction needs a 32-byte secret and a 4-byte nonce prefix.');
    }
    this.noncePrefix = secret.noncePrefix.slice();
    this.base =
      secret.base instanceof Uint8Array
        ? crypto.subtle.importKey('raw', secret.base, 'HKDF', false, ['deriveBits'])
        : Promise.resolve(secret.base);
  }

  /** Counters only grow on each side, so the epoch never goes back and one cached key suffices. */
  keyFor(counter: number): Promise<AeadKey> {
    const epoch = Math.floor(counter / EPOCH_FRAMES);
    if (epoch !== this.epoch || this.key === undefined) {
      this.epoch = epoch;
      const info = new Uint8Array(COUNTER_BYTES);
      writeCounter(info, 0, epoch);
      // HKDF bits imported as the AES key: the same key deriveKey(AES-GCM) gives, usable by any engine.
      this.key = this.base.then(async (base) => {
        const raw = new Uint8Array(
          await crypto.subtle.deriveBits(
            { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: encodeFields(EPOCH_LABEL, [info]) },
            base,
            256,
          ),
        );
        try {
          return await this.engine.importKey(raw);
        } finally {
          raw.fill(0); // engines keep their own copy
        }
      });
    }
    return this.key;
  }
}

export interface AeadChannelOptions {
  sessionId: string;
  send: DirectionSecret | ChannelHandOff['send'];
  receive: DirectionSecret | ChannelHandOff['receive'];
  /** First send counter (tests of counter exhaustion); default 0. */
  firstCounter?: number;
  /** AES-GCM implementation; default WebCrypto. */
  engine?: AeadEngine;
}

class AeadChannel implements SecureChannel {
  readonly sessionId: string;
  private readonly sendKeys: DirectionKeys;
  private readonly receiveKeys: DirectionKeys;
  private readonly aadPrefix: Bytes;
  private readonly engine: AeadEngine;
  private nextSend: number;
  private lastReceived: number;
  private failed = false;
  private handedOff = false;

  constructor(options: AeadChannelOptions & { lastReceived?: number }) {
    this.sessionId = options.sessionId;
    this.engine = options.engine ?? webCryptoAead;
    this.sendKeys = new DirectionKeys(options.send, this.engine);
    this.receiveKeys = new DirectionKeys(options.receive, this.engine);
    this.aadPrefix = encodeFields(FRAME_LABEL, [options.sessionId]);
    this.nextSend = options.firstCounter ?? 0;
    this.lastReceived = options.lastReceived ?? -1;
  }

  async handOff(): Promise<ChannelHandOff> {
    if (this.handedOff || this.failed) throw new CryptoError('channel-failed', 'The channel cannot be handed off.');
    // From now on nothing is sealed or opened here: the counters go on where the state goes.
    this.handedOff = true;
    const [sendBase, receiveBase] = await Promise.all([this.sendKeys.base, this.receiveKeys.base]);
    return {
      sessionId: this.sessionId,
      send: { base: sendBase, noncePrefix: this.sendKeys.noncePrefix.slice() },
      receive: { base: receiveBase, noncePrefix: this.receiveKeys.noncePrefix.slice() },
      nextSend: this.nextSend,
      lastReceived: this.lastReceived,
    };
  }

  async sealParts(plaintext: Uint8Array): Promise<Bytes[]> {
    const parts = this.engine.encryptParts?.bind(this.engine);
    if (!parts) return [await this.seal(plaintext)];
    const counter = this.#claimCounter(plaintext, 0);
    const header = new Uint8Array(COUNTER_BYTES);
    writeCounter(header, 0, counter);
    const key = await this.sendKeys.keyFor(counter);
    const nonce = concatBytes([this.sendKeys.noncePrefix, header]);
    const { body, tag } = parts(key, nonce, concatBytes([this.aadPrefix, header]), bufferBacked(plaintext));
    return [header, body, tag];
  }

  /** Checks a plaintext and takes the next send counter (synchronously, so counters follow call order). */
  #claimCounter(plaintext: Uint8Array, headroom: number): number {
    if (this.handedOff) throw new CryptoError('channel-failed', 'The channel was handed off.');
    if (!(plaintext instanceof Uint8Array)) throw new CryptoError('invalid-input', 'seal() takes a Uint8Array.');
    if (!Number.isSafeInteger(headroom) || headroom < 0 || headroom > 64)
      throw new CryptoError('invalid-input', 'headroom must be an integer from 0 to 64.');
    if (plaintext.length > MAX_PLAINTEXT)
      throw new CryptoError('too-large', `A frame carries at most ${MAX_PLAINTEXT} bytes (got ${plaintext.length}).`);
    if (this.nextSend > MAX_COUNTER)
      throw new CryptoError(
        'counter-exhausted',
        'The channel has sent its maximum number of frames; make a new handshake.',
      );
    return this.nextSend++;
  }

  async seal(plaintext: Uint8Array, headroom = 0): Promise<Bytes> {
    // Taken synchronously so concurrent seal() calls get increasing counters in call order.
    const counter = this.#claimCounter(plaintext, headroom);
    const header = new Uint8Array(COUNTER_BYTES);
    writeCounter(header, 0, counter);
    const key = await this.sendKeys.keyFor(counter);
    const nonce = concatBytes([this.sendKeys.noncePrefix, header]);
    const frame = await this.engine.encrypt(
      key,
      nonce,
      concatBytes([this.aadPrefix, header]),
      bufferBacked(plaintext),
      headroom + COUNTER_BYTES,
    );
    frame.set(header, headroom);
    return frame;
  }

  async open(sealed: Uint8Array): Promise<Bytes> {
    if (this.handedOff) throw new CryptoError('channel-failed', 'The channel was handed off.');
    if (this.failed)
      throw new CryptoError(
        'channel-failed',
        'The channel was closed after a frame failed authentication; make a new handshake.',
      );
    if (!(sealed instanceof Uint8Array)) throw new CryptoError('invalid-input', 'open() takes a Uint8Array.');
    if (sealed.length < COUNTER_BYTES + TAG_BYTES)
      throw new CryptoError(
        'bad-frame',
        `A frame is at least ${COUNTER_BYTES + TAG_BYTES} bytes (got ${sealed.length}).`,
      );
    if (sealed.length > MAX_FRAME)
      throw new CryptoError('bad-frame', `A frame is at most ${MAX_FRAME} bytes (got ${sealed.length}).`);
    const counter = readCounter(sealed);
    if (counter > MAX_COUNTER) throw new CryptoError('bad-frame', 'The frame counter is out of range.');
    if (counter <= this.lastReceived) {
      throw new CryptoError(
        'replay',
        `replay: frame ${counter} is not after the last accepted frame ${this.lastReceived}.`,
      );
    }
    // Claimed before the await so overlapping open() calls cannot both accept one counter.
    // A forged frame that claims a counter fails below and closes the channel, so nothing is lost by this.
    this.lastReceived = counter;
    const data = bufferBacked(sealed);
    const header = data.subarray(0, COUNTER_BYTES);
    try {
      const key = await this.receiveKeys.keyFor(counter);
      return await this.engine.decrypt(
        key,
        concatBytes([this.receiveKeys.noncePrefix, header]),
        concatBytes([this.aadPrefix, header]),
        data.subarray(COUNTER_BYTES),
      );
    } catch (error) {
      this.failed = true;
      throw new CryptoError(
        'authentication-failed',
        'authentication failed: the frame was modified in transit or sealed with another key.',
        { cause: error },
      );
    }
  }
}

/** Builds a channel from already-agreed direction secrets (the handshake in secure-channel.ts does this). */
export function createAeadChannel(options: AeadChannelOptions): SecureChannel {
  return new AeadChannel(options);
}

/** Goes on with a channel another thread handed off (SecureChannel.handOff): same keys and counters. */
export function resumeAeadChannel(state: ChannelHandOff, engine?: AeadEngine): SecureChannel {
  return new AeadChannel({
    sessionId: state.sessionId,
    send: state.send,
    receive: state.receive,
    firstCounter: state.nextSend,
    lastReceived: state.lastReceived,
    ...(engine ? { engine } : {}),
  });
}
