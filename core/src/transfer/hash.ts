// File digests. Sha256 is plain streaming SHA-256 with a resumable midstate (hash-wasm: WebAssembly,
// same code in Node and browsers); it hashes small things (unconfirmed tails, ranges) and folds block
// digests. FileDigest is the digest both ends of a transfer compare (see its comment); HashTrail is
// the sender's FileDigest with states remembered at block boundaries, to restart from any offset.
import { createSHA256, type IHasher } from 'hash-wasm';
import { fromBase64url, toBase64url, type Bytes } from '../../../signaling/protocol/index.js';
import { utf8 } from '../util/bytes.js';

export class Sha256 {
  private constructor(private readonly hasher: IHasher) {}

  static async create(): Promise<Sha256> {
    const hasher = await createSHA256();
    hasher.init();
    return new Sha256(hasher);
  }

  reset(): void {
    this.hasher.init();
  }

  update(data: Uint8Array): void {
    this.hasher.update(data);
  }

  save(): Uint8Array {
    return this.hasher.save();
  }

  /** Throws when the state was not produced by this hash-wasm build. */
  load(state: Uint8Array): void {
    this.hasher.load(state);
  }

  /** Hex digest of everything so far, leaving the running state untouched (so hashing can continue). */
  peekHex(): string {
    const state = this.hasher.save();
    const hex = this.hasher.digest('hex');
    this.hasher.load(state);
    return hex;
  }
}

export function encodeHashState(state: Uint8Array): string {
  return toBase64url(state);
}

export function decodeHashState(text: string): Uint8Array {
  return fromBase64url(text);
}

/** Hex SHA-256 of bytes, for small data (tails, tests). */
export async function sha256Hex(data: Uint8Array): Promise<string> {
  const hash = await Sha256.create();
  hash.update(data);
  return hash.peekHex();
}

/** Names the digest scheme in persisted states, so a state from another scheme is never loaded. */
export const FILE_DIGEST_SCHEME = 'sha256-1mib-blocks';
/** Bytes per block. Blocks sit at fixed offsets (0, BLOCK, 2·BLOCK, …), whoever cuts the chunks. */
export const DIGEST_BLOCK_BYTES = 1024 * 1024;
const LABEL = utf8('parley file digest: SHA-256 over SHA-256 of 1 MiB blocks, v1\n');
/** Blocks handed to WebCrypto and not yet folded, at most, before callers should await settled(). */
export const MAX_DIGEST_BACKLOG = 8;

/**
 * A platform's native incremental SHA-256 (Node: node:crypto createHash), synchronous. With one, FileDigest
 * feeds each block's bytes to it as they arrive: no 1 MiB block copy and no WebCrypto job per block.
 */
export interface Sha256Stream {
  update(data: Uint8Array): void;
  /** The digest of everything so far; the stream is not used afterwards. */
  digest(): Uint8Array;
  /** An independent stream with the same state (to digest a partial block and keep going). */
  copy(): Sha256Stream;
}
/** Makes a fresh Sha256Stream: what a runtime passes to the transfer engine as `blockHash`. */
export type Sha256StreamFactory = () => Sha256Stream;

/**
 * SHA-256 of the bytes [offset, offset + length) of the file being hashed, computed by whoever stores
 * them (a sink's hashRange: the browser's storage worker reads back what it wrote and hashes it there).
 * FileDigest then only counts the bytes it is given and asks for each block's hash once the block is
 * complete: no copy and no WebCrypto job on the caller's thread.
 */
export type RangeHash = (offset: number, length: number) => Promise<Uint8Array>;

/** A FileDigest state at a block boundary: what a checkpoint persists (the folding hash's midstate). */
export interface DigestPoint {
  offset: number;
  state: Uint8Array;
}

/**
 * The file digest a transfer verifies: SHA-256(LABEL ‖ SHA-256(block 0) ‖ SHA-256(block 1) ‖ …) over
 * 1 MiB blocks, the last one possibly shorter (none for an empty file). Each block is hashed by
 * WebCrypto (native SHA-256, using the CPU's SHA instructions, off the JavaScript thread in Node and
 * in browsers): about five times less CPU than hashing every byte in WebAssembly, which was a third of
 * each side's main-thread time in a transfer. Only the small folding hash runs in WebAssembly, and its
 * 116-byte midstate at a block boundary is all a checkpoint needs to resume without re-reading.
 *
 * update() is synchronous; blocks are folded in order as WebCrypto answers. Callers keep the backlog
 * bounded with settled() (see MAX_DIGEST_BACKLOG). A runtime with a native incremental SHA-256 (Node)
 * passes it instead: each block is hashed in place as its bytes arrive and folded at once (no 1 MiB copy
 * per block, no backlog), the same digest.
 */
