// Messages between the page and the OPFS writer worker. Sync access handles exist only in workers;
// they write in place (no swap file), so a partial download survives a reload or a crash.

export type WorkerRequest =
  | { op: 'open'; req: number; dir: string; name: string }
  | { op: 'write'; req: number; handle: number; at: number; data: ArrayBuffer }
  | { op: 'flush'; req: number; handle: number }
  | { op: 'close'; req: number; handle: number };

export type WorkerReply =
  | { req: number; ok: true; handle?: number; size?: number }
  | { req: number; ok: false; error: string; name?: string };
