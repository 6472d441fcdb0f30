// ParleyBridge over IPC, without Electron: the preload entry passes in ipcRenderer's invoke/on/off, so
// this logic (deep-link subscription, argument shaping) is tested in Node with fakes.
// What the renderer receives holds only functions and plain values, never ipcRenderer or an IPC event.
import type {
  BridgeDownloads,
  BridgeNotification,
  BridgeTcp,
  BridgeTcpEvent,
  BridgeTrayState,
  ParleyBridge,
} from '../../core/src/bridge.js';
import { Channel, DownloadChannel, RendererEvent, TcpChannel } from '../shared/ipc-contract.js';
import { createBulk } from './bulk.js';

export interface PreloadIpc {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  /** Subscribes to a main-process event; the listener gets the payload arguments only. Returns unsubscribe. */
  on(channel: string, listener: (...args: unknown[]) => void): () => void;
}

export function createElectronBridge(ipc: PreloadIpc): ParleyBridge {
  const deepLinkListeners = new Set<(url: string) => void>();
  let deepLinkOff: (() => void) | null = null;
  const clickListeners = new Set<(contactId: string | undefined) => void>();
  let clickOff: (() => void) | null = null;

  const emitDeepLink = (url: unknown): void => {
    if (typeof url !== 'string') return;
    for (const l of [...deepLinkListeners]) safeCall(() => l(url));
  };

  const bridge: ParleyBridge = {
    platform: 'electron',

    async embeddedRelayUrl() {
      const url = await ipc.invoke(Channel.RelayUrl);
      return typeof url === 'string' ? url : null;
    },

    async notify(notification: BridgeNotification) {
      const payload: BridgeNotification = {
        kind: notification.kind,
        title: notification.title,
        body: notification.body,
      };
      if (notification.contactId !== undefined) payload.contactId = notification.contactId;
      await ipc.invoke(Channel.Notify, payload);
    },

    setTrayState(state: BridgeTrayState) {
      // Fire and forget (the interface is synchronous); a refusal is not the renderer's problem to handle.
      ipc.invoke(Channel.TrayState, { presence: state.presence, unread: state.unread }).catch(() => {});
    },

    onDeepLink(listener) {
      deepLinkListeners.add(listener);
      if (deepLinkOff === null) {
        deepLinkOff = ipc.on(RendererEvent.DeepLink, emitDeepLink);
        // Links that arrived before anyone listened (the one the app was launched with).
        ipc.invoke(Channel.TakeDeepLinks).then(
          (links) => {
            if (Array.isArray(links)) for (const link of links) emitDeepLink(link);
          },
          () => {},
        );
      }
      return once(() => {
        deepLinkListeners.delete(listener);
        if (deepLinkListeners.size === 0 && deepLinkOff) {
          deepLinkOff();
          deepLinkOff = null;
        }
      });
    },

    onNotificationClick(listener) {
      clickListeners.add(listener);
      if (clickOff === null) {
        clickOff = ipc.on(RendererEvent.NotificationClick, (contactId: unknown) => {
          const id = typeof contactId === 'string' ? contactId : undefined;
          for (const l of [...clickListeners]) safeCall(() => l(id));
        });
      }
      return once(() => {
        clickListeners.delete(listener);
        if (clickListeners.size === 0 && clickOff) {
          clickOff();
          clickOff = null;
        }
      });
    },

    async openDownloads() {
      await ipc.invoke(Channel.OpenDownloads);
    },

    async openExternal(url: string) {
      await ipc.invoke(Channel.OpenExternal, String(url));
    },

    downloads: createDownloads(ipc),
    tcp: createTcp(ipc),
    bulk: createBulk(ipc),
  };
  return bridge;
}

/**
 * The received-files sink over IPC: one call per method, arguments passed as they are (main validates
 * them all, and bounds chunk sizes); only the shapes of the replies are checked here.
 */
