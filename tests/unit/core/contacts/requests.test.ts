// Contact requests end to end through the engine (issue 14.5) and watch grants (issue 12.4): real Messengers
// on a real relay on loopback, relay only (no WebRTC needed for requests).
import { afterEach, describe, expect, it } from 'vitest';
import { nodeWebSocketFactory } from '../../../../platform/node/src/websocket.js';
import type { Contact, ContactRequestView, MessengerEventMap } from '../../../../core/src/api.js';
import { ContactRequests, MAX_PENDING_REQUESTS, issueWatchGrant } from '../../../../core/src/contacts/requests.js';
import { ContactStore } from '../../../../core/src/contacts/store.js';
import { generateIdentityKeyPair } from '../../../../core/src/identity/keys.js';
import type { StoredIdentity } from '../../../../core/src/identity/store.js';
import { Messenger } from '../../../../core/src/messenger.js';
import { silentLogger, startRelay, type RunningRelay } from '../../../../signaling/server/index.js';
import { memoryStore } from '../../../helpers/memory-store.js';

const open: Messenger[] = [];
const relays: RunningRelay[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((m) => m.close()));
  await Promise.all(relays.splice(0).map((r) => r.close()));
});

async function relay(): Promise<RunningRelay> {
  const r = await startRelay({ host: '127.0.0.1', port: 0, logger: silentLogger });
  relays.push(r);
  return r;
}

interface Person {
  m: Messenger;
  store: ReturnType<typeof memoryStore>;
  identity: { value?: StoredIdentity };
}

async function person(name: string, url: string, from?: Person): Promise<Person> {
  const store = from?.store ?? memoryStore();
  const identity = from?.identity ?? ({} as { value?: StoredIdentity });
  const m = await Messenger.open({
    store,
    identityStore: { load: async () => identity.value, save: async (v) => void (identity.value = v) },
    webSocket: nodeWebSocketFactory,
    relays: [url],
    name,
    extractableKey: true,
    directDisabled: true,
  });
  open.push(m);
  return { m, store, identity };
}

function next<K extends keyof MessengerEventMap>(
  m: Messenger,
  event: K,
  pred: (v: MessengerEventMap[K]) => boolean = () => true,
): Promise<MessengerEventMap[K]> {
  return new Promise((resolve) => {
    const off = m.on(event, (v) => {
      if (!pred(v)) return;
      off();
      resolve(v);
    });
  });
}

const requestFrom = (m: Messenger, id: string) =>
  next(m, 'requests', (list: ContactRequestView[]) => list.some((r) => r.id === id));
const contactIs = (m: Messenger, id: string, pred: (c: Contact) => boolean) =>
  next(m, 'contact', (c) => c.id === id && pred(c));

