// Messages between the page and the OPFS worker. Sync access handles exist only in workers; they
// write in place (no swap file), so a partial download survives a reload or a crash.

export type WorkerRequest =
  /** Starts the worker and makes `dir` ready, before the first file needs it. */
  | { op: 'warm'; req: number; dir: string }
  | { op: 'open'; req: number; dir: string; name: string }
  /** Writes `data`'s first `length` bytes at `at`; the reply hands `data` back (transferred) for reuse. */
  | { op: 'write'; req: number; handle: number; at: number; data: ArrayBuffer; length: number }
  | { op: 'read'; req: number; handle: number; at: number; length: number }
  /** SHA-256 of the stored bytes [at, at + length) (≤ 1 MiB), read back here: the reply's data is the digest. */
  | { op: 'hash'; req: number; handle: number; at: number; length: number }
  | { op: 'truncate'; req: number; handle: number; size: number }
  | { op: 'flush'; req: number; handle: number }
  | { op: 'close'; req: number; handle: number };

export type WorkerReply =
  | { req: number; ok: true; handle?: number; size?: number; data?: ArrayBuffer }
  | { req: number; ok: false; error: string; name?: string };
