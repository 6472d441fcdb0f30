// Issue 12.8: a long (or flooded) history must not keep `parley listen` from starting. The CLI's store keeps
// each contact's messages in logs of their own, in segments of 1,000 (platform/node/src/chat-partitions.ts),
// and history pages from the end: with 100,000 messages stored, listen starts and prints the latest ones
// having read about one segment, not the history. Rows read are counted, never wall time.
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChatStore } from '../../../core/src/chat/store.js';
import { PartitionedChatStore } from '../../../platform/node/src/chat-partitions.js';
import { useCliWorld } from './cli-world.js';

const HISTORY = 100_000;
const pad = (n: number): string => String(n).padStart(12, '0');
const idOf = (seq: number): string => `hist-${String(seq).padStart(10, '0')}`;

/** Writes `count` messages from `contact` into `home` as the CLI's store lays them out (fast: no engine). */
async function writeHistory(home: string, contact: string, count: number): Promise<void> {
  const base = 1_750_000_000_000;
  const segments = new Map<number, string[]>();
  const ids: string[] = [];
  for (let seq = 1; seq <= count; seq++) {
    const message = {
      id: idOf(seq),
      direction: 'in',
      text: `old ${seq}`,
      sentAt: base + seq,
      at: base + seq,
      status: 'delivered',
      seq,
    };
    const segment = Math.floor(seq / 1000);
    if (!segments.has(segment)) segments.set(segment, []);
    segments.get(segment)!.push(JSON.stringify({ k: `chat/${contact}/m/${pad(seq)}`, v: JSON.stringify(message) }));
    ids.push(JSON.stringify({ k: `chat/${contact}/id/${idOf(seq)}`, v: String(seq) }));
  }
  for (const [segment, lines] of segments) {
    const dir = join(home, 'chat', contact, `m-${segment}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'store.jsonl'), lines.join('\n') + '\n');
  }
  await mkdir(join(home, 'chat', contact, 'ids'), { recursive: true });
  await writeFile(join(home, 'chat', contact, 'ids', 'store.jsonl'), ids.join('\n') + '\n');
  const meta = { nextSeq: count + 1, readUpTo: count, unread: 0, lastMessageAt: base + count, firstSeq: 1 };
  await appendFile(
    join(home, 'store.jsonl'),
    JSON.stringify({ k: `chat/${contact}/meta`, v: JSON.stringify(meta) }) + '\n',
  );
}

describe('parley listen with a 100,000-message history', () => {
  const world = useCliWorld({ alice: 'Alice', bob: 'Bob' }, { contacts: [['alice', 'bob']] });

  it('history pages from the end: the latest messages cost at most two segments of rows, not the history', async () => {
    const { alice, bob } = world.users;
    await writeHistory(alice.home, bob.id, HISTORY);
    const store = await PartitionedChatStore.open(alice.home);
    try {
      const atOpen = store.rowsRead;
      expect(atOpen).toBeLessThan(100); // identity, contacts, meta: nothing of the history
      const latest = await new ChatStore(store).history(bob.id, { limit: 20 });
      expect(latest.map((m) => m.text)).toEqual(Array.from({ length: 20 }, (_, i) => `old ${HISTORY - 19 + i}`));
      // 2 × 100,000 rows on disk (messages and ids); this read the newest segments (2 × 1,000 at most), nothing else.
      expect(store.rowsRead - atOpen).toBeLessThanOrEqual(2000);
      // A page further back opens only the segments it needs.
      const before = store.rowsRead;
      const older = await new ChatStore(store).history(bob.id, { before: 50_001, limit: 5 });
      expect(older.map((m) => m.seq)).toEqual([49_996, 49_997, 49_998, 49_999, 50_000]);
      expect(store.rowsRead - before).toBeLessThanOrEqual(2000);
    } finally {
      await store.close();
    }

    // The command itself: starts, prints the latest messages, then says it is ready.
    const listen = world.json(alice.home, ['listen', '--history', '3']);
    const ready = await listen.waitFor((l) => l.type === 'ready', 30_000);
    expect(ready).toMatchObject({ id: alice.id });
    const printed = listen.lines.filter((l) => l.type === 'history');
    expect(printed).toEqual(
      [HISTORY - 2, HISTORY - 1, HISTORY].map((seq) =>
        expect.objectContaining({ contact: bob.id, direction: 'in', text: `old ${seq}`, seq }),
      ),
    );
    expect(await listen.stop()).toBe(0);
  }, 120_000);
});
