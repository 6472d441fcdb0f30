// Issue 12.4 (presence is public) and 14.5 (contact requests never reveal presence), as an attacker tries them
// with real ws clients against a real relay on loopback: a self-made identity that knows Bob's id must learn
// nothing about when Bob is online, and contact mail must get the same answer whether Bob is online or not.
import { describe, expect, it } from 'vitest';
import { CloseCode, ErrorCode, type ServerMessage } from '../../../signaling/protocol/index.js';
import { RawClient, connectAs, createIdentity, watchGrant, type TestIdentity } from '../../helpers/relay/raw-client.js';
import { relayFixture } from '../../helpers/relay/test-relay.js';
import { answersUntilNow } from './barriers.js';

const fixture = relayFixture();

async function authed(url: string, identity?: TestIdentity) {
  const r = await connectAs(url, identity);
  fixture.track(r.client);
  return r;
}

/** Answers to a message, without the ref/id fields that differ by design. */
function shapes(messages: ServerMessage[]): string[] {
  return messages.map((m) =>
    JSON.stringify({ ...m, ref: undefined, to: undefined, message: undefined, id: undefined }),
  );
}

describe('presence is only for contacts', () => {
  it('a stranger who knows Bob id cannot watch him: v1 subscribe, forged, foreign, expired and misdirected grants all fail', async () => {
    const relay = await fixture.start();
    const bobIdentity = await createIdentity();
    const carol = await createIdentity();
    const eve = await authed(relay.url);
    const other = await createIdentity();
    const real = await watchGrant(bobIdentity, carol.id); // Bob's grant for Carol, leaked to Eve
    const attempts = [
      { type: 'subscribe', ids: [bobIdentity.id] }, // the v1 form: anyone could watch anyone
      { type: 'subscribe', grants: [real] }, // names Carol, not Eve
      { type: 'subscribe', grants: [{ ...real, to: eve.identity.id }] }, // re-addressed: signature breaks
      { type: 'subscribe', grants: [await watchGrant(bobIdentity, eve.identity.id, -1000)] }, // expired
      { type: 'subscribe', grants: [{ ...(await watchGrant(other, eve.identity.id)), of: bobIdentity.id }] }, // Eve's friend's key
      {
        type: 'subscribe',
        grants: [{ ...(await watchGrant(bobIdentity, eve.identity.id)), exp: Date.now() + 400 * 24 * 3600_000 }],
      },
    ];
    for (const msg of attempts) eve.client.send(msg);
    await answersUntilNow(eve.client, 'sync');
    // Bob comes and goes; Eve hears nothing about it.
    const bob = await authed(relay.url, bobIdentity);
    await bob.client.close();
    await authed(relay.url, bobIdentity);
    await answersUntilNow(eve.client, 'sync2');
    expect(eve.client.received.filter((m) => m.type === 'presence')).toEqual([]);
    const errors = eve.client.received.filter((m) => m.type === 'error');
    expect(errors[0]).toMatchObject({ code: ErrorCode.BadMessage });
    expect(errors.slice(1).map((e) => e.code)).toEqual(Array(5).fill(ErrorCode.WatchDenied));
    expect(relay.stats().watchedIdentities).toBe(0);
  });

  it('a contact holding Bob grant sees him come and go', async () => {
    const relay = await fixture.start();
    const bobIdentity = await createIdentity();
    const alice = await authed(relay.url);
    alice.client.send({ type: 'subscribe', grants: [await watchGrant(bobIdentity, alice.identity.id)] });
    expect(await alice.client.next('presence')).toEqual({ type: 'presence', id: bobIdentity.id, online: false });
    const bob = await authed(relay.url, bobIdentity);
    expect(await alice.client.next('presence')).toEqual({ type: 'presence', id: bobIdentity.id, online: true });
    await bob.client.close();
    expect(await alice.client.next('presence')).toEqual({ type: 'presence', id: bobIdentity.id, online: false });
  });

  it('a stranger signal gets the same (no) answer whether Bob is online or offline; a contact still hears "offline"', async () => {
    const relay = await fixture.start();
    const bobIdentity = await createIdentity();
    const eve = await authed(relay.url);
    eve.client.send({ type: 'signal', to: bobIdentity.id, data: { probe: 1 }, ref: 'p1' });
    const whileOffline = await answersUntilNow(eve.client, 's1');
    const bob = await authed(relay.url, bobIdentity);
    eve.client.send({ type: 'signal', to: bobIdentity.id, data: { probe: 2 }, ref: 'p2' });
    const whileOnline = await answersUntilNow(eve.client, 's2');
    expect(whileOffline).toEqual([]);
    expect(whileOnline).toEqual(whileOffline);
    await bob.client.close();

    const alice = await authed(relay.url);
    alice.client.send({ type: 'subscribe', grants: [await watchGrant(bobIdentity, alice.identity.id)] });
    alice.client.send({ type: 'signal', to: bobIdentity.id, data: { offer: 1 }, ref: 'a1' });
    expect(await alice.client.nextError()).toMatchObject({ code: ErrorCode.Offline, ref: 'a1', to: bobIdentity.id });
  });

  it('a stranger channel-open times out the same way whether Bob is online or offline', async () => {
    const relay = await fixture.start({ limits: { channelOpenTimeoutMs: 150 } });
    const bobIdentity = await createIdentity();
    const eve = await authed(relay.url);
    eve.client.send({ type: 'channel-open', to: bobIdentity.id, tag: 'probe-offline' });
    const offline = await eve.client.nextError();
    const bob = await authed(relay.url, bobIdentity);
    eve.client.send({ type: 'channel-open', to: bobIdentity.id, tag: 'probe-online' });
    const online = await eve.client.nextError();
    expect(offline).toMatchObject({ code: ErrorCode.ChannelTimeout, tag: 'probe-offline' });
    expect(online).toMatchObject({ code: ErrorCode.ChannelTimeout, tag: 'probe-online' });
    expect(online.message.replace(/probe-\w+/, '')).toBe(offline.message.replace(/probe-\w+/, ''));
    await bob.client.close();
  });

  it('caps watches per identity across its connections, not only per connection', async () => {
    const relay = await fixture.start({ limits: { maxSubscriptionsPerConnection: 3, maxSubscriptionsPerIdentity: 4 } });
    const me = await createIdentity();
    const first = await authed(relay.url, me);
    const second = await authed(relay.url, me);
    const watched = await Promise.all([1, 2, 3, 4, 5].map(() => createIdentity()));
    const grants = await Promise.all(watched.map((w) => watchGrant(w, me.id)));
    first.client.send({ type: 'subscribe', grants: grants.slice(0, 3) });
    for (let i = 0; i < 3; i++) await first.client.next('presence');
    second.client.send({ type: 'subscribe', grants: grants.slice(3, 5) });
    expect(await second.client.nextError()).toMatchObject({ code: ErrorCode.TooManySubscriptions });
    second.client.send({ type: 'subscribe', grants: grants.slice(3, 4) });
    expect(await second.client.next('presence')).toMatchObject({ id: watched[3]!.id });
  });
});

