// Ping/pong barriers for raw relay clients: the relay answers a connection's messages in order, so the pong to
// a ping sent last comes after every answer to what was sent before it. No sleeps.
import type { ServerMessage } from '../../../signaling/protocol/index.js';
import type { RawClient } from '../../helpers/relay/raw-client.js';

/** Waits until `client` has every answer to what it sent so far. */
export async function sync(client: RawClient, ref = `sync-${Math.random()}`): Promise<void> {
  client.send({ type: 'ping', ref });
  for (;;) if ((await client.next('pong')).ref === ref) return;
}

/** Everything the relay sent `client` in answer to what it sent so far (pongs left out). */
export async function answersUntilNow(client: RawClient, ref: string): Promise<ServerMessage[]> {
  const start = client.received.length;
  await sync(client, ref);
  return client.received.slice(start).filter((m) => m.type !== 'pong');
}