export class FileDigest {
  #position: number;
  #folded: number;
  #block: Bytes | null = null;
  /** Block hashes from the bytes' store (see RangeHash), instead of #block; replaced by useRange(). */
  #range: RangeHash | undefined;
  /** The current block's native hash (with a Sha256StreamFactory), instead of #block. */
  #stream: Sha256Stream | null = null;
  #fill = 0;
  #chain: Promise<void> = Promise.resolve();
  #backlog = 0;
  #failed: Error | null = null;
  readonly #wanted = new Map<number, Array<(point: DigestPoint) => void>>();
  /** Called with the state at each block boundary as it is folded (the sender's trail keeps them). */
  onBoundary: ((point: DigestPoint) => void) | null = null;

  private constructor(
    private readonly outer: Sha256,
    offset: number,
    private readonly native: Sha256StreamFactory | undefined,
    range: RangeHash | undefined,
  ) {
    this.#position = offset;
    this.#folded = offset;
    this.#range = native ? undefined : range;
  }

  /**
   * A digest at offset 0, or continuing from a boundary point. Throws for a point not on a block boundary.
   * With `native`, blocks are hashed synchronously by it; else with `range`, by the bytes' store (the
   * bytes given to update() must then be stored there first); otherwise by WebCrypto.
   */
  static async create(from?: DigestPoint, native?: Sha256StreamFactory, range?: RangeHash): Promise<FileDigest> {
    const outer = await Sha256.create();
    if (!from) {
      outer.update(LABEL);
      return new FileDigest(outer, 0, native, range);
    }
    if (from.offset % DIGEST_BLOCK_BYTES !== 0)
      throw new RangeError(`digest point ${from.offset} is not on a block boundary`);
    outer.load(from.state);
    return new FileDigest(outer, from.offset, native, range);
  }

