// The Messenger with real parts: a relay on loopback, relay-only sessions (no WebRTC), in-memory
// stores, and the transfer engine over in-memory files. What it owns: chat, file transfer attached to
// every session it creates, the AEAD engine passed down, and the teardown order of close({ drain }).
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatMessage, Contact } from '../../../../core/src/api.js';
import { cipherAead, type AeadEngine, type GcmCipherApi } from '../../../../core/src/crypto/index.js';
import type { IdentityKeyStore, StoredIdentity } from '../../../../core/src/identity/store.js';
import { Messenger, type MessengerFilesOptions, type MessengerOptions } from '../../../../core/src/messenger.js';
import type { TransferInfo } from '../../../../core/src/transfer/index.js';
import { nodeWebSocketFactory } from '../../../../platform/node/src/websocket.js';
import { memoryStore } from '../../../helpers/memory-store.js';
import { relayFixture } from '../../../helpers/relay/test-relay.js';
import { MemoryDisk, MemorySources, randomBytes } from '../transfer/memory-io.js';

const relays = relayFixture();
const open: Messenger[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((m) => m.close()));
});

function memoryIdentityStore(): IdentityKeyStore {
  let stored: StoredIdentity | undefined;
  return {
    load: async () => stored,
    save: async (identity) => {
      stored = identity;
    },
  };
}

function counting(engine: AeadEngine): { engine: AeadEngine; calls: { encrypt: number; decrypt: number } } {
  const calls = { encrypt: 0, decrypt: 0 };
  return {
    calls,
    engine: {
      name: `counting ${engine.name}`,
      importKey: (raw) => engine.importKey(raw),
      encrypt: (...args) => (calls.encrypt++, engine.encrypt(...args)),
      decrypt: (...args) => (calls.decrypt++, engine.decrypt(...args)),
    },
  };
}

async function openPeer(name: string, relayUrl: string, extra: Partial<MessengerOptions> = {}): Promise<Messenger> {
  const m = await Messenger.open({
    store: memoryStore(),
    identityStore: memoryIdentityStore(),
    webSocket: nodeWebSocketFactory,
    relays: [relayUrl],
    name,
    extractableKey: true,
    directDisabled: true,
    ...extra,
  });
  open.push(m);
  return m;
}

function nextEvent<T>(
  subscribe: (listener: (value: T) => void) => () => void,
  match: (value: T) => boolean,
): Promise<T> {
  return new Promise((resolve) => {
    const off = subscribe((value) => {
      if (!match(value)) return;
      off();
      resolve(value);
    });
  });
}

/** Two contacts of each other, both seen online. */
async function pair(a: Messenger, b: Messenger): Promise<void> {
  const aSeesB = nextEvent<Contact>(
    (l) => a.on('contact', l),
    (c) => c.id === b.identity.id && c.online,
  );
  const bSeesA = nextEvent<Contact>(
    (l) => b.on('contact', l),
    (c) => c.id === a.identity.id && c.online,
  );
  await a.addContact(b.identity.invite);
  await b.addContact(a.identity.invite);
  await Promise.all([aSeesB, bSeesA]);
}

function memoryFiles(
  decide: MessengerFilesOptions['decide'] = () => 'accept',
): MessengerFilesOptions & { source: MemorySources; sink: MemoryDisk } {
  return { source: new MemorySources(), sink: new MemoryDisk(), decide, progressIntervalMs: 0 };
}

