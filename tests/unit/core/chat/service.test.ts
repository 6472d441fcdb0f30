// ChatService with real parts: two ReliableStreams over an in-memory transport pair, ChatStores over
// in-memory key-value stores. Only the session around the stream is a stand-in (its path and ensure()).
import { describe, expect, it, vi } from 'vitest';
import type { ChatMessage, SessionPath } from '../../../../core/src/api.js';
import { ChatService, type ChatSession } from '../../../../core/src/chat/service.js';
import { ChatStore } from '../../../../core/src/chat/store.js';
import { silentLogger } from '../../../../core/src/platform/types.js';
import { ReliableStream } from '../../../../core/src/session/stream.js';
import { Emitter } from '../../../../core/src/util/emitter.js';
import { memoryStore } from '../../../helpers/memory-store.js';
import { memoryPair, seeded } from '../session/memory-transport.js';

class StreamSession implements ChatSession {
  readonly stream = new ReliableStream();
  path: SessionPath = 'none';
  ensured = 0;
  readonly #events = new Emitter<{ path: SessionPath; error: never }>();
  on: ChatSession['on'] = (event, listener) => this.#events.on(event as 'path', listener as (p: SessionPath) => void);
  ensure(): void {
    this.ensured++;
  }
  setPath(path: SessionPath): void {
    this.path = path;
    this.#events.emit('path', path);
  }
}

function side(name: string, onEvent: (m: ChatMessage) => void = () => {}) {
  const store = new ChatStore(memoryStore());
  const events: ChatMessage[] = [];
  const service = new ChatService(
    store,
    (m) => {
      events.push(m);
      onEvent(m);
    },
    silentLogger,
  );
  return { name, store, events, service };
}

function connect(a: StreamSession, b: StreamSession, seed: number): void {
  const [ta, tb] = memoryPair(seeded(seed));
  a.stream.attach(ta, { current: true });
  b.stream.attach(tb, { current: true });
  a.setPath('direct');
  b.setPath('direct');
}

/** Polls on setImmediate (the memory transport's own clock), so it also runs while setTimeout is faked. */
async function turnsUntil(check: () => boolean, turns = 20_000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (check()) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new Error(`not reached in ${turns} turns`);
}

function until(check: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const poll = () => (check() ? resolve() : setTimeout(poll, 1));
    poll();
  });
}

describe('ChatService', () => {
  it('stores a message before writing it, and marks it delivered once the peer stored it', async () => {
    const alice = side('alice');
    const bob = side('bob');
    const sa = new StreamSession();
    const sb = new StreamSession();
    alice.service.attach('bob', sa);
    bob.service.attach('alice', sb);
    connect(sa, sb, 1);
    const sent = await alice.service.send('bob', 'hi Bob');
    expect(sent.status).toBe('sent');
    expect((await alice.store.history('bob')).map((m) => m.text)).toEqual(['hi Bob']);
    await until(() => alice.events.some((m) => m.id === sent.id && m.status === 'delivered'));
    const [got] = await bob.store.history('alice');
    expect(got).toMatchObject({ id: sent.id, text: 'hi Bob', direction: 'in' });
    expect(bob.events.filter((m) => m.id === sent.id)).toHaveLength(1);
    expect(await alice.store.pending('bob')).toEqual([]);
  });

  it('queues while there is no path, sends on connect, and a restarted peer gets the outbox again without duplicates', async () => {
    const alice = side('alice');
    const sa = new StreamSession();
    const sb = new StreamSession();
    // Bob's process dies right after storing the message: his ack (written on the next tick) is lost.
    const bob = side('bob', (m) => {
      if (m.direction !== 'in') return;
      bob.service.detach('alice');
      sb.stream.close();
    });
    alice.service.attach('bob', sa);
    const queued = await alice.service.send('bob', 'while you were away');
    expect(queued.status).toBe('queued');
    expect(sa.ensured).toBeGreaterThan(0);
    bob.service.attach('alice', sb);
    connect(sa, sb, 2);
    await until(() => alice.events.some((m) => m.id === queued.id && m.status === 'sent'));
    await until(() => bob.events.some((m) => m.id === queued.id));
    expect((await alice.store.pending('bob')).map((m) => m.id)).toEqual([queued.id]);
    // Bob restarts (a new stream incarnation, same store): Alice writes what is not yet delivered
    // again; Bob drops the id he already stored and acknowledges it.
    const sb2 = new StreamSession();
    bob.service.attach('alice', sb2);
    connect(sa, sb2, 3);
    await until(() => alice.events.some((m) => m.id === queued.id && m.status === 'delivered'));
    expect((await bob.store.history('alice')).map((m) => m.id)).toEqual([queued.id]);
    expect(bob.events.filter((m) => m.id === queued.id)).toHaveLength(1);
  });

  it('acks on the session of the moment: a copy that arrives on the restarted stream before the ack is written is acknowledged', async () => {
    // Bob restarts after storing a message and before his ack is written (setTimeout is held back here), and
    // Alice's rewrite reaches his new stream meanwhile: the batched acks must go on the new stream, not on the
    // closed one the first copy came on (Alice would wait for 'delivered' forever).
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const alice = side('alice');
      const sa = new StreamSession();
      const sb = new StreamSession();
      const sb2 = new StreamSession();
      const bob = side('bob', (m) => {
        if (m.direction !== 'in') return;
        bob.service.detach('alice');
        sb.stream.close();
        bob.service.attach('alice', sb2);
      });
      const stored = vi.spyOn(bob.store, 'addIncoming');
      alice.service.attach('bob', sa);
      bob.service.attach('alice', sb);
      connect(sa, sb, 4);
      const sent = await alice.service.send('bob', 'are you there?');
      await turnsUntil(() => bob.events.some((m) => m.id === sent.id));
      connect(sa, sb2, 5);
      // The copies (the stream's own resend and the outbox's) reached Bob's new stream and were recognised as
      // stored; his acks are still batched.
      await turnsUntil(() => stored.mock.calls.length >= 2);
      const later = await Promise.all(stored.mock.results.slice(1).map((r) => r.value as Promise<unknown>));
      expect(later.every((m) => m === null)).toBe(true);
      await vi.advanceTimersByTimeAsync(1);
      await turnsUntil(() => alice.events.some((m) => m.id === sent.id && m.status === 'delivered'));
      expect(await alice.store.pending('bob')).toEqual([]);
      expect(bob.events.filter((m) => m.id === sent.id)).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses empty and oversized text without storing anything', async () => {
    const alice = side('alice');
    await expect(alice.service.send('bob', '')).rejects.toThrow('message text is empty');
    await expect(alice.service.send('bob', 'x'.repeat(100_001))).rejects.toThrow('longer than');
    expect(await alice.store.history('bob')).toEqual([]);
  });
});