describe('contact requests', () => {
  it('adding by invite sends a request; the adder waits; accepting makes both contacts who see each other online', async () => {
    const r = await relay();
    const alice = await person('Alice', r.url);
    const bob = await person('Bob', r.url);
    const aliceId = alice.m.identity.id;
    const bobId = bob.m.identity.id;

    const incoming = requestFrom(alice.m, bobId);
    const added = await bob.m.addContact(alice.m.identity.invite);
    expect(added).toMatchObject({ id: aliceId, name: 'Alice', status: 'waiting', online: false });
    const list = await incoming;
    expect(list).toEqual([expect.objectContaining({ id: bobId, name: 'Bob' })]);
    // Nothing one-sided: Alice has no contact yet, and Bob sees no presence before she accepts.
    expect(await alice.m.contacts()).toEqual([]);
    // Alice can check Bob's safety number before accepting; it is the one both will see later.
    const numberAtRequest = await alice.m.safetyNumber(bobId);
    await expect(bob.m.send(aliceId, 'hi before you accept')).resolves.toMatchObject({ status: 'queued' });

    const bobSeesAccept = contactIs(bob.m, aliceId, (c) => c.status === 'accepted' && c.online);
    const aliceSeesBob = contactIs(alice.m, bobId, (c) => c.online);
    const firstMessage = next(alice.m, 'message', (msg) => msg.text === 'hi before you accept');
    const accepted = await alice.m.acceptRequest(bobId);
    expect(accepted).toMatchObject({ id: bobId, status: 'accepted' });
    expect(alice.m.requests()).toEqual([]);
    await bobSeesAccept;
    await aliceSeesBob;
    // The message written while waiting went once Alice accepted.
    expect((await firstMessage).direction).toBe('in');
    expect(await bob.m.safetyNumber(aliceId)).toBe(numberAtRequest);
  });

  it('mutual invite exchange ends with two contacts and no prompt', async () => {
    const r = await relay();
    const alice = await person('Alice', r.url);
    const bob = await person('Bob', r.url);
    const prompts: ContactRequestView[][] = [];
    alice.m.on('requests', (l) => prompts.push(l));
    bob.m.on('requests', (l) => prompts.push(l));
    const bobAccepted = contactIs(bob.m, alice.m.identity.id, (c) => c.status === 'accepted' && c.online);
    const aliceAccepted = contactIs(alice.m, bob.m.identity.id, (c) => c.status === 'accepted' && c.online);
    await Promise.all([bob.m.addContact(alice.m.identity.invite), alice.m.addContact(bob.m.identity.invite)]);
    await Promise.all([bobAccepted, aliceAccepted]);
    expect(alice.m.requests()).toEqual([]);
    expect(bob.m.requests()).toEqual([]);
    // A request may have been shown for an instant only if it arrived before our own add; it is gone now.
    expect(prompts.every((l) => l.length <= 1)).toBe(true);
  });

  it('a request reaches someone who is offline, when they connect', async () => {
    const r = await relay();
    const alice = await person('Alice', r.url);
    const invite = alice.m.identity.invite;
    const aliceId = alice.m.identity.id;
    await alice.m.close();
    const bob = await person('Bob', r.url);
    await bob.m.addContact(invite);
    const again = await person('Alice', r.url, alice);
    expect(again.m.identity.id).toBe(aliceId);
    await requestFrom(again.m, bob.m.identity.id);
    // Stored on disk and acknowledged: a restart still shows it.
    await again.m.close();
    const third = await person('Alice', r.url, alice);
    expect(third.m.requests().map((q) => q.id)).toEqual([bob.m.identity.id]);
  });

  it('decline and block are silent; a blocked stranger is never shown again, a declined one not for a while', async () => {
    const r = await relay();
    const alice = await person('Alice', r.url);
    const bob = await person('Bob', r.url);
    const mallory = await person('Mallory', r.url);
    await Promise.all([bob.m.addContact(alice.m.identity.invite), mallory.m.addContact(alice.m.identity.invite)]);
    await next(alice.m, 'requests', (l) => l.length === 2);
    await alice.m.declineRequest(bob.m.identity.id);
    await alice.m.blockRequest(mallory.m.identity.id);
    expect(alice.m.requests()).toEqual([]);
    expect(await alice.m.contacts()).toEqual([]);
    // They learn nothing: still waiting.
    expect((await bob.m.contacts())[0]).toMatchObject({ status: 'waiting', online: false });
    // Re-adding (a re-sent request) does not bring either back; a third person still gets through.
    await Promise.all([bob.m.addContact(alice.m.identity.invite), mallory.m.addContact(alice.m.identity.invite)]);
    await bob.m.removeContact(alice.m.identity.id);
    await mallory.m.removeContact(alice.m.identity.id);
    await Promise.all([bob.m.addContact(alice.m.identity.invite), mallory.m.addContact(alice.m.identity.invite)]);
    const carol = await person('Carol', r.url);
    const carolShown = requestFrom(alice.m, carol.m.identity.id);
    await carol.m.addContact(alice.m.identity.invite);
    expect((await carolShown).map((q) => q.id)).toEqual([carol.m.identity.id]);
  });
});

