// Real relays on 127.0.0.1 and real RelayClients against them, for unit tests of the relay client: every relay
// and client a test made is closed after it (afterEach), and a client's reconnect backoff is short.
import { afterEach } from 'vitest';
import { nodeWebSocketFactory } from '../../../platform/node/src/websocket.js';
import type { RelayState } from '../../../core/src/api.js';
import { generateIdentityKeyPair, type IdentityKeyPair } from '../../../core/src/identity/keys.js';
import {
  RelayClient,
  relaySignerOf,
  type RelayClientEvents,
  type RelayClientOptions,
} from '../../../core/src/relay/index.js';
import { silentLogger, startRelay, type RelayOptions, type RunningRelay } from '../../../signaling/server/index.js';

export interface RelayClients {
  /** A relay on 127.0.0.1 (port 0 unless `options.port` says). */
  relay(options?: Partial<RelayOptions>): Promise<RunningRelay>;
  /** A client of `url`, not started; a fresh identity unless one is given. */
  client(url: string, identity?: IdentityKeyPair, options?: Partial<RelayClientOptions>): Promise<RelayClient>;
  /** A started client, resolved once the relay authenticated it. */
  online(url: string, identity?: IdentityKeyPair, options?: Partial<RelayClientOptions>): Promise<RelayClient>;
}

/** Call at the top of a test file (registers the afterEach that closes what each test made). */
export function relayClients(): RelayClients {
  const clients: RelayClient[] = [];
  const relays: RunningRelay[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await Promise.all(relays.splice(0).map((r) => r.close()));
  });
  const client: RelayClients['client'] = async (url, identity, options = {}) => {
    const id = identity ?? (await generateIdentityKeyPair({ extractable: false }));
    const c = new RelayClient({
      url,
      signer: relaySignerOf(id),
      webSocket: nodeWebSocketFactory,
      backoff: { initialMs: 20, maxMs: 200 },
      ...options,
    });
    clients.push(c);
    return c;
  };
  return {
    async relay(options = {}) {
      const r = await startRelay({ host: '127.0.0.1', port: 0, logger: silentLogger, ...options });
      relays.push(r);
      return r;
    },
    client,
    async online(url, identity, options) {
      const c = await client(url, identity, options);
      c.start();
      await stateIs(c, 'online');
      return c;
    },
  };
}

/** Resolves on the first `event` of `c` that satisfies `pred` (bounded by the test's timeout). */
export function nextEvent<K extends keyof RelayClientEvents>(
  c: RelayClient,
  event: K,
  pred: (v: RelayClientEvents[K]) => boolean = () => true,
): Promise<RelayClientEvents[K]> {
  return new Promise((resolve) => {
    const off = c.on(event, (v) => {
      if (!pred(v)) return;
      off();
      resolve(v);
    });
  });
}

/** Resolves once `c` is in `state` (at once if it is). */
export async function stateIs(c: RelayClient, state: RelayState): Promise<void> {
  if (c.state !== state) await nextEvent(c, 'state', (s) => s.state === state);
}
