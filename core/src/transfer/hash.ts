// Streaming SHA-256 with resumable state (hash-wasm: WebAssembly, same code in Node and browsers).
// The midstate is what makes resume cheap: a receiver stores it with its durable offset and never
// re-reads the partial file; a sender keeps a trail of midstates so it can restart from any offset.
import { createSHA256, type IHasher } from 'hash-wasm';
import { fromBase64url, toBase64url } from '../../../signaling/protocol/index.js';

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

/**
 * A sender's hash with remembered midstates at chunk boundaries, so that when the receiver asks for
 * bytes from offset X the sender can restore the hash at the nearest boundary at or before X and
 * re-hash only the gap from its own file, instead of the whole prefix.
 */
/** States a trail keeps at most (116 bytes each), and how many of the newest are never thinned out. */
const MAX_STATES = 2048;
const KEEP_RECENT = 256;

export class HashTrail {
  /** Offset the running hash has consumed up to. */
  position = 0;
  private readonly states = new Map<number, Uint8Array>();

  private constructor(private readonly hash: Sha256) {
    this.states.set(0, hash.save());
  }

  static async create(): Promise<HashTrail> {
    return new HashTrail(await Sha256.create());
  }

  update(data: Uint8Array): void {
    this.hash.update(data);
    this.position += data.length;
  }

  /** Remembers the state at the current position. */
  mark(): void {
    this.states.set(this.position, this.hash.save());
    if (this.states.size > MAX_STATES) this.thin();
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

  /** Adds a state restored from storage. */
  remember(offset: number, state: Uint8Array): void {
    this.states.set(offset, state);
  }

  stateAt(offset: number): Uint8Array | undefined {
    return this.states.get(offset);
  }

  /** Forgets states before `offset`, keeping the greatest one at or below it. */
  forgetBefore(offset: number): void {
    const keep = this.bestAtOrBelow(offset);
    for (const at of this.states.keys()) if (at < keep) this.states.delete(at);
  }

  /** Restores the best state at or below `offset`; returns its position (re-hash from there to offset). */
  rewind(offset: number): number {
    const at = this.bestAtOrBelow(offset);
    const state = this.states.get(at);
    if (state) this.hash.load(state);
    else this.hash.reset();
    this.position = at;
    // States past `offset` stay: a midstate depends only on the file's bytes, so they remain right.
    return at;
  }

  digestHex(): string {
    return this.hash.peekHex();
  }

  get size(): number {
    return this.states.size;
  }

  private bestAtOrBelow(offset: number): number {
    let best = 0;
    for (const at of this.states.keys()) if (at <= offset && at > best) best = at;
    return this.states.has(best) ? best : 0;
  }
}
