// Builds the chat timeline: messages and file transfers in time order, with day separators and
// grouping of consecutive messages. Pure: unit-tested.
import type { ChatMessage } from '../../../../core/src/api.js';
import type { TransferView } from '../../state/transfers.svelte.js';

export type TimelineItem =
  | { kind: 'day'; key: string; at: number }
  | { kind: 'message'; key: string; message: ChatMessage; grouped: boolean }
  | { kind: 'transfer'; key: string; transfer: TransferView };

const GROUP_GAP_MS = 5 * 60 * 1000;

function dayKey(at: number): string {
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? 'unknown' : `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

/**
 * `transfers` older than the oldest loaded message are left out while older history is still to
 * load, so they appear in place when their page does.
 */
export function buildTimeline(
  messages: readonly ChatMessage[],
  transfers: readonly TransferView[],
  complete: boolean,
): TimelineItem[] {
  const oldest = messages[0]?.at ?? Infinity;
  type Entry = { at: number; order: number; item: TimelineItem };
  const entries: Entry[] = [];
  messages.forEach((m, i) =>
    entries.push({ at: m.at, order: i, item: { kind: 'message', key: `m:${m.id}`, message: m, grouped: false } }),
  );
  for (const x of transfers) {
    if (!complete && x.createdAt < oldest) continue;
    entries.push({
      at: x.createdAt,
      order: Number.MAX_SAFE_INTEGER,
      item: { kind: 'transfer', key: `t:${x.id}`, transfer: x },
    });
  }
  // Messages keep their seq order (stable sort); transfers slot in by time.
  entries.sort((a, b) =>
    a.item.kind === 'message' && b.item.kind === 'message' ? a.order - b.order : a.at - b.at || a.order - b.order,
  );
  const out: TimelineItem[] = [];
  let lastDay = '';
  let prev: ChatMessage | null = null;
  // Keys must be unique in a keyed each: a day can come back when stamps go backwards (clock changes).
  const dayKeys = new Set<string>();
  for (const e of entries) {
    const day = dayKey(e.at);
    if (day !== lastDay) {
      let key = `d:${day}`;
      for (let n = 2; dayKeys.has(key); n++) key = `d:${day}:${n}`;
      dayKeys.add(key);
      out.push({ kind: 'day', key, at: e.at });
      lastDay = day;
      prev = null;
    }
    if (e.item.kind === 'message') {
      const m = e.item.message;
      const grouped = prev !== null && prev.direction === m.direction && m.at - prev.at < GROUP_GAP_MS;
      out.push({ ...e.item, grouped });
      prev = m;
    } else {
      out.push(e.item);
      prev = null;
    }
  }
  return out;
}
