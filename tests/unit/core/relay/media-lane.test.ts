// RelayClient's media lane (core/src/relay/media-lane.ts) against a real relay on loopback: media channels on
// a second connection of the same identity, which exists only while they do; the main connection and the
// presence others see are unchanged. (media-priority.test.ts measures what it is for, on a limited link.)
import { describe, expect, it } from 'vitest';
import { relayClients } from '../../../helpers/relay/relay-clients.js';
import { nodeWebSocketFactory } from '../../../../platform/node/src/websocket.js';
import type { WebSocketFactory } from '../../../../core/src/platform/types.js';
import { issueWatchGrant } from '../../../../core/src/contacts/requests.js';
import { generateIdentityKeyPair } from '../../../../core/src/identity/keys.js';
import type { RelayChannelSocket } from '../../../../core/src/relay/index.js';

const { relay, online } = relayClients();

async function roundTrip(from: RelayChannelSocket, to: RelayChannelSocket, text: string): Promise<string> {
  const got = new Promise<Uint8Array>((resolve) => {
    const off = to.onFrame((frame) => {
      off();
      resolve(frame);
    });
  });
  from.send(new TextEncoder().encode(text));
  return new TextDecoder().decode(await got);
}

/** Polls a condition that follows a relay-side event no client sees (a connection closing at the relay). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('RelayClient media lane', () => {
  it('opens media channels on a second connection, bulk ones on the first, and drops the second after its last channel', async () => {
    const r = await relay();
    const lane = { lingerMs: 50 };
    const a = await online(r.url, undefined, { mediaLane: lane });
    const b = await online(r.url, undefined, { mediaLane: lane });
    expect(r.stats().authenticated).toBe(2);
    const [bulkA, bulkB] = await Promise.all([a.openChannel(b.id, 'files'), b.openChannel(a.id, 'files')]);
    expect(a.mediaConnection).toBeNull();
    const [mediaA, mediaB] = await Promise.all([
      a.openChannel(b.id, 'cm.1', { priority: 'media' }),
      b.openChannel(a.id, 'cm.1', { priority: 'media' }),
    ]);
    expect(a.mediaConnection?.state).toBe('online');
    expect(b.mediaConnection?.state).toBe('online');
    expect(r.stats().authenticated).toBe(4);
    expect(mediaA.channel).not.toBe(bulkA.channel);
    expect(await roundTrip(mediaA, mediaB, 'frame')).toBe('frame');
    expect(await roundTrip(bulkB, bulkA, 'chunk')).toBe('chunk');
    // The media channel's buffer is its own connection's, not the bulk's.
    for (let i = 0; i < 16; i++) bulkA.send(new Uint8Array(256 * 1024));
    expect(bulkA.bufferedAmount).toBeGreaterThan(0);
    expect(mediaA.bufferedAmount).toBe(0);

    mediaA.close();
    await until(() => a.mediaConnection === null && b.mediaConnection === null);
    await until(() => r.stats().authenticated === 2);
    // The bulk channel lives on.
    expect(await roundTrip(bulkB, bulkA, 'still here')).toBe('still here');
  });

  it("the lane's connection comes from its own socket factory (the browser's lives in a worker); the main one does not", async () => {
    const r = await relay();
    const urls: string[] = [];
    const laneSockets: WebSocketFactory = (url) => {
      urls.push(url);
      return nodeWebSocketFactory(url);
    };
    const a = await online(r.url, undefined, { mediaLane: { lingerMs: 50, webSocket: laneSockets } });
    const b = await online(r.url);
    expect(urls).toEqual([]);
    await Promise.all([a.openChannel(b.id, 'files'), b.openChannel(a.id, 'files')]);
    expect(urls).toEqual([]);
    const [mediaA, mediaB] = await Promise.all([
      a.openChannel(b.id, 'cm.3', { priority: 'media' }),
      b.openChannel(a.id, 'cm.3', { priority: 'media' }),
    ]);
    expect(urls).toEqual([r.url]);
    expect(await roundTrip(mediaA, mediaB, 'frame')).toBe('frame');
  });

  it('presence others see does not change when the lane comes and goes', async () => {
    const r = await relay();
    const aliceKey = await generateIdentityKeyPair({ extractable: false });
    const a = await online(r.url, aliceKey, { mediaLane: { lingerMs: 20 } });
    const b = await online(r.url, undefined, { mediaLane: { lingerMs: 20 } });
    const changes: boolean[] = [];
    b.on('presence', ({ online: on }) => changes.push(on));
    b.subscribe([await issueWatchGrant(aliceKey, b.id, Date.now() + 3600_000)]);
    await until(() => b.isOnline(a.id));
    const [media] = await Promise.all([
      a.openChannel(b.id, 'cm.2', { priority: 'media' }),
      b.openChannel(a.id, 'cm.2', { priority: 'media' }),
    ]);
    media.close();
    await until(() => a.mediaConnection === null && r.stats().authenticated === 2);
    // A ping round trip on b's connection: any presence change the lane caused would have arrived before it.
    await b.signal(b.id, { flush: true }).catch(() => undefined);
    expect(changes).toEqual([true]);
    expect(b.isOnline(a.id)).toBe(true);
  });

  it('an open to an offline contact fails at once on the lane too (it watches the contact it opens to)', async () => {
    const r = await relay();
    const a = await online(r.url);
    const contact = await generateIdentityKeyPair({ extractable: false });
    a.subscribe([await issueWatchGrant(contact, a.id, Date.now() + 3600_000)]);
    await expect(a.openChannel(contact.id, 'cm.3', { priority: 'media' })).rejects.toMatchObject({ code: 'offline' });
  });

  it('falls back to the main connection when the lane cannot come online (relay at its connection limit)', async () => {
    const r = await relay({ limits: { maxConnections: 2 } });
    const lane = { connectTimeoutMs: 300 };
    const a = await online(r.url, undefined, { mediaLane: lane });
    const b = await online(r.url, undefined, { mediaLane: lane });
    const [mediaA, mediaB] = await Promise.all([
      a.openChannel(b.id, 'cm.4', { priority: 'media' }),
      b.openChannel(a.id, 'cm.4', { priority: 'media' }),
    ]);
    expect(r.stats().authenticated).toBe(2);
    expect(await roundTrip(mediaA, mediaB, 'over the main connection')).toBe('over the main connection');
  });

  it('mediaLane: false keeps media on the one connection; close() takes the lane down with the client', async () => {
    const r = await relay();
    const a = await online(r.url, undefined, { mediaLane: false });
    const b = await online(r.url);
    await Promise.all([
      a.openChannel(b.id, 'cm.5', { priority: 'media' }),
      b.openChannel(a.id, 'cm.5', { priority: 'media' }),
    ]);
    expect(a.mediaConnection).toBeNull();
    expect(b.mediaConnection).not.toBeNull();
    expect(r.stats().authenticated).toBe(3);
    b.close();
    await until(() => r.stats().authenticated === 1);
  });
});
