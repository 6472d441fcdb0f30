// The CLI's store with each contact's chat messages in logs of their own (chat-partitions.ts): a conversation
// works through it like through one log (ChatStore on top: add, dedupe, status, prune, forget), a home written
// before partitions is still read, and opening the store reads none of the messages.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChatStore } from '../../../../core/src/chat/store.js';
import { PartitionedChatStore } from '../../../../platform/node/src/chat-partitions.js';
import { FileKeyValueStore } from '../../../../platform/node/src/file-store.js';

const C = 'c'.repeat(43);
const id = (n: number): string => `msg-${String(n).padStart(8, '0')}`;
let home: string;

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'parley-parts-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('PartitionedChatStore', () => {
  it('carries a conversation like one log, keeps messages out of the main log, and survives a reopen', async () => {
    let store = await PartitionedChatStore.open(home);
    let chat = new ChatStore(store, { maxMessages: 1100, incomingBurst: 1e9, incomingPerMinute: 1e9 });
    for (let i = 1; i <= 1300; i++) await chat.addIncoming(C, { id: id(i), text: `t${i}`, sentAt: i });
    const mine = await chat.addOutgoing(C, { id: id(9999), text: 'mine', sentAt: 1 }, 'sent');
    expect(await chat.addIncoming(C, { id: id(1300), text: 'again', sentAt: 1 })).toBeNull(); // dedupe
    expect((await chat.setStatus(C, mine.id, 'delivered'))?.status).toBe('delivered');
    expect(await store.main.keys(`chat/${C}/m/`)).toEqual([]);
    expect(await store.main.keys(`chat/${C}/id/`)).toEqual([]);
    expect((await readdir(join(home, 'chat', C))).sort()).toEqual(['ids', 'm-0', 'm-1'].sort());
    await store.close();

    store = await PartitionedChatStore.open(home);
    // Opening read the main log only (meta and outbox updates; compacted past 1 MiB), no message log.
    expect(store.rowsRead).toBe(store.main.rowsRead);
    chat = new ChatStore(store, { maxMessages: 1100 });
    const last = await chat.history(C, { limit: 3 });
    expect(last.map((m) => m.text)).toEqual(['t1299', 't1300', 'mine']);
    expect((await store.keys(`chat/${C}/m/`)).length).toBe(1100); // pruned to the limit, across segments
    expect(await store.keys('chat/')).toEqual([`chat/${C}/meta`]); // a scan of chat/ sees the main log only
    await chat.forget(C);
    expect(await store.keys(`chat/${C}/`)).toEqual([]);
    await store.close();
  });

  it('reads a home written before partitions (messages in the main log)', async () => {
    const old = await FileKeyValueStore.open(home);
    const before = new ChatStore(old);
    for (let i = 1; i <= 5; i++) await before.addIncoming(C, { id: id(i), text: `old ${i}`, sentAt: i });
    await old.close();

    const store = await PartitionedChatStore.open(home);
    const chat = new ChatStore(store);
    expect((await chat.history(C)).map((m) => m.text)).toEqual(['old 1', 'old 2', 'old 3', 'old 4', 'old 5']);
    expect(await chat.addIncoming(C, { id: id(3), text: 'dup', sentAt: 1 })).toBeNull();
    await chat.addIncoming(C, { id: id(6), text: 'new 6', sentAt: 6 });
    expect((await chat.history(C, { limit: 2 })).map((m) => m.text)).toEqual(['old 5', 'new 6']);
    await store.close();
  });
});
