// Issue 12.8: floods with no backpressure. A contact could send without limit; every message was kept
// forever, so the CLI's store (replayed into memory at start) grew until `parley listen` could not start.
// Conversations are now bounded (oldest pruned, outbox kept) and incoming messages rate-limited per
// contact with a bounded queue; refused messages are not acknowledged (the sender keeps them and retries
// after the delay the refusal names: flood.test.ts).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatQuotaError, ChatStore } from '../../../../core/src/chat/store.js';
import { FileKeyValueStore } from '../../../../platform/node/src/file-store.js';
import { memoryStore } from '../../../helpers/memory-store.js';

const C = 'c'.repeat(43);
const id = (n: number): string => `msg-${String(n).padStart(8, '0')}`;
const open = { incomingPerMinute: 1e9, incomingBurst: 1e9 };

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('ChatStore limits', () => {
  it('keeps the newest maxMessages of a conversation; pruned ids are gone too', async () => {
    const kv = memoryStore();
    const store = new ChatStore(kv, { ...open, maxMessages: 100 });
    for (let i = 1; i <= 250; i++) await store.addIncoming(C, { id: id(i), text: `t${i}`, sentAt: i });
    const history = await store.history(C, { limit: 500 });
    expect(history.map((m) => m.seq)).toEqual(Array.from({ length: 100 }, (_, i) => 151 + i));
    expect(await kv.keys(`chat/${C}/m/`)).toHaveLength(100);
    expect(await kv.keys(`chat/${C}/id/`)).toHaveLength(100);
    expect((await store.summary(C)).unread).toBe(100);
    // The bound survives a restart (meta persisted).
    const again = new ChatStore(kv, { ...open, maxMessages: 100 });
    await again.addIncoming(C, { id: id(251), text: 'x', sentAt: 1 });
    expect(await kv.keys(`chat/${C}/m/`)).toHaveLength(100);
  });

  it('keeps the text of a conversation under maxTextChars', async () => {
    const kv = memoryStore();
    const store = new ChatStore(kv, { ...open, maxTextChars: 10_000 });
    for (let i = 1; i <= 60; i++) await store.addIncoming(C, { id: id(i), text: 'x'.repeat(1000), sentAt: i });
    const kept = await store.history(C, { limit: 500 });
    expect(kept.length).toBeLessThanOrEqual(10);
    expect(kept.at(-1)!.seq).toBe(60);
  });

  it('never prunes messages still in the outbox', async () => {
    const store = new ChatStore(memoryStore(), { ...open, maxMessages: 20 });
    for (let i = 0; i < 5; i++)
      await store.addOutgoing(C, { id: id(1000 + i), text: `mine ${i}`, sentAt: i }, 'queued');
    for (let i = 1; i <= 200; i++) await store.addIncoming(C, { id: id(i), text: `t${i}`, sentAt: i });
    expect((await store.pending(C)).map((m) => m.text)).toEqual(['mine 0', 'mine 1', 'mine 2', 'mine 3', 'mine 4']);
  });

  it('rate-limits incoming messages per contact, refilling with time; a refusal says when to retry', async () => {
    let now = 0;
    const store = new ChatStore(memoryStore(), { incomingPerMinute: 60, incomingBurst: 10 }, () => now);
    for (let i = 0; i < 10; i++) await store.addIncoming(C, { id: id(i), text: 'hi', sentAt: 1 });
    await expect(store.addIncoming(C, { id: id(10), text: 'hi', sentAt: 1 })).rejects.toMatchObject({
      name: 'ChatQuotaError',
      retryAfterMs: 1000, // one message a second
    });
    // Another contact has its own budget.
    await expect(store.addIncoming('d'.repeat(43), { id: id(10), text: 'hi', sentAt: 1 })).resolves.not.toBeNull();
    now += 1000;
    // In order: nothing overtakes the refused message, which gets the refilled token when it comes back.
    await expect(store.addIncoming(C, { id: id(11), text: 'hi', sentAt: 1 })).rejects.toBeInstanceOf(ChatQuotaError);
    await expect(store.addIncoming(C, { id: id(10), text: 'hi', sentAt: 1 })).resolves.not.toBeNull();
    await expect(store.addIncoming(C, { id: id(11), text: 'hi', sentAt: 1 })).rejects.toBeInstanceOf(ChatQuotaError);
    // A message already stored is answered (acknowledged again) whatever the budget.
    await expect(store.addIncoming(C, { id: id(3), text: 'hi', sentAt: 1 })).resolves.toBeNull();
    now += 1000;
    await expect(store.addIncoming(C, { id: id(11), text: 'hi', sentAt: 1 })).resolves.not.toBeNull();
  });

  it('bounds how many incoming messages wait to be stored; the rest are refused at once', async () => {
    const store = new ChatStore(memoryStore(), { ...open, maxQueued: 5 });
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => store.addIncoming(C, { id: id(i), text: 't', sentAt: 1 })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    expect(
      results
        .filter((r) => r.status === 'rejected')
        .every((r) => (r as PromiseRejectedResult).reason instanceof ChatQuotaError),
    ).toBe(true);
    // Once stored, the queue has room again, for the first refused message first (order).
    await expect(store.addIncoming(C, { id: id(99), text: 't', sentAt: 1 })).rejects.toBeInstanceOf(ChatQuotaError);
    await expect(store.addIncoming(C, { id: id(5), text: 't', sentAt: 1 })).resolves.not.toBeNull();
    await expect(store.addIncoming(C, { id: id(99), text: 't', sentAt: 1 })).resolves.not.toBeNull();
  });

  it('a flood keeps the CLI store on disk bounded (it is replayed in full at every start)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-chat-flood-'));
    dirs.push(dir);
    const kv = await FileKeyValueStore.open(dir);
    const store = new ChatStore(kv, { ...open, maxTextChars: 1_000_000 });
    const text = 'f'.repeat(4000);
    // 6 MB of text from one contact; at most 1 M characters of it may stay.
    for (let i = 0; i < 1500; i += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, j) => store.addIncoming(C, { id: id(i + j), text, sentAt: 1 })),
      );
    }
    await kv.close();
    const bytes = statSync(join(dir, 'store.jsonl')).size;
    expect(bytes).toBeLessThan(3_500_000);
    const reopened = new ChatStore(await FileKeyValueStore.open(dir), open);
    const kept = await reopened.history(C, { limit: 500 });
    expect(kept.at(-1)!.text).toBe(text);
  }, 60_000);
});
