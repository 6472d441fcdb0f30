// Starts relays for tests on 127.0.0.1:0 with a silent logger and closes every one of them afterwards.
import { afterAll } from 'vitest';
import { silentLogger, startRelay, type RelayOptions, type RunningRelay } from '../../../signaling/server/index.js';
import type { RawClient } from './raw-client.js';

/** Call at the top of a test file: returns a starter whose relays and clients are closed after the file. */
export function relayFixture(): {
  start(options?: RelayOptions): Promise<RunningRelay>;
  track<T extends RawClient>(client: T): T;
} {
  const relays: RunningRelay[] = [];
  const clients: RawClient[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await Promise.all(relays.map((r) => r.close()));
  });
  return {
    async start(options: RelayOptions = {}) {
      const relay = await startRelay({ host: '127.0.0.1', port: 0, logger: silentLogger, ...options });
      relays.push(relay);
      return relay;
    },
    track(client) {
      clients.push(client);
      return client;
    },
  };
}