export function createDownloads(ipc: PreloadIpc): BridgeDownloads {
  return {
    async open(relativePath, key) {
      const r = (await ipc.invoke(DownloadChannel.Open, relativePath, key)) as {
        handle?: unknown;
        existingBytes?: unknown;
      } | null;
      if (typeof r?.handle !== 'string' || typeof r.existingBytes !== 'number')
        throw new Error('download-open: malformed reply');
      return { handle: r.handle, existingBytes: r.existingBytes };
    },
    async read(handle, offset, length) {
      const data = await ipc.invoke(DownloadChannel.Read, handle, offset, length);
      if (!(data instanceof Uint8Array)) throw new Error('download-read: malformed reply');
      return data;
    },
    async truncate(handle, offset) {
      await ipc.invoke(DownloadChannel.Truncate, handle, offset);
    },
    async write(handle, chunk) {
      await ipc.invoke(DownloadChannel.Write, handle, chunk);
    },
    async flush(handle) {
      await ipc.invoke(DownloadChannel.Flush, handle);
    },
    async commit(handle) {
      const path = await ipc.invoke(DownloadChannel.Commit, handle);
      if (typeof path !== 'string') throw new Error('download-commit: malformed reply');
      return path;
    },
    async close(handle) {
      await ipc.invoke(DownloadChannel.Close, handle);
    },
    async discard(relativePath, key) {
      await ipc.invoke(DownloadChannel.Discard, relativePath, key);
    },
    async reveal(relativePath) {
      await ipc.invoke(DownloadChannel.Reveal, relativePath);
    },
  };
}

/** The main process's TCP sockets over IPC (main validates every argument); replies and events are shape-checked. */
export function createTcp(ipc: PreloadIpc): BridgeTcp {
  const listeners = new Set<(event: BridgeTcpEvent) => void>();
  let off: (() => void) | null = null;
  const dispatch = (raw: unknown): void => {
    const event = tcpEvent(raw);
    if (event) for (const l of [...listeners]) safeCall(() => l(event));
  };
  return {
    async listen() {
      const r = (await ipc.invoke(TcpChannel.Listen)) as { listener?: unknown; hints?: unknown } | null;
      const hints = Array.isArray(r?.hints) ? r.hints : null;
      if (typeof r?.listener !== 'string' || !hints?.every(isHint)) throw new Error('tcp-listen: malformed reply');
      return {
        listener: r.listener,
        hints: hints.map((h: { host: string; port: number }) => ({ host: h.host, port: h.port })),
      };
    },
    async closeListener(listener) {
      await ipc.invoke(TcpChannel.CloseListener, listener);
    },
    async connect(hints, timeoutMs) {
      const plain = hints.map((h) => ({ host: h.host, port: h.port }));
      const r = (await ipc.invoke(TcpChannel.Connect, plain, timeoutMs)) as { socket?: unknown } | null;
      if (typeof r?.socket !== 'string') throw new Error('tcp-connect: malformed reply');
      return { socket: r.socket };
    },
    async start(socket) {
      await ipc.invoke(TcpChannel.Start, socket);
    },
    async send(socket, data) {
      await ipc.invoke(TcpChannel.Send, socket, data);
    },
    ack(socket, bytes) {
      // Fire and forget: an ack racing the socket's close is harmless.
      ipc.invoke(TcpChannel.Ack, socket, bytes).catch(() => {});
    },
    async close(socket) {
      await ipc.invoke(TcpChannel.Close, socket);
    },
    onEvent(listener) {
      listeners.add(listener);
      if (off === null) off = ipc.on(RendererEvent.Tcp, dispatch);
      return once(() => {
        listeners.delete(listener);
        if (listeners.size === 0 && off) {
          off();
          off = null;
        }
      });
    },
  };
}

function isHint(h: unknown): h is { host: string; port: number } {
  const o = h as { host?: unknown; port?: unknown } | null;
  return typeof o?.host === 'string' && typeof o.port === 'number';
}

function tcpEvent(raw: unknown): BridgeTcpEvent | null {
  const e = raw as Record<string, unknown> | null;
  if (typeof e !== 'object' || e === null || typeof e['socket'] !== 'string') return null;
  const socket = e['socket'];
  switch (e['kind']) {
    case 'accept':
      return typeof e['listener'] === 'string'
        ? {
            kind: 'accept',
            listener: e['listener'],
            socket,
            remote: typeof e['remote'] === 'string' ? e['remote'] : '',
          }
        : null;
    case 'frame':
      return e['data'] instanceof Uint8Array ? { kind: 'frame', socket, data: e['data'] } : null;
    case 'close':
      return { kind: 'close', socket, reason: typeof e['reason'] === 'string' ? e['reason'] : 'closed' };
    default:
      return null;
  }
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}

function safeCall(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    // One failing listener must not starve the others.
    queueMicrotask(() => {
      throw e;
    });
  }
}