describe('ContactRequests (receiver side)', () => {
  async function receiver() {
    const me = await generateIdentityKeyPair({ extractable: false });
    const store = memoryStore();
    const contacts = await ContactStore.open(store);
    const sent: Array<{ to: string; body: Record<string, unknown> }> = [];
    let changes = 0;
    const requests = await ContactRequests.open({
      identity: { ...me, name: 'Me' },
      relays: () => ['ws://127.0.0.1:1/ws'],
      contacts,
      store,
      sendMail: async (to, _relays, body) => void sent.push({ to, body }),
      watch: () => {},
      onContact: () => {},
      onRequests: () => changes++,
    });
    return { me, requests, sent, changes: () => changes };
  }

  /** A signed request from a fresh identity, built by that identity's own ContactRequests. */
  async function requestTo(to: { id: string; publicKey: { alg: 'Ed25519' | 'P-256'; pub: string } }) {
    const sender = await generateIdentityKeyPair({ extractable: false });
    const store = memoryStore();
    let mail: Record<string, unknown> = {};
    const r = await ContactRequests.open({
      identity: { ...sender, name: 'Stranger' },
      relays: () => [],
      contacts: await ContactStore.open(store),
      store,
      sendMail: async (_to, _r, body) => void (mail = body),
      watch: () => {},
      onContact: () => {},
      onRequests: () => {},
    });
    await r.add({ id: to.id, key: to.publicKey, name: 'Me', relays: [] });
    return { sender, mail };
  }

  it('refuses forged, misaddressed and re-signed mail, and keeps at most the cap of pending requests', async () => {
    const { me, requests } = await receiver();
    const { sender, mail } = await requestTo(me);
    // The relay stamps `from`; a mail whose key is not the sender's is refused.
    const other = await generateIdentityKeyPair({ extractable: false });
    expect(await requests.handleMail(other.id, mail)).toMatchObject({
      handled: 'ignored',
      reason: 'key is not the sender',
    });
    expect(await requests.handleMail(sender.id, { ...mail, name: 'Someone you trust' })).toMatchObject({
      handled: 'ignored',
      reason: 'bad signature',
    });
    expect(await requests.handleMail(sender.id, { ...mail, v: 99 })).toMatchObject({
      handled: 'ignored',
      reason: 'newer version',
    });
    const grantForOther = await issueWatchGrant(sender, other.id, Date.now() + 1000);
    expect(await requests.handleMail(sender.id, { ...mail, grant: grantForOther })).toMatchObject({
      handled: 'ignored',
    });
    expect(requests.list()).toEqual([]);
    expect(await requests.handleMail(sender.id, mail)).toEqual({ handled: 'request', id: sender.id });
    // The same sender again is one request, not two.
    expect(await requests.handleMail(sender.id, mail)).toEqual({ handled: 'request', id: sender.id });
    expect(requests.list()).toHaveLength(1);

    for (let i = 1; i < MAX_PENDING_REQUESTS; i++) {
      const more = await requestTo(me);
      expect((await requests.handleMail(more.sender.id, more.mail)).handled).toBe('request');
    }
    const flood = await requestTo(me);
    expect(await requests.handleMail(flood.sender.id, flood.mail)).toEqual({
      handled: 'ignored',
      reason: 'too many pending requests',
    });
    expect(requests.list()).toHaveLength(MAX_PENDING_REQUESTS);
    expect(requests.list()[0]!.id).toBe(sender.id); // the flood did not evict the first
  });

  it('an accept from someone we never asked is ignored (no contact from thin air)', async () => {
    const { me, requests } = await receiver();
    const { sender, mail } = await requestTo(me);
    expect(await requests.handleMail(sender.id, { ...mail, kind: 'contact-accept' })).toMatchObject({
      handled: 'ignored',
    });
  });
});
