import { describe, expect, it } from 'vitest';
import { nextEvent, relayClients, stateIs } from '../../../helpers/relay/relay-clients.js';
import { WebSocketServer } from 'ws';
import type { RelayState } from '../../../../core/src/api.js';
import { issueWatchGrant } from '../../../../core/src/contacts/requests.js';
import { generateIdentityKeyPair, type IdentityKeyPair } from '../../../../core/src/identity/keys.js';
import { RelayError, relayHostOf } from '../../../../core/src/relay/index.js';
import { PROTOCOL_VERSION } from '../../../../signaling/protocol/index.js';

const { relay, client } = relayClients();

const newIdentity = () => generateIdentityKeyPair({ extractable: false });
/** `of`'s watch grant for `watcher`: what a contact holds after accepting. */
const grantOf = (of: IdentityKeyPair, watcher: string) => issueWatchGrant(of, watcher, Date.now() + 3600_000);

describe('relayHostOf', () => {
  it('gives host[:port] as the Host header has it', () => {
    expect(relayHostOf('ws://127.0.0.1:8787/ws')).toBe('127.0.0.1:8787');
    expect(relayHostOf('wss://Relay.Example.org/ws')).toBe('relay.example.org');
    expect(relayHostOf('ws://relay.example.org:80/ws')).toBe('relay.example.org');
    expect(relayHostOf('wss://relay.example.org:443')).toBe('relay.example.org');
    expect(() => relayHostOf('http://x')).toThrow();
    expect(() => relayHostOf('ws://user@evil/ws')).toThrow(/user info/);
  });
});

