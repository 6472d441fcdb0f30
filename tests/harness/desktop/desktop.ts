// Drives one desktop fixture (desktop-peer.ts: the desktop app minus Electron, one Node process in a test-bed
// host) over its IPC: the integration tests (tests/integration/desktop) and the benchmarks (bench:e2e's
// desktop row, bench:desktop-bulk) share it.
import { fileURLToPath } from 'node:url';
import type { Host, NodeProcess } from '../../testbed/index.js';

/** The fixture script, spawned with `host.spawnNode`. */
export const DESKTOP_PEER = fileURLToPath(new URL('./desktop-peer.ts', import.meta.url));

export type DeskOut =
  | { type: 'ready'; id: string; invite: string }
  | { type: 'result'; req: number; value?: unknown; error?: string }
  | { type: 'state'; direction: string; states: string[]; offerId: string }
  | { type: 'progress'; direction: string; offerId: string; route: string; fileBytesDone: number };
export type DeskIn =
  | { cmd: 'add'; req: number; invite: string }
  | { cmd: 'sendFile'; req: number; contactId: string; path: string; relativePath: string; size: number }
  | { cmd: 'sendPicked'; req: number; contactId: string; path: string; relativePath: string; size: number }
  | { cmd: 'routes'; req: number }
  | { cmd: 'ipc'; req: number }
  | { cmd: 'close'; req: number };
type Cmd = DeskIn extends infer T ? (T extends { req: number } ? Omit<T, 'req'> : never) : never;

/** Binary bytes across the fixture's IPC stand-in each way, and its engine's byte counters. */
export interface IpcCount {
  toMain: number;
  toRenderer: number;
  stats: { laneBytesSent: number; laneBytesReceived: number; chunkBytesSent: number; chunkBytesReceived: number };
}

export interface DesktopOptions {
  /** Where received files land (main's download sinks). */
  recvDir: string;
  /** "Always relay": main never listens. */
  relayOnly?: boolean;
  /** Main runs bulk lanes and the renderer's engine gets the bridge's BulkPlatform, as the app wires them. */
  bulk?: boolean;
  /** Main's download sinks fdatasync on flush, as in the app (tests skip it: faster, same behaviour). */
  sync?: boolean;
  name?: string;
}

export class Desktop {
  #req = 0;
  private constructor(
    readonly proc: NodeProcess<DeskOut, DeskIn>,
    readonly id: string,
    readonly invite: string,
  ) {}

  static async start(host: Host, home: string, relayUrl: string, options: DesktopOptions): Promise<Desktop> {
    const { name = 'Desk', ...rest } = options;
    const proc = host.spawnNode<DeskOut, DeskIn>(DESKTOP_PEER, [home, name, relayUrl, JSON.stringify(rest)]);
    const ready = (await proc.next((m) => m.type === 'ready', 60_000)) as { id: string; invite: string };
    return new Desktop(proc, ready.id, ready.invite);
  }

  async request<T>(cmd: Cmd, timeoutMs = 30_000): Promise<T> {
    const req = ++this.#req;
    await this.proc.send({ ...cmd, req } as DeskIn);
    const res = (await this.proc.next((m) => m.type === 'result' && m.req === req, timeoutMs)) as Extract<
      DeskOut,
      { type: 'result' }
    >;
    if (res.error !== undefined) throw new Error(`desktop: ${res.error}\n${this.proc.stderr()}`);
    return res.value as T;
  }

  /** Routes at each progress event of `direction` since the last call. */
  async routes(direction: 'in' | 'out'): Promise<string[]> {
    const all = await this.request<Array<{ direction: string; route: string }>>({ cmd: 'routes' });
    return all.filter((r) => r.direction === direction).map((r) => r.route);
  }

  ipc(): Promise<IpcCount> {
    return this.request<IpcCount>({ cmd: 'ipc' });
  }

  /** Offers `path` as the renderer would (its engine reads the file); resolves with the offer's id. */
  sendFile(contactId: string, path: string, relativePath: string, size: number): Promise<string> {
    return this.#offer({ cmd: 'sendFile', contactId, path, relativePath, size });
  }

  /** Offers a file as if picked in main's dialog (a `main:` token); resolves with the offer's id. */
  sendPicked(contactId: string, path: string, relativePath: string, size: number): Promise<string> {
    return this.#offer({ cmd: 'sendPicked', contactId, path, relativePath, size });
  }

  async #offer(cmd: Extract<Cmd, { cmd: 'sendFile' | 'sendPicked' }>): Promise<string> {
    const ids = await this.request<string[]>(cmd);
    if (ids.length !== 1) throw new Error(`desktop: one file offered, ${ids.length} offers made`);
    return ids[0]!;
  }

  /** Every file of an offer verified (`offerId`: that offer only; messages of earlier offers are still queued). */
  verified(direction: 'in' | 'out', offerId?: string, timeoutMs = 90_000): Promise<DeskOut> {
    return this.proc.next(
      (m) =>
        m.type === 'state' &&
        m.direction === direction &&
        (offerId === undefined || m.offerId === offerId) &&
        m.states.length > 0 &&
        m.states.every((s) => s === 'verified'),
      timeoutMs,
    );
  }
}
