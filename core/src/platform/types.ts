// Platform pieces core/ needs but must not import: each runtime (renderer, Node CLI, tests) injects them.

/** A persistent key-value store (IndexedDB in the browser, files in Node). Values are JSON-serialisable. */
export interface KeyValueStore {
  get<T = unknown>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  /** Keys starting with prefix, in lexicographic order. */
  keys(prefix: string): Promise<string[]>;
}

/** The slice of the WHATWG WebSocket that core uses; `ws` in Node and the browser's WebSocket both fit. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  /**
   * `callback` is optional: Node's `ws` calls it once the frame is handed to the kernel (core uses it to
   * learn that bufferedAmount fell without polling); the browser's WebSocket ignores the extra argument.
   */
  send(data: string | Uint8Array, callback?: (error?: Error) => void): void;
  /**
   * Optional (Node): one binary message of the pieces' concatenation, gather-written without joining them
   * (the browser's WebSocket has no such thing). Same callback as send().
   */
  sendParts?(parts: readonly Uint8Array[], callback?: (error?: Error) => void): void;
  /**
   * Optional (Node): the consumer is done with (a view into) a binary message this socket delivered, so the
   * socket may reuse its memory for a later message of that size.
   */
  release?(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketFactory = (url: string) => WebSocketLike;

/** Structured logger; never given message contents or key material. */
export interface Logger {
  debug(obj: Record<string, unknown>, msg?: string): void;
  info(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
