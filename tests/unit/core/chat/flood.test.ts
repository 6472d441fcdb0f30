// Issue 12.8, floods with backpressure: the receiver refuses what is past a contact's budget with "retry after
// N ms"; the sender keeps the message and writes it again then, on the same session. Real parts: two
// ReliableStreams over an in-memory transport pair per contact, ChatStores over in-memory key-value stores.
import { describe, expect, it } from 'vitest';
import type { ChatMessage, SessionPath } from '../../../../core/src/api.js';
import { decodeChatFrame, encodeChatFrame, type ChatFrame } from '../../../../core/src/chat/protocol.js';
import { ChatService, type ChatSession } from '../../../../core/src/chat/service.js';
import { ChatStore, DEFAULT_CHAT_LIMITS, type ChatStoreLimits } from '../../../../core/src/chat/store.js';
import { silentLogger } from '../../../../core/src/platform/types.js';
import { ReliableStream, StreamKind } from '../../../../core/src/session/stream.js';
import { Emitter } from '../../../../core/src/util/emitter.js';
import { memoryStore } from '../../../helpers/memory-store.js';
import { memoryPair, seeded } from '../session/memory-transport.js';

class StreamSession implements ChatSession {
  readonly stream = new ReliableStream();
  path: SessionPath = 'none';
  readonly #events = new Emitter<{ path: SessionPath; error: never }>();
  on: ChatSession['on'] = (event, listener) => this.#events.on(event as 'path', listener as (p: SessionPath) => void);
  ensure(): void {}
  setPath(path: SessionPath): void {
    this.path = path;
    this.#events.emit('path', path);
  }
}

function connect(a: StreamSession, b: StreamSession, seed: number): void {
  const [ta, tb] = memoryPair(seeded(seed));
  a.stream.attach(ta, { current: true });
  b.stream.attach(tb, { current: true });
  a.setPath('direct');
  b.setPath('direct');
}

/** Resolves once `count` events pass `check` (counted as they are emitted). */
function counter(check: (m: ChatMessage) => boolean, count: number) {
  let seen = 0;
  let done!: () => void;
  const reached = new Promise<void>((resolve) => (done = resolve));
  return {
    reached,
    on: (m: ChatMessage) => {
      if (check(m) && ++seen === count) done();
    },
  };
}

/** Every message of a conversation, oldest first (history pages are at most 500). */
async function everything(store: ChatStore, contactId: string): Promise<ChatMessage[]> {
  const out: ChatMessage[] = [];
  let before: number | undefined;
  for (;;) {
    const page = await store.history(contactId, { limit: 500, ...(before !== undefined ? { before } : {}) });
    if (page.length === 0) return out;
    out.unshift(...page);
    before = page[0]!.seq;
  }
}

describe('chat floods and backpressure', () => {
  it('an honest burst of 1,000 messages past the budget is delivered exactly once and in order via retry-after, on one session', async () => {
    // Budgets small enough that most of the burst is refused at first (time still refills them).
    const limits: Partial<ChatStoreLimits> = { incomingBurst: 40, incomingPerMinute: 120_000, maxQueued: 32 };
    const delivered = counter((m) => m.direction === 'out' && m.status === 'delivered', 1000);
    const aliceStore = new ChatStore(memoryStore());
    const alice = new ChatService(aliceStore, delivered.on, silentLogger);
    const bobStore = new ChatStore(memoryStore(), limits);
    let refused = 0;
    const addIncoming = bobStore.addIncoming.bind(bobStore);
    bobStore.addIncoming = (...args) =>
      addIncoming(...args).catch((error: unknown) => {
        refused++;
        throw error;
      });
    const bob = new ChatService(bobStore, () => {}, silentLogger);
    const sa = new StreamSession();
    const sb = new StreamSession();
    let restarts = 0;
    sa.stream.on('peer-restart', () => restarts++);
    alice.attach('bob', sa);
    bob.attach('alice', sb);
    connect(sa, sb, 7);

    const sent: string[] = [];
    for (let i = 0; i < 1000; i++) sent.push((await alice.send('bob', `burst ${i}`)).id);
    await delivered.reached;

    const got = await everything(bobStore, 'alice');
    expect(got.map((m) => m.id)).toEqual(sent);
    expect(await aliceStore.pending('bob')).toEqual([]);
    expect(refused).toBeGreaterThan(100); // the budget did refuse most of the burst at first
    expect(restarts).toBe(0); // and nothing needed a session restart to get through
    alice.close();
    bob.close();
  }, 60_000);

  it('a hostile contact flooding 20,000 messages gets only its budget stored, bounded refusals, and another contact still gets through', async () => {
    const frozen = 1_700_000_000_000; // no refill during the test: the budget is exactly the burst
    const bobStore = new ChatStore(memoryStore(), {}, () => frozen);
    const bobSeen: ChatMessage[] = [];
    const bob = new ChatService(bobStore, (m) => bobSeen.push(m), silentLogger);
    const delivered = counter((m) => m.direction === 'out' && m.status === 'delivered', 20);
    const aliceStore = new ChatStore(memoryStore());
    const alice = new ChatService(aliceStore, delivered.on, silentLogger);
    const [sa, sbA, sm, sbM] = [new StreamSession(), new StreamSession(), new StreamSession(), new StreamSession()];
    alice.attach('bob', sa);
    bob.attach('alice', sbA);
    bob.attach('mallory', sbM);
    connect(sa, sbA, 11);
    connect(sm, sbM, 12);
    // Mallory writes raw frames and ignores what Bob answers (counts it).
    const answered: ChatFrame[] = [];
    sm.stream.onFrame(StreamKind.Chat, (payload) => {
      const frame = decodeChatFrame(payload);
      if (frame) answered.push(frame);
    });

    const FLOOD = 20_000;
    const flood = (async () => {
      for (let i = 0; i < FLOOD; i++) {
        const id = `flood-${String(i).padStart(8, '0')}`;
        await sm.stream.send(StreamKind.Chat, encodeChatFrame({ t: 'msg', id, text: `spam ${i}`, sentAt: frozen }));
        if (i === FLOOD / 2) for (let j = 0; j < 20; j++) await alice.send('bob', `honest ${j}`);
      }
    })();
    await flood;
    await delivered.reached;
    await sm.stream.flushed();

    const fromMallory = await everything(bobStore, 'mallory');
    expect(fromMallory).toHaveLength(DEFAULT_CHAT_LIMITS.incomingBurst);
    expect(fromMallory.map((m) => m.text)).toEqual(
      Array.from({ length: DEFAULT_CHAT_LIMITS.incomingBurst }, (_, i) => `spam ${i}`),
    );
    expect((await everything(bobStore, 'alice')).map((m) => m.text)).toEqual(
      Array.from({ length: 20 }, (_, j) => `honest ${j}`),
    );
    expect(bobSeen.filter((m) => m.contactId === 'mallory')).toHaveLength(DEFAULT_CHAT_LIMITS.incomingBurst);
    // Refusals are batched: far fewer answer frames than flooded messages, each a valid retry.
    const retries = answered.filter((f) => f.t === 'retry');
    expect(retries.length).toBeGreaterThan(0);
    expect(retries.length).toBeLessThan(FLOOD / 10);
    for (const r of retries) expect(r.afterMs).toBeGreaterThan(0);
    alice.close();
    bob.close();
  }, 120_000);
});
