// Attacks on the relay's capacity by anyone who can reach it (issue 12.1, 12.2): sockets that send nothing,
// headers sent a byte at a time, many sockets from one address, and unauthenticated WebSockets that sit there.
// Each is performed with real sockets against a real relay on loopback.
import { afterAll, describe, expect, it } from 'vitest';
import { CloseCode, ErrorCode } from '../../../signaling/protocol/index.js';
import { RawClient, connectAs, createIdentity } from '../../helpers/relay/raw-client.js';
import {
  openRawSocket,
  responseStatus,
  upgradeRequest,
  within,
  type RawSocket,
} from '../../helpers/relay/raw-socket.js';
import { relayFixture } from '../../helpers/relay/test-relay.js';

const fixture = relayFixture();
/** Far above every deadline these tests configure, far below the minutes the relay used to keep such sockets. */
const BOUND_MS = 10_000;

const rawSockets: RawSocket[] = [];
afterAll(() => {
  for (const raw of rawSockets) raw.socket.destroy();
});

function track(raw: RawSocket): RawSocket {
  rawSockets.push(raw);
  return raw;
}

describe('idle and slow sockets (12.1)', () => {
  it('closes a TCP connection that sends nothing', async () => {
    const relay = await fixture.start({ limits: { requestHeadTimeoutMs: 300 } });
    const silent = track(await openRawSocket(relay.port));
    expect(await within(silent.closed, BOUND_MS)).toBe(true);
    expect(silent.received().length).toBe(0);
    expect(relay.stats().headTimeouts).toBe(1);
    await expect.poll(() => relay.stats().sockets).toBe(0);
  });

  it('closes a connection that sends its request headers a byte at a time (HTTP and upgrade)', async () => {
    const relay = await fixture.start({ limits: { requestHeadTimeoutMs: 300 } });
    for (const request of [
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${relay.port}\r\n`,
      upgradeRequest(`127.0.0.1:${relay.port}`).slice(0, -2),
    ]) {
      const slow = track(await openRawSocket(relay.port));
      let i = 0;
      const drip = setInterval(() => {
        if (!slow.isClosed()) slow.socket.write(i < request.length ? request[i++]! : 'X');
      }, 20);
      const closed = await within(slow.closed, BOUND_MS);
      clearInterval(drip);
      expect(closed).toBe(true);
    }
  });

  it('caps TCP connections per address, and an honest client from elsewhere still connects', async () => {
    const relay = await fixture.start({ limits: { maxSocketsPerIp: 4, requestHeadTimeoutMs: 60_000 } });
    const held = await Promise.all([1, 2, 3, 4].map(async () => track(await openRawSocket(relay.port, '127.0.0.7'))));
    const extra = track(await openRawSocket(relay.port, '127.0.0.7'));
    expect(await within(extra.closed, BOUND_MS)).toBe(true);
    expect(held.some((s) => s.isClosed())).toBe(false);
    expect(relay.stats().socketsRefused).toBe(1);
    fixture.track((await connectAs(relay.url)).client);
    // A freed place is usable again.
    held[0]!.socket.destroy();
    await expect.poll(() => relay.stats().sockets).toBe(4);
    const again = track(await openRawSocket(relay.port, '127.0.0.7'));
    again.socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${relay.port}\r\n\r\n`);
    expect(await responseStatus(again)).toBe(404);
  });

  it('caps TCP connections in total', async () => {
    const relay = await fixture.start({ limits: { maxSockets: 3, requestHeadTimeoutMs: 60_000 } });
    for (const from of ['127.0.0.11', '127.0.0.12', '127.0.0.13']) track(await openRawSocket(relay.port, from));
    const extra = track(await openRawSocket(relay.port, '127.0.0.14'));
    expect(await within(extra.closed, BOUND_MS)).toBe(true);
    expect(relay.stats()).toMatchObject({ sockets: 3, socketsRefused: 1 });
  });
});

describe('unauthenticated WebSockets (12.2)', () => {
  it('lets an honest user in while 120 silent WebSockets sit on a relay of 100 connections', async () => {
    const relay = await fixture.start({ limits: { maxConnections: 100, authTimeoutMs: 60_000 } });
    const silent: RawClient[] = [];
    for (let host = 20; host < 28; host++) {
      for (let i = 0; i < 15; i++)
        silent.push(fixture.track(await RawClient.open(relay.url, { localAddress: `127.0.0.${host}` })));
    }
    await Promise.all(silent.map((c) => c.next('challenge')));
    expect(relay.stats()).toMatchObject({ connections: 120, unauthenticated: 120, authenticated: 0 });
    const honest = await connectAs(relay.url);
    fixture.track(honest.client);
    expect(honest.ready.id).toBe(honest.identity.id);
    expect(relay.stats().authenticated).toBe(1);
  });

  it('gives unauthenticated sockets a small budget per address and in total (HTTP 503)', async () => {
    const relay = await fixture.start({
      limits: { maxUnauthenticatedPerIp: 3, maxUnauthenticated: 5, authTimeoutMs: 60_000 },
    });
    for (let i = 0; i < 3; i++) fixture.track(await RawClient.open(relay.url, { localAddress: '127.0.0.30' }));
    await expect(RawClient.open(relay.url, { localAddress: '127.0.0.30' })).rejects.toThrow(/503/);
    // Another address still gets in; authenticating frees the place for the next one.
    const other = fixture.track(await RawClient.open(relay.url, { localAddress: '127.0.0.31' }));
    fixture.track(await RawClient.open(relay.url, { localAddress: '127.0.0.32' }));
    await expect(RawClient.open(relay.url, { localAddress: '127.0.0.33' })).rejects.toThrow(/503/);
    expect(relay.stats().unauthenticatedRefused).toBe(2);
    await other.authenticate(await createIdentity());
    expect(relay.stats()).toMatchObject({ unauthenticated: 4, authenticated: 1 });
    fixture.track(await RawClient.open(relay.url, { localAddress: '127.0.0.33' }));
  });

  it('terminates a silent WebSocket at the auth deadline, without waiting for a close handshake', async () => {
    const relay = await fixture.start({ limits: { authTimeoutMs: 300 } });
    const raw = track(await openRawSocket(relay.port));
    raw.socket.write(upgradeRequest(`127.0.0.1:${relay.port}`));
    expect(await responseStatus(raw)).toBe(101);
    // This client never answers the close frame; ws would wait 30 s for it.
    expect(await within(raw.closed, BOUND_MS)).toBe(true);
    const bytes = raw.received().toString('latin1');
    expect(bytes).toContain(ErrorCode.AuthTimeout);
    expect(relay.stats()).toMatchObject({ connections: 0, unauthenticated: 0, authTimeouts: 1 });
  });

  it('still tells a well-behaved but slow client why it was closed', async () => {
    const relay = await fixture.start({ limits: { authTimeoutMs: 300 } });
    const client = fixture.track(await RawClient.open(relay.url));
    expect((await client.nextError()).code).toBe(ErrorCode.AuthTimeout);
    expect((await client.closed).code).toBe(CloseCode.AuthTimeout);
  });
});
