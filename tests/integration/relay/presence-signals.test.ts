// Presence (subscribe before/after, offline, no enumeration) and signal forwarding with a stamped sender.
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../signaling/protocol/index.js';
import { RawClient, connectAs, createIdentity, watchGrant } from '../../helpers/relay/raw-client.js';
import { relayFixture } from '../../helpers/relay/test-relay.js';

const fixture = relayFixture();

async function authed(url: string, identity?: Awaited<ReturnType<typeof createIdentity>>) {
  const r = await connectAs(url, identity);
  fixture.track(r.client);
  return r;
}

describe('relay presence', () => {
  it('reports offline then online then offline for a subscription made before the peer connects', async () => {
    const relay = await fixture.start();
    const alice = await authed(relay.url);
    const bobIdentity = await createIdentity();
    alice.client.send({ type: 'subscribe', grants: [await watchGrant(bobIdentity, alice.identity.id)] });
    expect(await alice.client.next('presence')).toEqual({ type: 'presence', id: bobIdentity.id, online: false });

    const bob = await authed(relay.url, bobIdentity);
    expect(await alice.client.next('presence')).toEqual({ type: 'presence', id: bobIdentity.id, online: true });
    // A second device of Bob changes nothing; only the last one leaving does.
    const bob2 = await authed(relay.url, bobIdentity);
    await bob.client.close();
    await bob2.client.close();
    expect(await alice.client.next('presence')).toEqual({ type: 'presence', id: bobIdentity.id, online: false });
    expect(alice.client.received.filter((m) => m.type === 'presence')).toHaveLength(3);
  });

  it('answers a subscription made after the peer connected with online at once', async () => {
    const relay = await fixture.start();
    const bob = await authed(relay.url);
    const alice = await authed(relay.url);
    const grant = await watchGrant(bob.identity, alice.identity.id);
    alice.client.send({ type: 'subscribe', grants: [grant, grant] });
    expect(await alice.client.next('presence')).toEqual({ type: 'presence', id: bob.identity.id, online: true });
    // Unsubscribed: Bob leaving is no longer reported.
    alice.client.send({ type: 'unsubscribe', ids: [bob.identity.id] });
    alice.client.send({ type: 'ping', ref: 'sync' });
    await alice.client.next('pong');
    await bob.client.close();
    const carol = await createIdentity();
    alice.client.send({ type: 'subscribe', grants: [await watchGrant(carol, alice.identity.id)] });
    expect(await alice.client.next('presence')).toEqual({ type: 'presence', id: carol.id, online: false });
    expect(alice.client.received.filter((m) => m.type === 'presence')).toHaveLength(2);
  });

  it('offers no way to list who is online', async () => {
    const relay = await fixture.start();
    await authed(relay.url);
    await authed(relay.url);
    const eve = await authed(relay.url);
    for (const type of ['list', 'who', 'presence', 'online', 'subscribe-all']) {
      eve.client.send({ type });
      const error = await eve.client.nextError();
      expect(error.code).toBe(ErrorCode.BadMessage);
    }
    // Wildcards and prefixes are not ids.
    for (const ids of [['*'], [''], ['A'.repeat(42)], []]) {
      eve.client.send({
        type: 'subscribe',
        grants: ids.map((of) => ({
          of,
          key: { alg: 'Ed25519', pub: 'A'.repeat(43) },
          to: eve.identity.id,
          exp: Date.now() + 1000,
          sig: 'A'.repeat(86),
        })),
      });
      expect((await eve.client.nextError()).code).toBe(ErrorCode.BadMessage);
    }
    expect(eve.client.received.some((m) => m.type === 'presence')).toBe(false);
    expect(eve.client.invalid).toEqual([]);
  });
});

describe('relay signals', () => {
  it('delivers to every connection of the target with the sender stamped, never the claimed one', async () => {
    const relay = await fixture.start();
    const alice = await authed(relay.url);
    const bobIdentity = await createIdentity();
    const bob1 = await authed(relay.url, bobIdentity);
    const bob2 = await authed(relay.url, bobIdentity);
    const mallory = await createIdentity();
    const data = { from: mallory.id, sdp: 'v=0\r\n' + 'x'.repeat(2000), nested: { n: [1, 2.5, null, true], s: 'é✓' } };
    alice.client.send({ type: 'signal', to: bobIdentity.id, from: mallory.id, data, ref: 'r1' });
    for (const bob of [bob1, bob2]) {
      const signal = await bob.client.next('signal');
      expect(signal.from).toBe(alice.identity.id);
      expect(signal.data).toEqual(data); // a "from" inside data is just data
    }
    expect(alice.client.received.some((m) => m.type === 'error')).toBe(false);
    expect(relay.stats().signalsForwarded).toBe(2);
  });

  it("reaches one's own other devices but not the sending connection", async () => {
    const relay = await fixture.start();
    const me = await createIdentity();
    const phone = await authed(relay.url, me);
    const laptop = await authed(relay.url, me);
    phone.client.send({ type: 'signal', to: me.id, data: { hi: 1 } });
    expect(await laptop.client.next('signal')).toMatchObject({ from: me.id, data: { hi: 1 } });
    laptop.client.send({ type: 'ping' });
    await laptop.client.next('pong');
    expect(phone.client.received.some((m) => m.type === 'signal')).toBe(false);
    await laptop.client.close();
    phone.client.send({ type: 'signal', to: me.id, data: { hi: 2 }, ref: 'self' });
    expect(await phone.client.nextError()).toMatchObject({ code: ErrorCode.Offline, ref: 'self', to: me.id });
  });

  it('answers a signal to an offline contact with an offline error carrying ref and to', async () => {
    const relay = await fixture.start();
    const alice = await authed(relay.url);
    const ghost = await createIdentity();
    alice.client.send({ type: 'subscribe', grants: [await watchGrant(ghost, alice.identity.id)] });
    alice.client.send({ type: 'signal', to: ghost.id, data: { offer: 1 }, ref: 'abc' });
    expect(await alice.client.nextError()).toEqual({
      type: 'error',
      code: ErrorCode.Offline,
      message: expect.any(String),
      ref: 'abc',
      to: ghost.id,
    });
  });

  it('rejects signals whose data is not an object, naming the field', async () => {
    const relay = await fixture.start();
    const alice = await authed(relay.url);
    const bob = await authed(relay.url);
    for (const data of ['text', 42, null, [1, 2]]) {
      alice.client.send({ type: 'signal', to: bob.identity.id, data, ref: 'bad' });
      const error = await alice.client.nextError();
      expect(error).toMatchObject({ code: ErrorCode.BadMessage, ref: 'bad' });
      expect(error.message).toContain('data');
    }
    expect(bob.client.received.some((m) => m.type === 'signal')).toBe(false);
  });

  it('keeps an honest pair working while a third client misbehaves', async () => {
    const relay = await fixture.start();
    const alice = await authed(relay.url);
    const bob = await authed(relay.url);
    const noisy = fixture.track(await RawClient.open(relay.url));
    noisy.sendRaw('{not json');
    alice.client.send({ type: 'signal', to: bob.identity.id, data: { ok: true } });
    expect((await bob.client.next('signal')).data).toEqual({ ok: true });
    expect((await noisy.nextError()).code).toBe(ErrorCode.BadMessage);
  });
});
