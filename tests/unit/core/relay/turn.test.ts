// TURN credentials from the relay on the client side: kept on our clock, refreshed at half-life, dropped when
// expired, merged after the user's own ICE servers for calls (the Messenger), never invented when the relay
// has no TURN server.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { generateIdentityKeyPair, type IdentityKeyPair } from '../../../../core/src/identity/keys.js';
import type { IdentityKeyStore, StoredIdentity } from '../../../../core/src/identity/store.js';
import { Messenger } from '../../../../core/src/messenger.js';
import { RelayClient, relaySignerOf } from '../../../../core/src/relay/index.js';
import { RelayTurnCredentials, TURN_EXPIRY_MARGIN_MS, mergeIceServers } from '../../../../core/src/relay/turn.js';
import { nodeWebSocketFactory } from '../../../../platform/node/src/websocket.js';
import { PROTOCOL_VERSION, type TurnCredentials } from '../../../../signaling/protocol/index.js';
import { memoryStore } from '../../../helpers/memory-store.js';
import { relayFixture } from '../../../helpers/relay/test-relay.js';

const relays = relayFixture();
const SECRET = 'client-side-turn-secret';
const TURN_URL = 'turn:10.99.0.5:3478?transport=udp';
const closeLater: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const c of closeLater.splice(0).reverse()) await c.close();
});

const creds = (ttl: number, username = `${1_000 + ttl}:abc`): TurnCredentials => ({
  urls: [TURN_URL],
  username,
  credential: 'Y3JlZA==',
  ttl,
});

function online(c: RelayClient): Promise<void> {
  return new Promise((resolve) => {
    const off = c.on('state', ({ state }) => {
      if (state === 'online') {
        off();
        resolve();
      }
    });
  });
}

async function startClient(url: string, given?: IdentityKeyPair): Promise<RelayClient> {
  const identity = given ?? (await generateIdentityKeyPair({ extractable: false }));
  const c = new RelayClient({ url, signer: relaySignerOf(identity), webSocket: nodeWebSocketFactory });
  closeLater.push(c);
  const up = online(c);
  c.start();
  await up;
  return c;
}

describe('RelayTurnCredentials', () => {
  it('offers them until shortly before they expire, counted from when they arrived on our clock', () => {
    const t = new RelayTurnCredentials();
    expect(t.servers(0)).toEqual([]);
    expect(t.refreshAt).toBeNull();
    t.update(creds(600), 5_000);
    expect(t.refreshAt).toBe(5_000 + 300_000);
    const expected = [{ urls: [TURN_URL], username: '1600:abc', credential: 'Y3JlZA==' }];
    expect(t.servers(5_000)).toEqual(expected);
    expect(t.servers(5_000 + 600_000 - TURN_EXPIRY_MARGIN_MS - 1)).toEqual(expected);
    expect(t.servers(5_000 + 600_000 - TURN_EXPIRY_MARGIN_MS)).toEqual([]); // expired ones are never used
    // A short lifetime keeps three quarters of it usable.
    t.update(creds(2, '3:abc'), 0);
    expect(t.servers(1_499)).toHaveLength(1);
    expect(t.servers(1_500)).toEqual([]);
    t.update(creds(600, '2200:abc'), 700_000);
    expect(t.servers(700_000)[0]!.username).toBe('2200:abc');
  });

  it('hands out copies: a caller altering them does not change the next call', () => {
    const t = new RelayTurnCredentials();
    t.update(creds(600), 0);
    (t.servers(0)[0]!.urls as string[]).push('turn:evil');
    expect(t.servers(0)[0]!.urls).toEqual([TURN_URL]);
  });
});

describe('mergeIceServers', () => {
  it("puts the user's servers first and keeps the user's credentials for a URL both name", () => {
    const user = [{ urls: TURN_URL, username: 'me', credential: 'mine' }, { urls: 'stun:10.0.0.9' }];
    const relay = [{ urls: [TURN_URL, 'turn:10.99.0.5:3478?transport=tcp'], username: 'r', credential: 'c' }];
    expect(mergeIceServers(user, relay)).toEqual([
      { urls: TURN_URL, username: 'me', credential: 'mine' },
      { urls: 'stun:10.0.0.9' },
      { urls: ['turn:10.99.0.5:3478?transport=tcp'], username: 'r', credential: 'c' },
    ]);
    expect(mergeIceServers([], [])).toEqual([]);
    expect(mergeIceServers(user, [])).toEqual(user);
  });
});