  /**
   * The store to ask from now on (the same file opened again). Only a digest made with a RangeHash
   * takes one: the others hold the current block's bytes themselves.
   */
  useRange(range: RangeHash | undefined): void {
    if (this.#range && range) this.#range = range;
  }

  /** The point at offset 0. */
  static async origin(): Promise<DigestPoint> {
    const digest = await FileDigest.create();
    return { offset: 0, state: digest.outer.save() };
  }

  /** Bytes consumed so far (as an absolute file offset). */
  get position(): number {
    return this.#position;
  }

  /** Blocks handed to WebCrypto and not folded yet. */
  get backlog(): number {
    return this.#backlog;
  }

  update(data: Uint8Array): void {
    let at = 0;
    const native = this.native;
    while (at < data.length) {
      const n = Math.min(DIGEST_BLOCK_BYTES - this.#fill, data.length - at);
      if (native) {
        (this.#stream ??= native()).update(at === 0 && n === data.length ? data : data.subarray(at, at + n));
      } else if (this.#range) {
        // The store has these bytes: nothing to keep here.
      } else {
        // One buffer for every block: WebCrypto copies its input when digest() is called (Chromium and
        // Node alike), so it is free again at once. A fresh 1 MiB per block cost its allocation and page
        // faults on the main thread (bench:e2e's profile: as much as the copy itself).
        this.#block ??= new Uint8Array(DIGEST_BLOCK_BYTES);
        this.#block.set(data.subarray(at, at + n), this.#fill);
      }
      this.#fill += n;
      this.#position += n;
      at += n;
      if (this.#fill === DIGEST_BLOCK_BYTES) {
        if (this.#stream) {
          const digest = this.#stream.digest();
          this.#stream = null;
          this.#fold(digest, this.#position);
        } else if (this.#range) {
          this.#submit(this.#range(this.#position - DIGEST_BLOCK_BYTES, DIGEST_BLOCK_BYTES), this.#position);
        } else {
          this.#submit(blockDigest(this.#block!), this.#position);
        }
        this.#fill = 0;
      }
    }
  }

  /** Resolves once every full block so far is folded; rejects if WebCrypto failed. */
  async settled(): Promise<void> {
    await this.#chain;
    if (this.#failed) throw this.#failed;
  }

  /**
   * The state at the last block boundary at or before the current position, once folded. It is taken
   * now: later updates do not move it.
   */
  boundary(): Promise<DigestPoint> {
    const offset = this.#position - this.#fill;
    if (offset === this.#folded) return Promise.resolve({ offset, state: this.outer.save() });
    return new Promise((resolve, reject) => {
      const list = this.#wanted.get(offset) ?? [];
      list.push(resolve);
      this.#wanted.set(offset, list);
      this.#chain.then(() => this.#failed && reject(this.#failed), reject);
    });
  }

  /** Hex digest of everything so far (the partial last block included); hashing may continue after. */
  async hex(): Promise<string> {
    await this.settled();
    const final = await Sha256.create();
    final.load(this.outer.save());
    if (this.#fill > 0) {
      final.update(
        this.#stream
          ? this.#stream.copy().digest()
          : this.#range
            ? await this.#range(this.#position - this.#fill, this.#fill)
            : await blockDigest(this.#block!.subarray(0, this.#fill)),
      );
    }
    return final.peekHex();
  }

  /** Queues the hash of the block ending at `end`, folded in order once it is known. */
  #submit(digest: Promise<Uint8Array>, end: number): void {
    digest.catch(() => {});
    this.#backlog += 1;
    this.#chain = this.#chain.then(async () => {
      let bytes: Uint8Array;
      try {
        bytes = await digest;
      } catch (error) {
        this.#failed ??= new Error(`cannot hash: ${(error as Error).message}`);
        return;
      } finally {
        this.#backlog -= 1;
      }
      if (this.#failed) return;
      this.#fold(bytes, end);
    });
  }

  /** Folds the digest of the block ending at `end` (blocks in order). */
  #fold(blockHash: Uint8Array, end: number): void {
    this.outer.update(blockHash);
    this.#folded = end;
    const wanted = this.#wanted.get(end);
    if (!wanted && !this.onBoundary) return;
    const point = { offset: end, state: this.outer.save() };
    this.#wanted.delete(end);
    for (const resolve of wanted ?? []) resolve(point);
    this.onBoundary?.(point);
  }
}

async function blockDigest(block: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', block as Bytes));
}

/** States a trail keeps at most (116 bytes each), and how many of the newest are never thinned out. */
const MAX_STATES = 2048;
const KEEP_RECENT = 256;

/**
 * A sender's FileDigest with its states remembered at block boundaries, so that when the receiver asks
 * for bytes from offset X the sender restores the digest at the nearest boundary at or before X and
 * re-hashes only from there (less than a block, plus any gap) from its own file, not the whole prefix.
 */
export class HashTrail {
  private readonly states = new Map<number, Uint8Array>();

  private constructor(
    private digest: FileDigest,
    private readonly native: Sha256StreamFactory | undefined,
  ) {
    this.watch(digest);
  }

  /** `native`: the platform's block hash (see FileDigest.create). */
  static async create(native?: Sha256StreamFactory): Promise<HashTrail> {
    const digest = await FileDigest.create(undefined, native);
    const trail = new HashTrail(digest, native);
    trail.states.set(0, (await digest.boundary()).state);
    return trail;
  }

  /** Offset the digest has consumed up to. */
  get position(): number {
    return this.digest.position;
  }

  get backlog(): number {
    return this.digest.backlog;
  }

  settled(): Promise<void> {
    return this.digest.settled();
  }

  update(data: Uint8Array): void {
    this.digest.update(data);
  }

  /** Adds a state restored from storage or hashed elsewhere (a block boundary). */
  remember(offset: number, state: Uint8Array): void {
    if (offset % DIGEST_BLOCK_BYTES !== 0) return;
    this.states.set(offset, state);
    if (this.states.size > MAX_STATES) this.thin();
  }

  stateAt(offset: number): Uint8Array | undefined {
    return this.states.get(offset);
  }

  /** The remembered state nearest at or below `offset` (none above 0: the start needs no state). */
  pointAtOrBelow(offset: number): DigestPoint | undefined {
    const at = this.bestAtOrBelow(offset);
    const state = this.states.get(at);
    return at > 0 && state ? { offset: at, state } : undefined;
  }

  /** Forgets states before `offset`, keeping the greatest one at or below it. */
  forgetBefore(offset: number): void {
    const keep = this.bestAtOrBelow(offset);
    for (const at of this.states.keys()) if (at < keep) this.states.delete(at);
  }

  /**
   * Makes the digest continue from the best remembered state at or below `offset`; returns that state's
   * offset (re-hash from there to `offset`). Already exactly at `offset`: nothing changes.
   */
  async rewind(offset: number): Promise<number> {
    if (this.digest.position === offset) return offset;
    const at = this.bestAtOrBelow(offset);
    const state = this.states.get(at);
    // Blocks still in flight fold into the old digest; the states they report stay right (a state
    // depends only on the file's bytes), and the old digest is dropped.
    this.digest.onBoundary = null;
    this.digest = await FileDigest.create(state && at > 0 ? { offset: at, state } : undefined, this.native);
    this.watch(this.digest);
    return this.digest.position;
  }

  digestHex(): Promise<string> {
    return this.digest.hex();
  }

  get size(): number {
    return this.states.size;
  }

  private watch(digest: FileDigest): void {
    digest.onBoundary = (point) => {
      this.states.set(point.offset, point.state);
      if (this.states.size > MAX_STATES) this.thin();
    };
  }

  /**
   * Keeps memory bounded if the receiver's durable offset stops advancing (a slow or misbehaving peer):
   * every other older state goes; a rewind then re-hashes a little more from the file.
   */
  private thin(): void {
    const offsets = [...this.states.keys()].sort((a, b) => a - b);
    const old = offsets.slice(0, offsets.length - KEEP_RECENT);
    for (let i = 1; i < old.length; i += 2) this.states.delete(old[i]!);
  }

  private bestAtOrBelow(offset: number): number {
    let best = 0;
    for (const at of this.states.keys()) if (at <= offset && at > best) best = at;
    return this.states.has(best) ? best : 0;
  }
}