describe('RelayClient against a real relay on loopback', () => {
  it('says plainly when the relay speaks an older protocol version', async () => {
    // An old (v1) relay: it challenges with v1 and would refuse our v2 hello.
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => wss.once('listening', resolve));
    wss.on('connection', (ws) => ws.send(JSON.stringify({ type: 'challenge', v: 1, nonce: 'A'.repeat(43) })));
    try {
      const { port } = wss.address() as { port: number };
      const a = await client(`ws://127.0.0.1:${port}/ws`);
      const dropped = nextEvent(a, 'state', (s) => s.state === 'offline' && s.error !== undefined);
      a.start();
      expect((await dropped).error).toBe(
        'the relay speaks protocol version 1 and this Parley version 2: the relay needs an update',
      );
    } finally {
      await new Promise((resolve) => wss.close(resolve));
    }
  });

  it('authenticates, sees presence, forwards signals stamped with the sender', async () => {
    const r = await relay();
    const a = await client(r.url);
    const ib = await newIdentity();
    const b = await client(r.url, ib);
    a.subscribe([await grantOf(ib, a.id)]);
    a.start();
    await stateIs(a, 'online');
    const online = nextEvent(a, 'presence', (p) => p.id === b.id && p.online);
    b.start();
    await stateIs(b, 'online');
    await online;
    expect(a.isOnline(b.id)).toBe(true);

    const got = nextEvent(b, 'signal');
    await a.signal(b.id, { kind: 'test', n: 1 });
    expect(await got).toEqual({ from: a.id, data: { kind: 'test', n: 1 } });

    const offline = nextEvent(a, 'presence', (p) => p.id === b.id && !p.online);
    b.close();
    await offline;
    expect(a.isOnline(b.id)).toBe(false);
  });

  it('rejects a signal to an offline identity with a typed offline error', async () => {
    const r = await relay();
    const a = await client(r.url);
    a.start();
    await stateIs(a, 'online');
    // A contact (we hold their grant) with no device online.
    const contact = await newIdentity();
    a.subscribe([await grantOf(contact, a.id)]);
    const nobody = contact.id;
    const error = await a.signal(nobody, { x: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RelayError);
    expect((error as RelayError).code).toBe('offline');
    // The next signal to someone online still succeeds: the failure was per signal.
    const b = await client(r.url);
    b.start();
    await stateIs(b, 'online');
    await expect(a.signal(b.id, { y: 2 })).resolves.toBeUndefined();
  });

  it('reconnects with backoff after the relay restarts, resubscribes, and delivers signals queued meanwhile', async () => {
    const first = await relay();
    const port = first.port;
    // A waits out a long backoff (then reconnectNow), so B is back first and the queued signal has a target.
    const a = await client(first.url, undefined, { backoff: { initialMs: 60_000, maxMs: 60_000 } });
    const ib = await newIdentity();
    const b = await client(first.url, ib);
    a.subscribe([await grantOf(ib, a.id)]);
    a.start();
    b.start();
    await Promise.all([stateIs(a, 'online'), stateIs(b, 'online')]);
    const statesB: RelayState[] = [];
    b.on('state', (s) => statesB.push(s.state));

    await first.close();
    await Promise.all([stateIs(a, 'offline'), stateIs(b, 'offline')]);
    const receivedAtB = nextEvent(b, 'signal', (s) => s.data.queued === true);
    const queued = a.signal(b.id, { queued: true });

    await relay({ port });
    await stateIs(b, 'online'); // on its own, after backoff
    expect(statesB).toEqual(expect.arrayContaining(['offline', 'connecting', 'online']));
    const backOnline = nextEvent(a, 'presence', (p) => p.id === b.id && p.online);
    a.reconnectNow();
    await stateIs(a, 'online');
    await backOnline; // presence arrives only because the subscription was renewed
    await expect(queued).resolves.toBeUndefined();
    expect((await receivedAtB).from).toBe(a.id);
  });

  it('bounds the queue while offline: overflow and timeouts fail explicitly, close() fails the rest', async () => {
    const target = (await generateIdentityKeyPair({ extractable: false })).id;
    // Nothing listens on this port: the client keeps retrying.
    const dead = await relay();
    const url = dead.url;
    await dead.close();
    const a = await client(url, undefined, { maxQueued: 2, queueTimeoutMs: 200 });
    a.start();
    const p1 = a.signal(target, { n: 1 });
    const p2 = a.signal(target, { n: 2 });
    const p3 = a.signal(target, { n: 3 });
    await expect(p3).rejects.toMatchObject({ code: 'queue-full' });
    await expect(p1).rejects.toMatchObject({ code: 'timeout' });
    await expect(p2).rejects.toMatchObject({ code: 'timeout' });

    const b = await client(url, undefined, { queueTimeoutMs: 60_000 });
    b.start();
    const held = b.signal(target, { n: 4 });
    const channel = b.openChannel(target, 'tag1');
    b.close();
    await expect(held).rejects.toMatchObject({ code: 'closed' });
    await expect(channel).rejects.toMatchObject({ code: 'closed' });
    expect(b.state).toBe('offline');
  });

  it('opens a channel when both sides ask, carries bytes both ways, and reports drain after a burst', async () => {
    const r = await relay();
    const a = await client(r.url);
    const b = await client(r.url);
    a.start();
    b.start();
    await Promise.all([stateIs(a, 'online'), stateIs(b, 'online')]);
    const [ca, cb] = await Promise.all([a.openChannel(b.id, 'sess-1'), b.openChannel(a.id, 'sess-1')]);
    expect(ca.channel).toBe(cb.channel);
    expect(ca.peer).toBe(b.id);
    expect(cb.tag).toBe('sess-1');

    const total = 64;
    const chunk = 256 * 1024;
    let received = 0;
    let bytes = 0;
    const all = new Promise<void>((resolve) =>
      cb.onFrame((m) => {
        expect(m[0]).toBe(received & 0xff);
        received++;
        bytes += m.length;
        if (received === total) resolve();
      }),
    );
    let drains = 0;
    ca.onDrain(() => drains++);
    for (let i = 0; i < total; i++) ca.send(new Uint8Array(chunk).fill(i & 0xff));
    expect(ca.bufferedAmount).toBeGreaterThan(256 * 1024);
    await all;
    expect(bytes).toBe(total * chunk);
    expect(drains).toBeGreaterThan(0);

    const back = new Promise<Uint8Array>((resolve) => ca.onFrame(resolve));
    cb.send(new Uint8Array([9, 8, 7]));
    expect([...(await back)]).toEqual([9, 8, 7]);

    const closed = new Promise<string>((resolve) => cb.onClose(resolve));
    ca.close();
    expect((await closed).length).toBeGreaterThan(0);
    expect(() => cb.send(new Uint8Array(1))).toThrow(/closed/);
  });

  it('fails a channel open to an offline contact with a typed error', async () => {
    const r = await relay();
    const a = await client(r.url);
    const contact = await newIdentity();
    a.subscribe([await grantOf(contact, a.id)]);
    a.start();
    await stateIs(a, 'online');
    const nobody = contact.id;
    await expect(a.openChannel(nobody, 'x')).rejects.toMatchObject({ code: 'offline' });
  });

  it('closes channels when the relay connection drops', async () => {
    const r = await relay();
    const a = await client(r.url);
    const b = await client(r.url);
    a.start();
    b.start();
    await Promise.all([stateIs(a, 'online'), stateIs(b, 'online')]);
    const [ca] = await Promise.all([a.openChannel(b.id, 't'), b.openChannel(a.id, 't')]);
    const closed = new Promise<string>((resolve) => ca.onClose(resolve));
    await r.close();
    expect(await closed).toMatch(/lost|closed/);
  });

  it('ignores malformed and invalid relay messages without crashing', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => wss.once('listening', resolve));
    const port = (wss.address() as { port: number }).port;
    // After the garbage, a valid challenge: the client's hello proves it processed everything before it and survived.
    let helloSeen!: () => void;
    const hello = new Promise<void>((resolve) => (helloSeen = resolve));
    wss.on('connection', (ws) => {
      ws.on('message', (data) => {
        if (String(data).includes('"hello"')) helloSeen();
      });
      ws.send('{not json');
      ws.send(JSON.stringify({ type: 'ready', id: 'short', limits: {} }));
      ws.send(JSON.stringify({ type: 'presence', id: 42, online: 'yes' }));
      ws.send(JSON.stringify({ type: 'signal', from: 'x'.repeat(43), data: 'not an object' }));
      ws.send(JSON.stringify({ type: 'unknown-type' }));
      ws.send(Buffer.from([0, 0]));
      ws.send(JSON.stringify({ type: 'challenge', v: PROTOCOL_VERSION, nonce: 'A'.repeat(43) }));
    });
    try {
      const a = await client(`ws://127.0.0.1:${port}/ws`);
      const signals: unknown[] = [];
      a.on('signal', (s) => signals.push(s));
      a.start();
      await hello;
      expect(a.state).toBe('connecting');
      expect(signals).toEqual([]);
      a.close();
    } finally {
      for (const ws of wss.clients) ws.terminate();
      await new Promise((resolve) => wss.close(resolve));
    }
  });
});
