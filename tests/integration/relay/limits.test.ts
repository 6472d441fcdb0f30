// Every limit: an error code first, a close when it persists, and other clients undisturbed.
import { describe, expect, it } from 'vitest';
import {
  CloseCode,
  ErrorCode,
  MAX_CONTROL_BYTES,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
} from '../../../signaling/protocol/index.js';
import { RawClient, connectAs, createIdentity, watchGrant } from '../../helpers/relay/raw-client.js';
import { relayFixture } from '../../helpers/relay/test-relay.js';

const fixture = relayFixture();

async function authed(url: string) {
  const r = await connectAs(url);
  fixture.track(r.client);
  return r;
}

describe('relay limits', () => {
  it('refuses connections beyond maxConnections with server-full and ServerFull', async () => {
    const relay = await fixture.start({ limits: { maxConnections: 2 } });
    await authed(relay.url);
    const second = await authed(relay.url);
    const third = fixture.track(await RawClient.open(relay.url));
    expect((await third.nextError()).code).toBe(ErrorCode.ServerFull);
    expect((await third.closed).code).toBe(CloseCode.ServerFull);
    // A freed slot is usable again.
    await second.client.close();
    await expect.poll(() => relay.stats().connections).toBe(1);
    await authed(relay.url);
  });

  it('bounds subscriptions per connection', async () => {
    const relay = await fixture.start({ limits: { maxSubscriptionsPerConnection: 3 } });
    const { client, identity } = await authed(relay.url);
    const contacts = await Promise.all([1, 2, 3, 4].map(() => createIdentity()));
    const ids = contacts.map((c) => c.id);
    const grants = await Promise.all(contacts.map((c) => watchGrant(c, identity.id)));
    client.send({ type: 'subscribe', grants });
    expect((await client.nextError()).code).toBe(ErrorCode.TooManySubscriptions);
    expect(client.received.some((m) => m.type === 'presence')).toBe(false);
    client.send({ type: 'subscribe', grants: grants.slice(0, 3) });
    for (let i = 0; i < 3; i++) await client.next('presence');
    client.send({ type: 'subscribe', grants: grants.slice(3) });
    expect((await client.nextError()).code).toBe(ErrorCode.TooManySubscriptions);
    // Re-subscribing to a watched id costs nothing; unsubscribing frees a slot.
    client.send({ type: 'unsubscribe', ids: [ids[0]!] });
    client.send({ type: 'subscribe', grants: [grants[3]!, grants[1]!] });
    expect(await client.next('presence')).toMatchObject({ id: ids[3] });
  });

  it('bounds channels (open or pending) per connection', async () => {
    const relay = await fixture.start({ limits: { maxChannelsPerConnection: 2 } });
    const a = await authed(relay.url);
    const b = await authed(relay.url);
    a.client.send({ type: 'channel-open', to: b.identity.id, tag: 'c1' });
    b.client.send({ type: 'channel-open', to: a.identity.id, tag: 'c1' });
    await a.client.next('channel-ready');
    a.client.send({ type: 'channel-open', to: b.identity.id, tag: 'c2' });
    a.client.send({ type: 'channel-open', to: b.identity.id, tag: 'c3' });
    expect(await a.client.nextError()).toMatchObject({ code: ErrorCode.TooManyChannels, tag: 'c3' });
    expect(relay.stats()).toMatchObject({ channels: 1, pendingChannelOpens: 1 });
  });

  it('rate-limits control messages: errors first, then a RateLimited close', async () => {
    const relay = await fixture.start({ limits: { messagesPerSecond: 5, messageBurst: 5, maxViolations: 3 } });
    const bystander = await authed(relay.url);
    const { client } = await authed(relay.url);
    for (let i = 0; i < 20; i++) client.send({ type: 'ping', ref: `p${i}` });
    const error = await client.nextError();
    expect(error.code).toBe(ErrorCode.RateLimited);
    expect((await client.closed).code).toBe(CloseCode.RateLimited);
    // The burst was served; the rest was refused, never silently.
    expect(client.received.filter((m) => m.type === 'pong').length).toBeLessThanOrEqual(5);
    expect(client.received.filter((m) => m.type === 'error').length).toBe(3);
    bystander.client.send({ type: 'ping', ref: 'still-here' });
    expect(await bystander.client.next('pong')).toMatchObject({ ref: 'still-here' });
    expect(relay.stats().rateLimited).toBeGreaterThanOrEqual(3);
  });

  it('answers an oversized control message with too-large and keeps the connection', async () => {
    const relay = await fixture.start();
    const { client } = await authed(relay.url);
    client.sendRaw(JSON.stringify({ type: 'ping', pad: 'x'.repeat(MAX_CONTROL_BYTES) }));
    expect((await client.nextError()).code).toBe(ErrorCode.TooLarge);
    client.send({ type: 'ping', ref: 'ok' });
    expect(await client.next('pong')).toMatchObject({ ref: 'ok' });
  });

  it('closes a connection sending a frame above maxPayload (1009) without disturbing others', async () => {
    const relay = await fixture.start();
    const bystander = await authed(relay.url);
    const { client } = await authed(relay.url);
    client.sendRaw(Buffer.alloc(MAX_FRAME_BYTES + 1));
    expect((await client.closed).code).toBe(1009);
    bystander.client.send({ type: 'ping', ref: 'alive' });
    expect(await bystander.client.next('pong')).toMatchObject({ ref: 'alive' });
  });

  it('rejects JSON nested deeper than 32 before parsing it', async () => {
    const relay = await fixture.start();
    const { client } = await authed(relay.url);
    const deep = `{"type":"signal","to":"x","data":${'['.repeat(40)}${']'.repeat(40)}}`;
    client.sendRaw(deep);
    expect(await client.nextError()).toMatchObject({
      code: ErrorCode.BadMessage,
      message: expect.stringContaining('nested'),
    });
    // Brackets inside strings are not nesting.
    client.send({ type: 'ping', ref: '[[[[' + '['.repeat(40).slice(0, 30) });
    expect((await client.next('pong')).ref).toContain('[[[[');
  });

  it('closes after maxViolations bad messages with BadMessage', async () => {
    const relay = await fixture.start({ limits: { maxViolations: 4 } });
    const { client } = await authed(relay.url);
    for (let i = 0; i < 4; i++) client.sendRaw('nope');
    expect((await client.closed).code).toBe(CloseCode.BadMessage);
    expect(client.received.filter((m) => m.type === 'error')).toHaveLength(4);
    expect(relay.stats().closedForViolations).toBe(1);
  });

  it('terminates connections that stop answering pings, keeps those that do', async () => {
    const relay = await fixture.start({ limits: { heartbeatMs: 250 } });
    const healthy = await authed(relay.url);
    const dead = fixture.track(await RawClient.open(relay.url, { autoPong: false }));
    await dead.authenticate(await createIdentity());
    const closed = await dead.closed;
    expect(closed.code).toBe(1006); // terminated: no close handshake with a dead peer
    expect(relay.stats().heartbeatTerminations).toBe(1);
    healthy.client.send({ type: 'ping', ref: 'hb' });
    expect(await healthy.client.next('pong')).toMatchObject({ ref: 'hb' });
  });

  it('refuses binary frames and hello/auth repeats on an authenticated connection as violations', async () => {
    const relay = await fixture.start();
    const { client, identity } = await authed(relay.url);
    client.send({ type: 'hello', v: PROTOCOL_VERSION, alg: identity.alg, pub: identity.pub });
    expect(await client.nextError()).toMatchObject({
      code: ErrorCode.BadMessage,
      message: expect.stringContaining('already'),
    });
    client.sendRaw(Buffer.from([0, 0, 0, 9, 1, 2, 3]));
    expect((await client.nextError()).code).toBe(ErrorCode.UnknownChannel);
  });
});
