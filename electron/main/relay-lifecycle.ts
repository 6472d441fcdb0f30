// The embedded relay's lifecycle: started on launch (loopback by default, the LAN when the user opts in),
// restarted when that setting changes, closed before the app quits. startRelay is injected, so this
// module is tested with the real relay on loopback and with fakes for the cases a test must not create
// (listening on every interface).
import type { NetworkInterfaceInfo } from 'node:os';
import type { RelayOptions } from '../../signaling/server/options.js';

/** What this module needs from a started relay (signaling/server's startRelay result has more). */
export interface RelayHandleLike {
  url: string;
  port: number;
  close(): Promise<void>;
}

export type StartRelay = (options: RelayOptions) => Promise<RelayHandleLike>;

export interface RelaySettings {
  lanRelay: boolean;
  /** Preferred port (stable across restarts so invites stay valid); 0 = any. */
  relayPort: number;
}

export type RelayStatus =
  | { state: 'stopped' }
  | { state: 'running'; url: string; localUrl: string; port: number; host: string; lan: boolean; fellBack: boolean }
  | { state: 'failed'; error: string };

export interface EmbeddedRelayDeps {
  startRelay: StartRelay;
  /** This machine's address on the LAN, or null when it has none. */
  lanAddress(): string | null;
  /** Passed to the relay as its logger. */
  logger?: RelayOptions['logger'];
  onStatus?(status: RelayStatus): void;
}

export const LOOPBACK_HOST = '127.0.0.1';
export const ALL_INTERFACES_HOST = '0.0.0.0';

const PORT_FALLBACK_CODES = new Set(['EADDRINUSE', 'EACCES']);

export class EmbeddedRelay {
  private handle: RelayHandleLike | null = null;
  private current: RelayStatus = { state: 'stopped' };
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: EmbeddedRelayDeps) {}

  get status(): RelayStatus {
    return this.current;
  }

  /** The URL to connect to and to put in invites, or null when the relay is not running. */
  get url(): string | null {
    return this.current.state === 'running' ? this.current.url : null;
  }

  start(settings: RelaySettings): Promise<RelayStatus> {
    return this.serialize(async () => {
      await this.closeHandle();
      return this.open(settings);
    });
  }

  stop(): Promise<void> {
    return this.serialize(async () => {
      await this.closeHandle();
      this.setStatus({ state: 'stopped' });
    });
  }

  private async open(settings: RelaySettings): Promise<RelayStatus> {
    const host = settings.lanRelay ? ALL_INTERFACES_HOST : LOOPBACK_HOST;
    const base: RelayOptions = { host, ...(this.deps.logger ? { logger: this.deps.logger } : {}) };
    let fellBack = false;
    let handle: RelayHandleLike;
    try {
      try {
        handle = await this.deps.startRelay({ ...base, port: settings.relayPort });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException | undefined)?.code;
        if (settings.relayPort === 0 || code === undefined || !PORT_FALLBACK_CODES.has(code)) throw e;
        // The preferred port is taken (another Parley user on this machine, some other program): any port
        // is better than no relay; invites made now will name the new port.
        fellBack = true;
        handle = await this.deps.startRelay({ ...base, port: 0 });
      }
    } catch (e) {
      return this.setStatus({ state: 'failed', error: e instanceof Error ? e.message : String(e) });
    }
    this.handle = handle;
    const local = new URL(handle.url);
    let url = handle.url;
    if (settings.lanRelay) {
      const lan = this.deps.lanAddress();
      if (lan !== null) url = advertisedUrl(local, lan, handle.port);
    } else if (local.hostname !== LOOPBACK_HOST) {
      // The relay reports its bind address; the loopback relay is always reached at 127.0.0.1.
      url = advertisedUrl(local, LOOPBACK_HOST, handle.port);
    }
    const localUrl = advertisedUrl(local, LOOPBACK_HOST, handle.port);
    return this.setStatus({
      state: 'running',
      url,
      localUrl,
      port: handle.port,
      host,
      lan: settings.lanRelay,
      fellBack,
    });
  }

  private async closeHandle(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    if (h) await h.close();
  }

  private setStatus(status: RelayStatus): RelayStatus {
    this.current = status;
    this.deps.onStatus?.(status);
    return status;
  }

  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => {});
    return run;
  }
}

function advertisedUrl(local: URL, host: string, port: number): string {
  const u = new URL(local.href);
  u.hostname = host.includes(':') ? `[${host}]` : host;
  u.port = String(port);
  return u.href;
}

/**
 * Picks the address contacts on the LAN can reach: a private IPv4 (RFC 1918) first, then any other
 * non-internal IPv4. Link-local (169.254/16) and loopback are never advertised.
 */
export function pickLanAddress(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): string | null {
  const candidates: string[] = [];
  for (const list of Object.values(interfaces)) {
    for (const info of list ?? []) {
      if (info.family !== 'IPv4' || info.internal) continue;
      if (info.address.startsWith('169.254.') || info.address.startsWith('127.')) continue;
      candidates.push(info.address);
    }
  }
  return candidates.find(isPrivateIPv4) ?? candidates[0] ?? null;
}

export function isPrivateIPv4(address: string): boolean {
  const parts = address.split('.').map(Number);
  const [a, b] = parts;
  if (parts.length !== 4 || a === undefined || b === undefined) return false;
  return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

export interface QuitGuardDeps {
  /** Work to finish before the process exits (close the relay, flush files). */
  shutdown(): Promise<void>;
  /** app.quit(), called again once shutdown settled. */
  quit(): void;
  /** Upper bound on the wait, so a stuck close never keeps the app alive. */
  timeoutMs: number;
  onError?(error: unknown): void;
}

/**
 * A before-quit listener: the first quit is held (preventDefault) until shutdown settles or times out,
 * then quit is called again and let through. Quit requests during shutdown are swallowed.
 */
export function createQuitGuard(deps: QuitGuardDeps): (event: { preventDefault(): void }) => void {
  let stage: 'running' | 'stopping' | 'done' = 'running';
  return (event) => {
    if (stage === 'done') return;
    event.preventDefault();
    if (stage === 'stopping') return;
    stage = 'stopping';
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        deps.onError?.(new Error(`shutdown did not finish within ${deps.timeoutMs} ms`));
        resolve();
      }, deps.timeoutMs);
    });
    const work = deps.shutdown().catch((e: unknown) => deps.onError?.(e));
    void Promise.race([work, timeout]).then(() => {
      clearTimeout(timer);
      stage = 'done';
      deps.quit();
    });
  };
}
