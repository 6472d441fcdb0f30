// Graceful shutdown, the WebSocket settings, and logs that never carry payloads.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ErrorCode, encodeChannelFrame } from '../../../signaling/protocol/index.js';
import { startRelay, type RelayLogger } from '../../../signaling/server/index.js';
import { RawClient, connectAs } from '../../helpers/relay/raw-client.js';
import { relayFixture } from '../../helpers/relay/test-relay.js';

const fixture = relayFixture();

describe('relay lifecycle', () => {
  it('closes every client with 1001, stops listening, and close() is idempotent', async () => {
    const relay = await startRelay({ port: 0, logger: captureLogger().logger });
    const authed = await connectAs(relay.url);
    const peer = await connectAs(relay.url);
    authed.client.send({ type: 'channel-open', to: peer.identity.id, tag: 'bye' });
    peer.client.send({ type: 'channel-open', to: authed.identity.id, tag: 'bye' });
    await authed.client.next('channel-ready');
    const handshaking = await RawClient.open(relay.url);
    await handshaking.next('challenge');

    const first = relay.close();
    expect(relay.close()).toBe(first);
    await first;
    for (const c of [authed.client, peer.client, handshaking]) expect((await c.closed).code).toBe(1001);
    expect(relay.stats()).toMatchObject({ connections: 0, authenticated: 0, channels: 0, identities: 0 });
    const refused = await new Promise<string>((resolve) => {
      const s = connect(relay.port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve('connected')));
      s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
  });

  it('negotiates no compression and announces its limits in ready', async () => {
    const relay = await fixture.start({
      limits: { maxSubscriptionsPerConnection: 7, maxChannelsPerConnection: 3, heartbeatMs: 12_345 },
    });
    const { client, ready } = await connectAs(relay.url);
    fixture.track(client);
    expect(client.ws.extensions).toBe('');
    expect(ready.limits).toEqual({
      maxControlBytes: 64 * 1024,
      maxChannelPayload: 256 * 1024 + 1024,
      maxSubscriptions: 7,
      maxChannels: 3,
      heartbeatMs: 12_345,
    });
    expect(relay.limits.maxSubscriptionsPerConnection).toBe(7);
  });

  it('never logs payloads, even of bad or failing messages', async () => {
    const SECRET = 'S3CR3T-PAYLOAD-MARKER';
    const capture = captureLogger();
    const relay = await fixture.start({ logger: capture.logger, limits: { maxViolations: 3 } });
    const a = await connectAs(relay.url);
    const b = await connectAs(relay.url);
    fixture.track(a.client);
    fixture.track(b.client);
    a.client.send({ type: 'signal', to: b.identity.id, data: { sdp: SECRET } });
    expect((await b.client.next('signal')).data).toEqual({ sdp: SECRET });
    a.client.send({ type: 'channel-open', to: b.identity.id, tag: 't' });
    b.client.send({ type: 'channel-open', to: a.identity.id, tag: 't' });
    const { channel } = await a.client.next('channel-ready');
    a.client.sendRaw(Buffer.from(encodeChannelFrame(channel, Buffer.from(SECRET))));
    expect((await b.client.nextFrame()).subarray(4).toString()).toBe(SECRET);
    a.client.sendRaw(`{"type":"${SECRET}"}`);
    expect((await a.client.nextError()).code).toBe(ErrorCode.BadMessage);
    a.client.sendRaw(`${SECRET} not json`);
    a.client.sendRaw(`{"type":"signal","to":"${SECRET}"}`);
    expect((await a.client.closed).code).toBe(4400);
    expect(capture.lines.length).toBeGreaterThan(3); // it did log: connections, violations, closes
    expect(capture.lines.join('\n')).not.toContain(SECRET);
  });
});

/** A pino-compatible logger keeping every entry (all levels) as JSON text. */
function captureLogger(): { logger: RelayLogger; lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push(JSON.stringify({ level, ...obj, msg }));
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}