describe('Messenger', () => {
  it('delivers chat over the relay, sealing records with the AEAD engine it was given', async () => {
    const relay = await relays.start();
    const nodeAead = cipherAead({ createCipheriv, createDecipheriv } as unknown as GcmCipherApi);
    const aliceAead = counting(nodeAead);
    const bobAead = counting(nodeAead);
    const alice = await openPeer('Alice', relay.url, { aead: aliceAead.engine });
    const bob = await openPeer('Bob', relay.url, { aead: bobAead.engine });
    await pair(alice, bob);
    const received = nextEvent<ChatMessage>(
      (l) => bob.on('message', l),
      (m) => m.direction === 'in',
    );
    const delivered = nextEvent<ChatMessage>(
      (l) => alice.on('message', l),
      (m) => m.status === 'delivered',
    );
    await alice.send(bob.identity.id, 'hello over the relay');
    expect((await received).text).toBe('hello over the relay');
    await delivered;
    expect(alice.pathOf(bob.identity.id)).toBe('relay');
    // Each side sealed and opened records with its own engine: none fell back to a process default.
    expect(aliceAead.calls.encrypt).toBeGreaterThan(0);
    expect(aliceAead.calls.decrypt).toBeGreaterThan(0);
    expect(bobAead.calls.encrypt).toBeGreaterThan(0);
    expect(bobAead.calls.decrypt).toBeGreaterThan(0);
  });

  it('connect() opens the path to an online contact before anything is sent; an offline one is left alone', async () => {
    const relay = await relays.start();
    const alice = await openPeer('Alice', relay.url);
    const bob = await openPeer('Bob', relay.url);
    const carol = await openPeer('Carol', relay.url);
    await pair(alice, bob);
    await pair(alice, carol);
    await carol.close();
    await nextEvent<Contact>(
      (l) => alice.on('contact', l),
      (c) => c.id === carol.identity.id && !c.online,
    );
    expect(alice.pathOf(bob.identity.id)).toBe('none');
    const up = nextEvent<{ contactId: string; path: string }>(
      (l) => alice.on('path', l),
      (p) => p.contactId === bob.identity.id && p.path === 'relay',
    );
    alice.connect(bob.identity.id);
    alice.connect(carol.identity.id);
    await up;
    expect(alice.pathOf(bob.identity.id)).toBe('relay');
    expect(alice.pathOf(carol.identity.id)).toBe('none');
    expect(alice.routeOf(carol.identity.id)).toBe('none');
  });

  it('runs file transfer on every session it creates, including one the contact opened', async () => {
    const relay = await relays.start();
    const aliceFiles = memoryFiles();
    const bobFiles = memoryFiles();
    const alice = await openPeer('Alice', relay.url, { files: aliceFiles });
    const bob = await openPeer('Bob', relay.url, { files: bobFiles });
    await pair(alice, bob);
    // Bob never asks for a session: the one Alice's offer opens must carry file frames from the start.
    expect(bob.pathOf(alice.identity.id)).toBe('none');
    const data = randomBytes(700_000, 7);
    aliceFiles.source.add('photo', data);
    const done = nextEvent<TransferInfo>(
      (l) => bob.transfers!.on('state', l),
      (info) => info.state === 'done',
    );
    const [offer] = await alice.sendFiles(bob.identity.id, [
      { relativePath: 'photo.jpg', source: 'photo', size: data.length },
    ]);
    const info = await done;
    expect(info.offerId).toBe(offer!.offerId);
    expect(info.files.map((f) => f.state)).toEqual(['verified']);
    expect(bobFiles.sink.finals().get('photo.jpg')).toEqual(data);
  });

  it('has no file transfer without files, and says so', async () => {
    const relay = await relays.start();
    const alice = await openPeer('Alice', relay.url);
    const bob = await openPeer('Bob', relay.url);
    await pair(alice, bob);
    expect(alice.transfers).toBeNull();
    await expect(alice.sendFiles(bob.identity.id, [{ relativePath: 'a', source: 'a', size: 1 }])).rejects.toThrow(
      'File transfer is not set up',
    );
  });

  it('close({ drain }) acknowledges what the contact sent last, so its stream drains too', async () => {
    const relay = await relays.start();
    // As the CLI runs: node:crypto seals synchronously, so the ack is on the socket before the transports close.
    const aead = cipherAead({ createCipheriv, createDecipheriv } as unknown as GcmCipherApi);
    const alice = await openPeer('Alice', relay.url, { aead });
    const bob = await openPeer('Bob', relay.url, { aead });
    await pair(alice, bob);
    const KIND = 200;
    const got = new Promise<void>((resolve) => alice.sessionFor(bob.identity.id).stream.onFrame(KIND, () => resolve()));
    const bobStream = bob.sessionFor(alice.identity.id).stream;
    await bobStream.send(KIND, new Uint8Array([1, 2, 3]));
    await got;
    // Alice closes at once: her ack must not wait for the delayed-ACK timer that closing cancels.
    await alice.close({ drain: true });
    await bobStream.flushed(); // before: never (Alice gone, her ack cancelled), and Bob's drain waited 3 s
    expect(bobStream.stats.unackedFrames).toBe(0);
  });

  it('close({ drain }) lets transfers settle and the streams drain before closing, once', async () => {
    const relay = await relays.start();
    const aliceFiles = memoryFiles();
    const alice = await openPeer('Alice', relay.url, { files: aliceFiles });
    const bob = await openPeer('Bob', relay.url, { files: memoryFiles() });
    await pair(alice, bob);
    await alice.send(bob.identity.id, 'first');
    await nextEvent<ChatMessage>(
      (l) => alice.on('message', l),
      (m) => m.status === 'delivered',
    );
    const received = nextEvent<ChatMessage>(
      (l) => bob.on('message', l),
      (m) => m.text === 'last words',
    );
    await alice.send(bob.identity.id, 'last words');
    const closing = alice.close({ drain: true });
    expect(alice.close()).toBe(closing);
    await closing;
    expect((await received).text).toBe('last words');
    // Closed: the engine detached from every contact and the session is gone.
    expect(alice.pathOf(bob.identity.id)).toBe('none');
    await expect(alice.sendFiles(bob.identity.id, [{ relativePath: 'late', source: 'late', size: 1 }])).rejects.toThrow(
      'The Messenger is closed.',
    );
  });
});
