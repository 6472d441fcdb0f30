import { beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../../core/src/api.js';
import { loadRenderer } from './load.js';

type Item =
  { kind: 'day'; key: string } | { kind: 'message'; key: string; grouped: boolean } | { kind: 'transfer'; key: string };
interface TransferLike {
  id: string;
  createdAt: number;
}
let buildTimeline: (messages: ChatMessage[], transfers: TransferLike[], complete: boolean) => Item[];
let upsertBySeq: (list: ChatMessage[], m: ChatMessage) => ChatMessage[];

beforeAll(async () => {
  ({ buildTimeline } = await loadRenderer<{ buildTimeline: typeof buildTimeline }>('components/chat/timeline.ts'));
  ({ upsertBySeq } = await loadRenderer<{ upsertBySeq: typeof upsertBySeq }>('state/order.ts'));
});

const day1 = new Date(2025, 4, 1, 10, 0).getTime();
const day2 = new Date(2025, 4, 2, 10, 0).getTime();
function msg(seq: number, at: number, direction: 'in' | 'out' = 'in'): ChatMessage {
  return {
    id: `m${seq}`,
    contactId: 'c',
    direction,
    text: `t${seq}`,
    sentAt: at,
    at,
    status: 'delivered',
    seq,
    read: true,
  };
}

describe('upsertBySeq', () => {
  it('keeps seq order, replaces by id, never duplicates', () => {
    const list: ChatMessage[] = [];
    upsertBySeq(list, msg(2, 2));
    upsertBySeq(list, msg(1, 1));
    upsertBySeq(list, msg(3, 3));
    upsertBySeq(list, { ...msg(2, 2), status: 'failed' });
    expect(list.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(list[1]!.status).toBe('failed');
  });
});

describe('buildTimeline', () => {
  it('inserts day separators and groups close messages from the same side', () => {
    const items = buildTimeline(
      [msg(1, day1), msg(2, day1 + 60_000), msg(3, day1 + 120_000, 'out'), msg(4, day2)],
      [],
      true,
    );
    expect(items.map((i) => i.kind)).toEqual(['day', 'message', 'message', 'message', 'day', 'message']);
    const grouped = items.filter((i) => i.kind === 'message').map((i) => (i as { grouped: boolean }).grouped);
    expect(grouped).toEqual([false, true, false, false]);
  });

  it('places transfers by time and hides ones older than loaded history until it is complete', () => {
    const messages = [msg(5, day1 + 1000), msg(6, day1 + 3000)];
    const transfers = [
      { id: 'old', createdAt: day1 - 5000 },
      { id: 'mid', createdAt: day1 + 2000 },
    ];
    const partial = buildTimeline(messages, transfers, false).map((i) => i.key);
    expect(partial).toEqual([expect.stringMatching(/^d:/), 'm:m5', 't:mid', 'm:m6']);
    const full = buildTimeline(messages, transfers, true).map((i) => i.key);
    expect(full.slice(1)).toEqual(['t:old', 'm:m5', 't:mid', 'm:m6']);
  });

  it('keeps seq order even when clocks disagree', () => {
    const items = buildTimeline([msg(1, day1 + 5000), msg(2, day1 + 1000)], [], true);
    expect(items.filter((i) => i.kind === 'message').map((i) => i.key)).toEqual(['m:m1', 'm:m2']);
  });
});
