// A bounded, seeded fuzz run of malformed input against one relay, after which an honest pair must still
// authenticate, see each other, signal and relay a frame — and the relay must not have hit an internal error.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_CONTROL_BYTES, MAX_FRAME_BYTES, encodeChannelFrame } from '../../../signaling/protocol/index.js';
import { RawClient, connectAs, createIdentity, watchGrant, type TestIdentity } from '../../helpers/relay/raw-client.js';
import { relayFixture } from '../../helpers/relay/test-relay.js';

const fixture = relayFixture();
const SEED = 0x9a41e7;
const FRAMES = 2_000;
const TIME_BUDGET_MS = 60_000;

/** mulberry32: small, fast, reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Frame = { data: string | Buffer; binary: boolean };

function makeFuzzer(seed: number, knownIds: string[]) {
  const rand = prng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const bytes = (n: number) => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = int(256);
    return b;
  };
  const weird = (): unknown =>
    pick<unknown>([
      null,
      true,
      -1,
      0,
      -0,
      1e308,
      -1e308,
      2 ** 53 + 1,
      0xffffffff + 1,
      1.5,
      '',
      'x'.repeat(int(300)),
      [],
      {},
      [[[]]],
      JSON.parse('{"__proto__":{"polluted":true}}'),
      'A'.repeat(43),
      pick(knownIds),
      '\u0000',
      '\ud800',
      '🙂'.repeat(20),
    ]);
  const types = [
    'hello',
    'auth',
    'subscribe',
    'unsubscribe',
    'signal',
    'channel-open',
    'channel-close',
    'ping',
    'mail',
    'mail-ack',
  ];
  const generators: (() => Frame)[] = [
    () => ({ data: bytes(int(64)), binary: true }),
    () => ({ data: bytes(4 + int(2000)), binary: true }),
    () => ({ data: Buffer.from(encodeChannelFrame(1 + int(0xfffffffe), bytes(int(100)))), binary: true }),
    () => ({ data: bytes(int(80)).toString('latin1'), binary: false }),
    () => ({
      data: JSON.stringify({ type: pick(types), v: weird(), alg: weird(), pub: weird(), sig: weird() }),
      binary: false,
    }),
    () => ({
      data: JSON.stringify({
        type: pick(types),
        ids: [weird(), weird()],
        to: weird(),
        tag: weird(),
        channel: weird(),
        data: weird(),
      }),
      binary: false,
    }),
    () => ({
      data: JSON.stringify({ type: 'signal', to: pick(knownIds), data: { from: 'me', deep: weird() }, ref: weird() }),
      binary: false,
    }),
    () => ({
      data: `{"type":"channel-close","channel":${pick(['1e999', '-1e999', '4294967296', '1.0000001', '9'.repeat(400), '-0'])}}`,
      binary: false,
    }),
    () => ({
      data: `{"type":"hello","v":${pick(['1e400', '1', '2', '-1', '0.5', '"1"'])},"alg":"Ed25519","pub":"${'A'.repeat(43)}"}`,
      binary: false,
    }),
    () => ({ data: '{"type":"signal","data":' + '['.repeat(10 + int(5000)) + ']'.repeat(int(3)), binary: false }),
    () => ({ data: '{"a":'.repeat(33 + int(100)) + '1' + '}'.repeat(33), binary: false }),
    () => ({ data: JSON.stringify({ type: `x-${int(1e9)}`, payload: weird() }), binary: false }),
    () => ({ data: JSON.stringify(pick([[], 1, 'str', null, true])), binary: false }),
    () => ({
      data:
        '{"__proto__":{"type":"ping"},"constructor":{"prototype":{"x":1}},"type":"subscribe","ids":["' +
        'B'.repeat(43) +
        '"]}',
      binary: false,
    }),
    () => ({ data: JSON.stringify({ type: 'ping', pad: 'p'.repeat(MAX_CONTROL_BYTES + int(1000)) }), binary: false }),
    () => ({ data: pick(['', ' ', '{', '}', '{"type":', 'null', '"type"', '{"type":"ping"']), binary: false }),
  ];
  return (): Frame => {
    // Frames above maxPayload close the connection: keep them rare.
    if (int(200) === 0) return { data: bytes(MAX_FRAME_BYTES + 1 + int(100)), binary: rand() < 0.5 };
    return pick(generators)();
  };
}

interface Slot {
  client: RawClient | null;
  identity: TestIdentity | null; // null: stays unauthenticated
}

describe('relay fuzz', () => {
  it(`survives ${FRAMES} malformed frames (seed ${SEED}) and still serves an honest pair`, async () => {
    const relay = await fixture.start({ limits: { messagesPerSecond: 5_000, messageBurst: 5_000, maxViolations: 40 } });
    const victims = await Promise.all([createIdentity(), createIdentity()]);
    const slots: Slot[] = [
      { client: null, identity: null },
      { client: null, identity: null },
      { client: null, identity: await createIdentity() },
      { client: null, identity: await createIdentity('P-256') },
    ];
    const next = makeFuzzer(SEED, [
      ...victims.map((v) => v.id),
      ...slots.flatMap((s) => (s.identity ? [s.identity.id] : [])),
    ]);
    const invalid: string[] = [];
    let reconnects = 0;

    async function ensure(slot: Slot): Promise<RawClient> {
      if (slot.client && slot.client.ws.readyState === slot.client.ws.OPEN) return slot.client;
      if (slot.client) invalid.push(...slot.client.invalid);
      reconnects++;
      const client = fixture.track(await RawClient.open(relay.url));
      if (slot.identity) await client.authenticate(slot.identity);
      else await client.next('challenge');
      slot.client = client;
      return client;
    }

    const started = Date.now();
    let sent = 0;
    while (sent < FRAMES && Date.now() - started < TIME_BUDGET_MS) {
      for (const slot of slots) {
        const client = await ensure(slot);
        for (let i = 0; i < 25 && sent < FRAMES; i++, sent++) {
          const frame = next();
          if (client.ws.readyState !== client.ws.OPEN) break;
          client.ws.send(frame.data, { binary: frame.binary });
        }
      }
      // Let the relay answer before the next round, so violations and closes actually happen.
      for (const slot of slots) {
        const c = slot.client;
        if (c && c.ws.readyState === c.ws.OPEN && slot.identity) {
          c.send({ type: 'ping', ref: 'sync' });
          await c.next('pong', 10_000).catch(() => undefined); // may be closed meanwhile: the next round reconnects
        }
      }
    }
    for (const slot of slots) if (slot.client) invalid.push(...slot.client.invalid);

    expect(sent).toBeGreaterThanOrEqual(Math.min(FRAMES, 500));
    expect(reconnects).toBeGreaterThan(slots.length); // the fuzz did get connections closed
    expect(invalid).toEqual([]); // every relay reply was a valid protocol message
    const afterFuzz = relay.stats();
    expect(afterFuzz.internalErrors).toBe(0);
    expect(afterFuzz.violations).toBeGreaterThan(100);

    // The honest pair.
    const alice = await connectAs(relay.url, victims[0]);
    const bob = await connectAs(relay.url, victims[1]);
    fixture.track(alice.client);
    fixture.track(bob.client);
    alice.client.send({ type: 'subscribe', grants: [await watchGrant(bob.identity, alice.identity.id)] });
    expect(await alice.client.next('presence')).toMatchObject({ id: bob.identity.id, online: true });
    alice.client.send({ type: 'signal', to: bob.identity.id, data: { hello: 'bob' } });
    expect(await bob.client.next('signal')).toMatchObject({ from: alice.identity.id, data: { hello: 'bob' } });
    alice.client.send({ type: 'channel-open', to: bob.identity.id, tag: 'after-fuzz' });
    bob.client.send({ type: 'channel-open', to: alice.identity.id, tag: 'after-fuzz' });
    const { channel } = await alice.client.next('channel-ready');
    await bob.client.next('channel-ready');
    const payload = randomBytes(4096);
    alice.client.sendRaw(Buffer.from(encodeChannelFrame(channel, payload)));
    expect((await bob.client.nextFrame()).subarray(4).equals(payload)).toBe(true);
    expect(relay.stats().internalErrors).toBe(0);
    // Bookkeeping survived too: once the fuzzers are gone only the pair is counted.
    await Promise.all(slots.map((s) => s.client?.close()));
    await expect.poll(() => relay.stats().connections).toBe(2);
    expect(relay.stats()).toMatchObject({ authenticated: 2, identities: 2, channels: 1, pausedConnections: 0 });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