describe('RelayClient and TURN', () => {
  it('takes the credentials from ready; none from a relay without TURN', async () => {
    const withTurn = await relays.start({ turn: { urls: [TURN_URL], secret: SECRET, ttlSeconds: 600 } });
    const c = await startClient(withTurn.url);
    const [server] = c.turnServers();
    expect(server).toMatchObject({ urls: [TURN_URL], credential: expect.any(String) });
    expect(server!.username).toMatch(/^\d+:[A-Za-z0-9_-]+$/);
    expect(c.turnServers(Date.now() + 600_000)).toEqual([]);

    const plain = await relays.start();
    expect((await startClient(plain.url)).turnServers()).toEqual([]);
  });

  it('asks for fresh credentials at half-life and uses the answer', async () => {
    // A stand-in relay (the real one refuses lifetimes this short): it authenticates anyone and hands out
    // 2-second credentials, so the refresh is due after 1 s.
    const identity = await generateIdentityKeyPair({ extractable: false });
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/ws' });
    closeLater.push({ close: () => new Promise((r) => server.close(r)) });
    await new Promise((r) => server.once('listening', r));
    const refreshed = new Promise<{ ws: WebSocket; ref: unknown }>((resolve) => {
      server.on('connection', (ws) => {
        ws.send(JSON.stringify({ type: 'challenge', v: PROTOCOL_VERSION, nonce: 'A'.repeat(43) }));
        ws.on('message', (data) => {
          const msg = JSON.parse(String(data)) as { type: string; ref?: unknown; pub?: string };
          if (msg.type === 'auth') {
            const limits = {
              maxControlBytes: 65_536,
              maxChannelPayload: 1,
              maxSubscriptions: 1,
              maxChannels: 1,
              heartbeatMs: 30_000,
            };
            ws.send(JSON.stringify({ type: 'ready', id: identity.id, limits, turn: creds(2, '1:first') }));
          }
          if (msg.type === 'turn-credentials') resolve({ ws, ref: msg.ref });
        });
      });
    });
    const address = server.address() as { port: number };
    const c = await startClient(`ws://127.0.0.1:${address.port}/ws`, identity);
    expect(c.turnServers()[0]!.username).toBe('1:first');
    const { ws, ref } = await refreshed;
    const answered = new Promise<void>((resolve) => ws.once('pong', () => resolve()));
    ws.send(JSON.stringify({ type: 'turn-credentials', ref, turn: creds(600, '2:second') }));
    ws.ping();
    await answered;
    expect(c.turnServers()[0]!.username).toBe('2:second');
  });
});

describe('Messenger and the relay TURN servers', () => {
  function identityStore(): IdentityKeyStore {
    let stored: StoredIdentity | undefined;
    return {
      load: async () => stored,
      save: async (identity) => {
        stored = identity;
      },
    };
  }

  it("lists the relay's TURN servers once online (calls merge them after the user's own)", async () => {
    const relay = await relays.start({ turn: { urls: [TURN_URL], secret: SECRET } });
    const m = await Messenger.open({
      store: memoryStore(),
      identityStore: identityStore(),
      webSocket: nodeWebSocketFactory,
      relays: [relay.url],
      name: 'Turn',
      extractableKey: true,
      directDisabled: true,
      iceServers: [{ urls: 'stun:10.0.0.9' }],
    });
    closeLater.push(m);
    if (m.relayState().state !== 'online')
      await new Promise<void>((resolve) => {
        const off = m.on('relay', ({ state }) => {
          if (state === 'online') {
            off();
            resolve();
          }
        });
      });
    const servers = m.relayTurnServers();
    expect(servers).toEqual([
      { urls: [TURN_URL], username: expect.stringMatching(/^\d+:/), credential: expect.any(String) },
    ]);
    expect(m.relayTurnServers(Date.now() + 3_600_000)).toEqual([]);
  });
});
