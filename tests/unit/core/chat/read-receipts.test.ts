// Read receipts (issue 14.5): the store tells which incoming messages a markRead newly read (the ids the
// receipt carries), and an outgoing message moves to 'read' (leaving the outbox) even when the receipt
// overtakes its delivery acknowledgement, and never goes back.
import { describe, expect, it } from 'vitest';
import { decodeChatFrame, encodeChatFrame } from '../../../../core/src/chat/protocol.js';
import { ChatStore } from '../../../../core/src/chat/store.js';
import { memoryStore } from '../../../helpers/memory-store.js';

const C = 'c'.repeat(43);
const id = (n: number): string => `msg-${String(n).padStart(8, '0')}`;

describe('read receipts', () => {
  it('markRead returns the incoming ids it newly read, once', async () => {
    const store = new ChatStore(memoryStore());
    await store.addIncoming(C, { id: id(1), text: 'a', sentAt: 1 });
    await store.addOutgoing(C, { id: id(2), text: 'b', sentAt: 2 }, 'sent');
    await store.addIncoming(C, { id: id(3), text: 'c', sentAt: 3 });
    expect((await store.markRead(C)).sort()).toEqual([id(1), id(3)]);
    expect(await store.markRead(C)).toEqual([]);
    await store.addIncoming(C, { id: id(4), text: 'd', sentAt: 4 });
    expect(await store.markRead(C)).toEqual([id(4)]);
    expect((await store.summary(C)).unread).toBe(0);
  });

  it("an outgoing message goes to 'read', leaves the outbox, and never goes back", async () => {
    const store = new ChatStore(memoryStore());
    await store.addOutgoing(C, { id: id(1), text: 'a', sentAt: 1 }, 'sent');
    await store.addOutgoing(C, { id: id(2), text: 'b', sentAt: 2 }, 'sent');
    expect((await store.setStatus(C, id(1), 'delivered'))?.status).toBe('delivered');
    expect((await store.setStatus(C, id(1), 'read'))?.status).toBe('read');
    // The receipt overtook the acknowledgement.
    expect((await store.setStatus(C, id(2), 'read'))?.status).toBe('read');
    expect(await store.setStatus(C, id(2), 'delivered')).toBeNull();
    expect(await store.pending(C)).toEqual([]);
    expect((await store.history(C)).map((m) => m.status)).toEqual(['read', 'read']);
  });

  it('the read frame round-trips and is bounded like acks', () => {
    expect(decodeChatFrame(encodeChatFrame({ t: 'read', ids: [id(1)] }))).toEqual({ t: 'read', ids: [id(1)] });
    expect(decodeChatFrame(new TextEncoder().encode(JSON.stringify({ t: 'read', ids: [] })))).toBeNull();
    expect(
      decodeChatFrame(
        new TextEncoder().encode(JSON.stringify({ t: 'read', ids: Array.from({ length: 513 }, (_, i) => id(i)) })),
      ),
    ).toBeNull();
  });
});
