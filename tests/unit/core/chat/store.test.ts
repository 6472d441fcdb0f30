import { describe, expect, it } from 'vitest';
import { ChatStore } from '../../../../core/src/chat/store.js';
import { decodeChatFrame, encodeChatFrame } from '../../../../core/src/chat/protocol.js';
import { memoryStore } from '../../../helpers/memory-store.js';

const C = 'c'.repeat(43);
const id = (n: number): string => `msg-${String(n).padStart(8, '0')}`;

describe('ChatStore', () => {
  it('keeps a stable order by local seq, also for concurrent writes', async () => {
    const store = new ChatStore(memoryStore());
    const writes = [];
    for (let i = 0; i < 30; i++) {
      writes.push(
        i % 2
          ? store.addIncoming(C, { id: id(i), text: `t${i}`, sentAt: 1000 - i })
          : store.addOutgoing(C, { id: id(i), text: `t${i}`, sentAt: i }, 'queued'),
      );
    }
    const results = await Promise.all(writes);
    expect(results.map((m) => m!.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    const history = await store.history(C, { limit: 100 });
    expect(history.map((m) => m.text)).toEqual(Array.from({ length: 30 }, (_, i) => `t${i}`));
  });

  it('pages history backwards with before/limit', async () => {
    const store = new ChatStore(memoryStore());
    for (let i = 0; i < 25; i++) await store.addOutgoing(C, { id: id(i), text: `t${i}`, sentAt: i }, 'sent');
    const last = await store.history(C, { limit: 10 });
    expect(last.map((m) => m.seq)).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
    const before = await store.history(C, { before: 16, limit: 10 });
    expect(before.map((m) => m.seq)).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect((await store.history(C, { before: 6, limit: 10 })).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('drops incoming duplicates by id, also after reopening the store', async () => {
    const kv = memoryStore();
    const store = new ChatStore(kv);
    expect(await store.addIncoming(C, { id: id(1), text: 'once', sentAt: 1 })).not.toBeNull();
    expect(await store.addIncoming(C, { id: id(1), text: 'once', sentAt: 1 })).toBeNull();
    const reopened = new ChatStore(kv);
    expect(await reopened.addIncoming(C, { id: id(1), text: 'once', sentAt: 1 })).toBeNull();
    expect((await reopened.history(C)).map((m) => m.text)).toEqual(['once']);
  });

  it('keeps the outbox until delivery, across reopen, and never reuses a seq', async () => {
    const kv = memoryStore();
    const store = new ChatStore(kv);
    await store.addOutgoing(C, { id: id(1), text: 'a', sentAt: 1 }, 'queued');
    await store.addOutgoing(C, { id: id(2), text: 'b', sentAt: 2 }, 'queued');
    const delivered = await store.setStatus(C, id(1), 'delivered');
    expect(delivered?.status).toBe('delivered');
    expect(await store.setStatus(C, id(1), 'sent')).toBeNull(); // delivered is final
    const reopened = new ChatStore(kv);
    expect((await reopened.pending(C)).map((m) => m.id)).toEqual([id(2)]);
    expect(await reopened.contactsWithPending()).toEqual([C]);
    // A damaged meta record is rebuilt from the messages: the next seq follows the last one.
    kv.data.delete(`chat/${C}/meta`);
    const again = new ChatStore(kv);
    expect((await again.addOutgoing(C, { id: id(3), text: 'c', sentAt: 3 }, 'queued')).seq).toBe(3);
  });

  it('counts unread incoming messages until marked read', async () => {
    const store = new ChatStore(memoryStore());
    await store.addIncoming(C, { id: id(1), text: 'x', sentAt: 1 });
    await store.addIncoming(C, { id: id(2), text: 'y', sentAt: 2 });
    expect((await store.summary(C)).unread).toBe(2);
    expect((await store.history(C)).every((m) => !m.read)).toBe(true);
    await store.markRead(C);
    expect((await store.summary(C)).unread).toBe(0);
    expect((await store.history(C)).every((m) => m.read)).toBe(true);
  });

  it('validates chat frames from peers', () => {
    expect(decodeChatFrame(encodeChatFrame({ t: 'msg', id: id(1), text: 'hi', sentAt: 5 }))).toEqual({
      t: 'msg',
      id: id(1),
      text: 'hi',
      sentAt: 5,
    });
    expect(decodeChatFrame(new TextEncoder().encode('{"t":"msg","id":"../x","text":"hi","sentAt":1}'))).toBeNull();
    expect(decodeChatFrame(new TextEncoder().encode('not json'))).toBeNull();
    expect(decodeChatFrame(new Uint8Array([0xff, 0xfe]))).toBeNull();
    expect(decodeChatFrame(new TextEncoder().encode('{"t":"ack","ids":[]}'))).toBeNull();
  });
});
