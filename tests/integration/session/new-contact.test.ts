// A new contact connects direct as soon as both sides have added each other (issue 14.4). When the
// session leader (lower id) adds first, its first direct offer reaches a contact who does not know it
// yet and is dropped; the leader then sat on that dead attempt until it timed out, so the chat header
// stayed on "Connecting…" for 11–24 s in about half of the runs. Now the follower's "start" (it has no
// attempt running) makes the leader start over at once.
import { afterEach, describe, expect, it } from 'vitest';
import { useTestbed } from '../../testbed/vitest.js';
import { MessengerPeer, startRelayHost, type RelayHandle } from '../../harness/peers/harness.js';

describe('a new contact on the same network', () => {
  const bed = useTestbed({ hosts: ['a', 'b', 'relay'] });
  const started: Array<MessengerPeer | RelayHandle> = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((p) => ('close' in p ? p.close() : p.proc.stop())));
  });

  it('connects direct right after the second side adds back, when the leader added first', async () => {
    const { a, b, relay } = bed().hosts;
    const r = await startRelayHost(relay);
    started.push(r);
    // A dead attempt would live this long (longer than the waits below) if nothing replaced it.
    const options = { directAttemptTimeoutMs: 180_000, debug: true };
    const [pa, pb] = await Promise.all([
      MessengerPeer.spawn(a, 'alice', r.url, options),
      MessengerPeer.spawn(b, 'bob', r.url, options),
    ]);
    started.push(pa, pb);
    const [leader, follower] = pa.id < pb.id ? [pa, pb] : [pb, pa];

    await leader.add(follower);
    await leader.waitOnline(follower.id);
    // A message makes the leader's session try direct (in the app, the file service does it for every
    // online contact). Its offer reaches the follower before the follower knows it, and is dropped.
    const first = await leader.send(follower.id, 'hello, are you there?');
    await expect
      .poll(() => follower.proc.stderr(), { timeout: 60_000, interval: 100 })
      .toContain('signal from a stranger dropped');

    await follower.add(leader);
    const back = await follower.send(leader.id, 'hello, new contact');
    await Promise.all([leader.waitPath(follower.id, 'direct', 60_000), follower.waitPath(leader.id, 'direct', 60_000)]);
    await leader.nextIncoming((m) => m.text === 'hello, new contact');
    await follower.nextIncoming((m) => m.text === 'hello, are you there?');
    await Promise.all([follower.nextDelivered(back.id), leader.nextDelivered(first.id)]);
  });
});
