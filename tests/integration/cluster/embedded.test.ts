// The relay embedded in the desktop app stays one process with one port: it never loads the cluster code or
// the Redis client (a dynamic import happens only with a cluster option). The clustered run is the control
// that shows the check can fail.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../harness/redis/redis-server.js';

const work = mkdtempSync(join(tmpdir(), 'parley-embedded-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function runChild(name: string, env: Record<string, string>): Promise<string[]> {
  const log = join(work, `${name}.log`);
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/integration/cluster/embedded-child.ts'], {
    cwd: process.cwd(),
    env: { ...process.env, PARLEY_MODULE_LOG: log, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  expect(code).toBe(0);
  return readFileSync(log, 'utf8').split('\n');
}

describe('embedded relay', () => {
  it('opens one port and never loads the cluster code or the Redis client', async () => {
    const lines = await runChild('embedded', {});
    expect(lines).toContain('started true');
    expect(lines).toContain('listening 1');
    expect(lines.some((l) => l.includes('/signaling/server/relay.ts'))).toBe(true); // the hook saw the relay load
    expect(lines.filter((l) => /ioredis|\/signaling\/server\/cluster\/(?!hooks)/.test(l))).toEqual([]);
    expect(lines).toContain('cjs 0');
  });

  it('loads them when started with a cluster option (the control)', async () => {
    const lines = await runChild('clustered', { PARLEY_TEST_REDIS: `redis://127.0.0.1:${await freePort()}` });
    expect(lines.some((l) => l.includes('/node_modules/ioredis/'))).toBe(true);
    expect(lines.some((l) => l.includes('/signaling/server/cluster/index.ts'))).toBe(true);
  });
});