describe('contact mail (store and forward)', () => {
  it('answers mail identically whether the recipient is online or not, and delivers it stamped when they connect', async () => {
    const relay = await fixture.start();
    const bobIdentity = await createIdentity();
    const stranger = await authed(relay.url);
    stranger.client.send({ type: 'mail', to: bobIdentity.id, body: { hello: 'while offline' }, ref: 'm1' });
    const offlineAnswer = await answersUntilNow(stranger.client, 's1');
    const bob = await authed(relay.url, bobIdentity);
    const first = await bob.client.next('mail');
    expect(first).toMatchObject({ from: stranger.identity.id, body: { hello: 'while offline' } });

    stranger.client.send({
      type: 'mail',
      to: bobIdentity.id,
      body: { hello: 'while online' },
      ref: 'm2',
      from: bobIdentity.id,
    });
    const onlineAnswer = await answersUntilNow(stranger.client, 's2');
    expect(shapes(onlineAnswer)).toEqual(shapes(offlineAnswer));
    expect(offlineAnswer).toEqual([{ type: 'mail-queued', ref: 'm1' }]);
    const second = await bob.client.next('mail');
    expect(second).toMatchObject({ from: stranger.identity.id, body: { hello: 'while online' } });

    // Unacknowledged mail comes again on the next connection; acknowledged mail does not.
    bob.client.send({ type: 'mail-ack', ids: [first.id] });
    await answersUntilNow(bob.client, 'acked');
    await bob.client.close();
    const again = await authed(relay.url, bobIdentity);
    expect(await again.client.next('mail')).toMatchObject({ id: second.id });
    expect((await answersUntilNow(again.client, 'rest')).filter((m) => m.type === 'mail')).toEqual([]);
  });

  it('rate-limits a sender by identity (the same answer for every recipient), and keeps a bounded number per pair', async () => {
    const relay = await fixture.start({ limits: { mailPerMinute: 1, mailBurst: 6, mailPerPair: 2 } });
    const bob = await createIdentity();
    const sender = await authed(relay.url);
    for (let i = 0; i < 6; i++) sender.client.send({ type: 'mail', to: bob.id, body: { n: i }, ref: `m${i}` });
    const queued = await answersUntilNow(sender.client, 'sync');
    expect(queued.map((m) => m.type)).toEqual(Array(6).fill('mail-queued'));
    sender.client.send({ type: 'mail', to: (await createIdentity()).id, body: { n: 7 }, ref: 'over' });
    expect(await sender.client.nextError()).toMatchObject({ code: ErrorCode.RateLimited, ref: 'over' });
    const b = await authed(relay.url, bob);
    const got = [await b.client.next('mail'), await b.client.next('mail')];
    expect(got.map((m) => m.body)).toEqual([{ n: 4 }, { n: 5 }]);
    expect((await answersUntilNow(b.client, 'rest')).filter((m) => m.type === 'mail')).toEqual([]);
  });

  it('refuses oversized mail bodies', async () => {
    const relay = await fixture.start();
    const sender = await authed(relay.url);
    sender.client.send({ type: 'mail', to: (await createIdentity()).id, body: { pad: 'x'.repeat(5000) }, ref: 'big' });
    expect(await sender.client.nextError()).toMatchObject({ code: ErrorCode.TooLarge, ref: 'big' });
  });
});

describe('protocol version', () => {
  it('an old (v1) client is refused with a clear version error', async () => {
    const relay = await fixture.start();
    const identity = await createIdentity();
    const client = fixture.track(await RawClient.open(relay.url));
    await client.next('challenge');
    client.send({ type: 'hello', v: 1, alg: identity.alg, pub: identity.pub });
    const error = await client.nextError();
    expect(error).toMatchObject({ code: ErrorCode.Version, message: 'relay speaks protocol version 2, client sent 1' });
    expect((await client.closed).code).toBe(CloseCode.Version);
  });
});
