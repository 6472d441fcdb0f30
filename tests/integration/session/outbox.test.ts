// A message to an offline contact waits in the outbox and arrives exactly once when the contact comes
// online, even across a restart of the sender.
import { afterEach, describe, expect, it } from 'vitest';
import { useTestbed } from '../../testbed/vitest.js';
import { MessengerPeer, startRelayHost, type RelayHandle } from '../../harness/peers/harness.js';

describe('outbox', () => {
  const bed = useTestbed({ hosts: ['a', 'b', 'relay'] });
  const started: Array<MessengerPeer | RelayHandle> = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((p) => ('close' in p ? p.close() : p.proc.stop())));
  });

  it('delivers a message for an offline contact exactly once when the contact comes online', async () => {
    const { a, b, relay } = bed().hosts;
    const r = await startRelayHost(relay);
    started.push(r);
    // Bob exists (so Alice can add him) and then goes offline.
    let pb = await MessengerPeer.spawn(b, 'bob', r.url);
    const bobHome = pb.home;
    let pa = await MessengerPeer.spawn(a, 'alice', r.url);
    const aliceHome = pa.home;
    started.push(pa, pb);
    await pa.add(pb);
    await pb.add(pa);
    await pb.close();

    const sent = await pa.send(pb.id, 'while you were away');
    let history = await pa.history(pb.id);
    expect(history[0]?.status).toBe('queued');
    // Alice restarts before Bob comes back: the outbox is on disk.
    await pa.close();
    pa = await MessengerPeer.spawn(a, 'alice', r.url, {}, aliceHome);
    started.push(pa);

    pb = await MessengerPeer.spawn(b, 'bob', r.url, {}, bobHome);
    started.push(pb);
    const got = await pb.nextIncoming((m) => m.text === 'while you were away', 30_000);
    expect(got.message.id).toBe(sent.id);
    await pa.nextDelivered(sent.id, 30_000);

    // Exactly once: a later message is the next thing Bob sees, and his history has the first one once.
    await pa.send(pb.id, 'second');
    expect((await pb.nextIncoming(() => true, 30_000)).message.text).toBe('second');
    history = await pb.history(pa.id);
    expect(history.map((m) => m.text)).toEqual(['while you were away', 'second']);
  });
});
