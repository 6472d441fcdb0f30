// Run by embedded.test.ts in its own process: records every module the relay resolves, starts a relay
// (clustered when PARLEY_TEST_REDIS is set), and prints what it loaded and how many ports it listens on.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { Server } from 'node:net';

const log = process.env.PARLEY_MODULE_LOG!;
const hook = `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, result.url + '\\n');
  return result;
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);

const { silentLogger, startRelay } = await import('../../../signaling/server/index.js');
const redisUrl = process.env.PARLEY_TEST_REDIS;
let started = false;
try {
  const relay = await startRelay({
    host: '127.0.0.1',
    port: 0,
    logger: silentLogger,
    ...(redisUrl ? { cluster: { redisUrl, nodeId: 'embedded-check', secret: 'a-secret-of-sixteen+' } } : {}),
  });
  started = true;
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  const listening = handles.filter((h) => h instanceof Server && h.listening).length;
  appendFileSync(log, `listening ${listening}\n`);
  await relay.close();
} catch {
  // A cluster without a reachable Redis fails to start: what it loaded is the point.
}
const cached = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('ioredis'));
appendFileSync(log, `started ${started}\ncjs ${cached.length}\n`);
