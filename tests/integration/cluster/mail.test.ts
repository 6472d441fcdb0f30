// Contact mail (store and forward) across nodes of a 3-node cluster on one real redis-server: a request posted
// on one node reaches its recipient on another, whether they are online at the time or connect later, exactly
// once per connection, with the single-process mailbox's rate limit, caps and acknowledgement rules.
import { describe, expect, it } from 'vitest';
import { ErrorCode, type ServerMessage } from '../../../signaling/protocol/index.js';
import { createIdentity, type TestIdentity } from '../../helpers/relay/raw-client.js';
import { answersUntilNow } from '../relay/barriers.js';
import { clusterFixture } from './fixture.js';

const fixture = clusterFixture();
const authed = (url: string, identity?: TestIdentity) => fixture.authed(url, identity);

describe('cluster: contact mail across nodes', () => {
  it('a request posted while the recipient is offline is delivered when it connects to another node, until acknowledged', async () => {
    const { nodes } = await fixture.start(3);
    const bobIdentity = await createIdentity();
    const alice = await authed(nodes[0]!.url);
    alice.client.send({ type: 'mail', to: bobIdentity.id, body: { request: 'be my contact' }, ref: 'r1' });
    expect(await answersUntilNow(alice.client, 's1')).toEqual([{ type: 'mail-queued', ref: 'r1' }]);

    const bob = await authed(nodes[1]!.url, bobIdentity);
    const got = await bob.client.next('mail');
    expect(got).toMatchObject({ from: alice.identity.id, body: { request: 'be my contact' } });
    expect(got.at).toBeGreaterThan(0);

    // Unacknowledged: it comes again on the next connection, on a third node; acknowledged: never again.
    await bob.client.close();
    const again = await authed(nodes[2]!.url, bobIdentity);
    expect(await again.client.next('mail')).toMatchObject({ id: got.id });
    again.client.send({ type: 'mail-ack', ids: [got.id] });
    await answersUntilNow(again.client, 'acked');
    await again.client.close();
    const third = await authed(nodes[0]!.url, bobIdentity);
    expect((await answersUntilNow(third.client, 'rest')).filter((m) => m.type === 'mail')).toEqual([]);
  });

  it('reaches a recipient online on other nodes at once, once per connection, never the sending connection', async () => {
    const { nodes } = await fixture.start(3);
    const bobIdentity = await createIdentity();
    const bobOn2 = await authed(nodes[1]!.url, bobIdentity);
    const bobOn3 = await authed(nodes[2]!.url, bobIdentity);
    const alice = await authed(nodes[0]!.url);
    for (let i = 0; i < 3; i++) alice.client.send({ type: 'mail', to: bobIdentity.id, body: { n: i }, ref: `m${i}` });
    expect((await answersUntilNow(alice.client, 'q')).map((m) => m.type)).toEqual(Array(3).fill('mail-queued'));
    for (const bob of [bobOn2, bobOn3]) {
      const got = [await bob.client.next('mail'), await bob.client.next('mail'), await bob.client.next('mail')];
      expect(got.map((m) => m.body)).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
      expect((await answersUntilNow(bob.client, 'dup')).filter((m) => m.type === 'mail')).toEqual([]);
    }
    // Mail to one's own other devices reaches them, not the sending connection.
    bobOn2.client.send({ type: 'mail', to: bobIdentity.id, body: { note: 'to self' }, ref: 'self' });
    const own = await answersUntilNow(bobOn2.client, 'own');
    expect(own).toEqual([{ type: 'mail-queued', ref: 'self' }]);
    expect(await bobOn3.client.next('mail')).toMatchObject({ body: { note: 'to self' } });
  });

  it('rate-limits a sender across all its nodes and keeps the per-pair cap cluster-wide', async () => {
    const { nodes } = await fixture.start(3, { limits: { mailPerMinute: 1, mailBurst: 4, mailPerPair: 2 } });
    const sender = await createIdentity();
    const bob = await createIdentity();
    const on1 = await authed(nodes[0]!.url, sender);
    const on2 = await authed(nodes[1]!.url, sender);
    for (let i = 0; i < 2; i++) on1.client.send({ type: 'mail', to: bob.id, body: { n: i }, ref: `a${i}` });
    expect((await answersUntilNow(on1.client, 'a')).map((m) => m.type)).toEqual(['mail-queued', 'mail-queued']);
    for (let i = 2; i < 4; i++) on2.client.send({ type: 'mail', to: bob.id, body: { n: i }, ref: `b${i}` });
    expect((await answersUntilNow(on2.client, 'b')).map((m) => m.type)).toEqual(['mail-queued', 'mail-queued']);
    // The burst is spent, whichever node the fifth one arrives at.
    on1.client.send({ type: 'mail', to: (await createIdentity()).id, body: { n: 5 }, ref: 'over' });
    expect(await on1.client.nextError()).toMatchObject({ code: ErrorCode.RateLimited, ref: 'over' });

    const b = await authed(nodes[2]!.url, bob);
    const got = [await b.client.next('mail'), await b.client.next('mail')];
    expect(got.map((m) => m.body)).toEqual([{ n: 2 }, { n: 3 }]);
    expect((await answersUntilNow(b.client, 'rest')).filter((m) => m.type === 'mail')).toEqual([]);
  });

  it('answers unavailable (never a silent loss) while Redis is down, and stores again once it is back', async () => {
    const { nodes, redis } = await fixture.start(2);
    const bobIdentity = await createIdentity();
    const alice = await authed(nodes[0]!.url);
    await redis.stop();
    alice.client.send({ type: 'mail', to: bobIdentity.id, body: { lost: false }, ref: 'down' });
    expect(await alice.client.nextError()).toMatchObject({ code: ErrorCode.Unavailable, ref: 'down' });
    await redis.launch();
    // The command connection reconnects on its own; mail is accepted again once it has.
    let answer: ServerMessage | undefined;
    for (let attempt = 0; attempt < 100; attempt++) {
      alice.client.send({ type: 'mail', to: bobIdentity.id, body: { attempt }, ref: `up${attempt}` });
      [answer] = await answersUntilNow(alice.client, `u${attempt}`);
      if (answer?.type === 'mail-queued') break;
      expect(answer).toMatchObject({ type: 'error', code: ErrorCode.Unavailable });
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(answer).toMatchObject({ type: 'mail-queued' });
    const bob = await authed(nodes[1]!.url, bobIdentity);
    expect(await bob.client.next('mail')).toMatchObject({ from: alice.identity.id });
  });
});
