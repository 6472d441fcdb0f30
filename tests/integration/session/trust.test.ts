// A relay that rewrites DTLS fingerprints, and a relay that lets someone else answer for a contact:
// both sessions are refused with a clear error and no message is shown.
import { afterEach, describe, expect, it } from 'vitest';
import { useTestbed } from '../../testbed/vitest.js';
import { MessengerPeer, presetIdentity, startRelayHost, type RelayHandle } from '../../harness/peers/harness.js';

describe('session trust', () => {
  const bed = useTestbed({ hosts: ['a', 'b', 'm', 'relay'] });
  const started: Array<MessengerPeer | RelayHandle> = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((p) => ('close' in p ? p.close() : p.proc.stop())));
  });

  it('refuses the session when the relay rewrites the DTLS fingerprint in forwarded SDP', async () => {
    const { a, b, relay } = bed().hosts;
    const r = await startRelayHost(relay, 'tamper');
    started.push(r);
    const [pa, pb] = await Promise.all([MessengerPeer.spawn(a, 'alice', r.url), MessengerPeer.spawn(b, 'bob', r.url)]);
    started.push(pa, pb);
    await pa.add(pb);
    await pb.add(pa);
    await Promise.all([pa.waitOnline(pb.id), pb.waitOnline(pa.id)]);
    await pa.send(pb.id, 'secret');
    // Whoever receives the tampered offer or answer refuses it: its envelope signature no longer verifies.
    const error = await Promise.race([pa.nextError(30_000), pb.nextError(30_000)]);
    expect(error.message).toMatch(/not signed by the contact's key: the relay may be tampering/);
    const history = await pb.history(pa.id);
    expect(history).toEqual([]);
  });

  it('refuses someone else answering for a contact (wrong key)', async () => {
    const { a, b, m, relay } = bed().hosts;
    const r = await startRelayHost(relay, 'impersonate');
    started.push(r);
    const [pa, pb] = await Promise.all([MessengerPeer.spawn(a, 'alice', r.url), MessengerPeer.spawn(b, 'bob', r.url)]);
    started.push(pa, pb);
    // Mallory takes the role toward Alice that Bob has (the lower id leads), so Alice's session talks to her.
    const bobLeads = pb.id < pa.id;
    const malloryHome = await presetIdentity('mallory', (id) => id < pa.id === bobLeads);
    const pm = await MessengerPeer.spawn(m, 'mallory', r.url, {}, malloryHome);
    started.push(pm);
    // Alice and Bob are contacts; Mallory is a contact of Alice too (contacts who turned hostile are the threat).
    await pa.add(pb); // Alice knows Bob's real key
    await pb.add(pa);
    await pm.add(pa);
    await pa.add(pm);
    // Mallory must be on the relay before Alice's first signal is redirected to her (a slow start under load
    // would otherwise leave Alice's signals answered 'offline' until the test's wait runs out).
    await pm.waitOnline(pa.id);
    // From now on, on Alice's connection, the relay shows Mallory as Bob.
    await r.proc.send({ cmd: 'impersonate', target: pa.id, victim: pb.id, impostor: pm.id } as never);
    await r.proc.next((msg) => msg.type === 'impersonating', 15_000);
    await pa.send(pb.id, 'for bob only');
    // Whoever checks the other's signature first refuses: Alice (Mallory's answer is not signed by Bob's key) or
    // Mallory (Alice's offer is signed for Bob, not for her); which one depends on who starts, so accept either.
    const byAlice = pa.nextError(45_000).then((e) => ({ ...e, by: 'alice' as const }));
    const byMallory = pm.nextError(45_000).then((e) => ({ ...e, by: 'mallory' as const }));
    // The side that does not refuse never errors: its wait times out later and must not surface as unhandled.
    byAlice.catch(() => undefined);
    byMallory.catch(() => undefined);
    const error = await Promise.race([byAlice, byMallory]);
    expect(error.contactId).toBe(error.by === 'alice' ? pb.id : pa.id);
    expect(error.message).toMatch(/not signed by the contact's key|signature/i);
    const mallorySaw = await pm.history(pa.id);
    expect(mallorySaw.map((x) => x.text)).not.toContain('for bob only');
  });
});
