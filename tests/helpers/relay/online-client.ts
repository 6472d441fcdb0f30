// A real RelayClient for tests: started against `url` and resolved once the relay has authenticated it.
import { nodeWebSocketFactory } from '../../../platform/node/src/websocket.js';
import type { IdentityKeyPair } from '../../../core/src/identity/keys.js';
import { RelayClient, relaySignerOf } from '../../../core/src/relay/index.js';

/** The caller closes the client (register it before awaiting, so a failed start is still cleaned up). */
export async function onlineRelayClient(
  identity: IdentityKeyPair,
  url: string,
  register: (client: RelayClient) => void,
): Promise<RelayClient> {
  const client = new RelayClient({ url, signer: relaySignerOf(identity), webSocket: nodeWebSocketFactory });
  register(client);
  const up = new Promise<void>((resolve) => {
    const off = client.on('state', ({ state }) => {
      if (state !== 'online') return;
      off();
      resolve();
    });
  });
  client.start();
  await up;
  return client;
}
