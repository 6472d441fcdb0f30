// ParleyBridge.bulk over IPC (main/bulk-lanes.ts): arguments shaped to plain values, replies and events
// checked for shape.
import type { BridgeBulk, BridgeBulkEvent } from '../../core/src/bridge.js';
import { BulkChannel, RendererEvent } from '../shared/ipc-contract.js';
import type { PreloadIpc } from './bridge.js';

const isHint = (h: unknown): h is { host: string; port: number } => {
  const o = h as { host?: unknown; port?: unknown } | null;
  return typeof o?.host === 'string' && typeof o.port === 'number';
};

function bulkEvent(raw: unknown): BridgeBulkEvent | null {
  const e = raw as Record<string, unknown> | null;
  if (typeof e !== 'object' || e === null || typeof e['lane'] !== 'string') return null;
  const lane = e['lane'];
  const num = (k: string) => (typeof e[k] === 'number' ? (e[k] as number) : null);
  switch (e['kind']) {
    case 'progress':
      return num('offset') === null ? null : { kind: 'progress', lane, offset: num('offset')! };
    case 'checkpoint': {
      const p = e['point'] as { offset?: unknown; state?: unknown } | null;
      if (typeof p?.offset !== 'number' || !(p.state instanceof Uint8Array)) return null;
      return { kind: 'checkpoint', lane, point: { offset: p.offset, state: p.state } };
    }
    case 'received': {
      const b = e['boundary'] as { offset?: unknown; state?: unknown } | null;
      const sha = e['sha256'];
      if (num('written') === null || typeof b?.offset !== 'number' || !(b.state instanceof Uint8Array)) return null;
      if (sha !== null && typeof sha !== 'string') return null;
      return {
        kind: 'received',
        lane,
        written: num('written')!,
        sha256: sha,
        boundary: { offset: b.offset, state: b.state },
      };
    }
    case 'sent':
      return num('from') === null || typeof e['sha256'] !== 'string'
        ? null
        : { kind: 'sent', lane, from: num('from')!, sha256: e['sha256'] };
    case 'failed':
      return {
        kind: 'failed',
        lane,
        message: typeof e['message'] === 'string' ? e['message'] : 'the lane failed',
        ...(typeof e['code'] === 'string' ? { code: e['code'] } : {}),
      };
    default:
      return null;
  }
}

export function createBulk(ipc: PreloadIpc): BridgeBulk {
  const listeners = new Set<(event: BridgeBulkEvent) => void>();
  let off: (() => void) | null = null;
  const dispatch = (raw: unknown): void => {
    const event = bulkEvent(raw);
    if (!event) return;
    for (const l of [...listeners]) {
      try {
        l(event);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  };
  return {
    async receive(request) {
      const r = (await ipc.invoke(BulkChannel.Receive, {
        handle: request.handle,
        key: request.key,
        size: request.size,
        from: request.from,
        digestFrom: { offset: request.digestFrom.offset, state: request.digestFrom.state },
        ...(request.checkpointBytes !== undefined ? { checkpointBytes: request.checkpointBytes } : {}),
      })) as { lane?: unknown; hints?: unknown } | null;
      const hints = Array.isArray(r?.hints) ? r.hints : null;
      if (typeof r?.lane !== 'string' || !hints?.every(isHint)) throw new Error('bulk-receive: malformed reply');
      return {
        lane: r.lane,
        hints: hints.map((h: { host: string; port: number }) => ({ host: h.host, port: h.port })),
      };
    },
    async send(request) {
      const r = (await ipc.invoke(BulkChannel.Send, {
        token: request.token,
        key: request.key,
        hints: request.hints.map((h) => ({ host: h.host, port: h.port })),
        size: request.size,
        ...(request.mtime !== undefined ? { mtime: request.mtime } : {}),
        ...(request.digestFrom
          ? { digestFrom: { offset: request.digestFrom.offset, state: request.digestFrom.state } }
          : {}),
        ...(request.checkpointBytes !== undefined ? { checkpointBytes: request.checkpointBytes } : {}),
      })) as { lane?: unknown } | null;
      if (typeof r?.lane !== 'string') throw new Error('bulk-send: malformed reply');
      return { lane: r.lane };
    },
    async cancel(lane) {
      await ipc.invoke(BulkChannel.Cancel, lane);
    },
    async pick() {
      const r = await ipc.invoke(BulkChannel.Pick);
      if (!Array.isArray(r)) throw new Error('bulk-pick: malformed reply');
      return r.flatMap((f: Record<string, unknown>) =>
        typeof f['token'] === 'string' &&
        typeof f['name'] === 'string' &&
        typeof f['size'] === 'number' &&
        typeof f['mtime'] === 'number'
          ? [{ token: f['token'], name: f['name'], size: f['size'], mtime: f['mtime'] }]
          : [],
      );
    },
    async sourceInfo(token) {
      const r = (await ipc.invoke(BulkChannel.SourceInfo, token)) as { size?: unknown; mtime?: unknown } | null;
      if (typeof r?.size !== 'number' || typeof r.mtime !== 'number')
        throw new Error('bulk-source-info: malformed reply');
      return { size: r.size, mtime: r.mtime };
    },
    async readSource(token, offset, length) {
      const r = await ipc.invoke(BulkChannel.ReadSource, token, offset, length);
      if (!(r instanceof Uint8Array)) throw new Error('bulk-read-source: malformed reply');
      return r;
    },
    onEvent(listener) {
      listeners.add(listener);
      if (off === null) off = ipc.on(RendererEvent.Bulk, dispatch);
      let done = false;
      return () => {
        if (done) return;
        done = true;
        listeners.delete(listener);
        if (listeners.size === 0 && off) {
          off();
          off = null;
        }
      };
    },
  };
}
