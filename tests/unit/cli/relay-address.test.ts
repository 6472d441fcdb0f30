// Issue 14.2: relay addresses that just work. `--relay ws://host:port` (no /ws) was accepted and then
// failed forever with "connection closed (1006)", and `send` blamed the contact ("may be offline").
// Every form people type now reaches the relay; a web server that is not a relay is named as such.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, silentLogger, type RunningRelay } from '../../../signaling/server/index.js';
import { JsonChild, jsonLines, runCli, spawnCli, tempHome } from './helpers.js';

let relay: RunningRelay;
let web: Server;
let webPort: number;
const temps: Array<{ dir: string; cleanup: () => Promise<void> }> = [];
const children: JsonChild[] = [];

async function temp(): Promise<string> {
  const t = await tempHome();
  temps.push(t);
  return t.dir;
}

const cli = (home: string, args: string[]) => runCli(['--relay-only', '--home', home, ...args]);

async function pair(relayA: string, relayB: string): Promise<{ a: string; b: string; relays: string[] }> {
  const a = await temp();
  const b = await temp();
  const ia = await cli(a, ['id', '--name', 'Alice', '--relay', relayA, '--json']);
  const ib = await cli(b, ['id', '--name', 'Bob', '--relay', relayB, '--json']);
  expect(ia.code, ia.stderr).toBe(0);
  expect(ib.code, ib.stderr).toBe(0);
  const ja = jsonLines(ia.stdout)[0] as { invite: string; relays: string[] };
  const jb = jsonLines(ib.stdout)[0] as { invite: string; relays: string[] };
  expect((await cli(a, ['add', jb.invite])).code).toBe(0);
  expect((await cli(b, ['add', ja.invite])).code).toBe(0);
  return { a, b, relays: [...ja.relays, ...jb.relays] };
}

beforeAll(async () => {
  relay = await startRelay({ host: '127.0.0.1', port: 0, logger: silentLogger });
  // A web server where someone expected a relay: answers every request, upgrades included, with 404.
  web = createServer((_req, res) => {
    res.writeHead(404, { 'content-type': 'text/html' });
    res.end('<h1>Not Found</h1>');
  });
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  webPort = (web.address() as AddressInfo).port;
}, 30_000);

afterAll(async () => {
  for (const c of children) await c.stop('SIGKILL');
  await relay?.close();
  await new Promise((resolve) => web?.close(resolve));
  for (const t of temps) await t.cleanup();
});

describe('relay addresses', () => {
  it('host:port, ws://host:port and http://host:port/ all reach the relay; a message is delivered', async () => {
    const port = new URL(relay.url).port;
    const { a, b, relays } = await pair(`127.0.0.1:${port}`, `ws://127.0.0.1:${port}`);
    expect(relays).toEqual([`ws://127.0.0.1:${port}/ws`, `ws://127.0.0.1:${port}/ws`]);
    const bob = new JsonChild(
      spawnCli(['--relay-only', '--relay', `http://127.0.0.1:${port}/`, '--home', b, '--json', 'listen']),
    );
    children.push(bob);
    await bob.waitFor((l) => l['type'] === 'relay' && l['state'] === 'online');
    const r = await cli(a, ['say', 'Bob', 'found you', '--json']);
    expect(r.code, r.stderr).toBe(0);
    await bob.waitFor((l) => l['type'] === 'message' && l['text'] === 'found you');
    await bob.stop('SIGINT');
  }, 120_000);

  it('a web server that is not a relay is named as such; say and send do not blame the contact', async () => {
    const { a } = await pair(`http://127.0.0.1:${webPort}`, `127.0.0.1:${webPort}`);
    // Long enough for a loaded machine to finish one connection attempt: its answer is the reason shown.
    const said = await cli(a, ['say', 'Bob', 'hello?', '--timeout', '10']);
    expect(said.code).toBe(1);
    expect(said.stderr).toContain(`127.0.0.1:${webPort} answered HTTP 404 Not Found instead of the relay protocol`);
    expect(said.stderr).toContain('not a Parley relay');
    expect(said.stderr).not.toContain('1006');
    expect(said.stderr).not.toContain('is offline');

    const file = join(await temp(), 'x.bin');
    await writeFile(file, 'x');
    const sent = await cli(a, ['send', 'Bob', file, '--timeout', '10']);
    expect(sent.code).toBe(1);
    expect(sent.stderr).toContain('could not reach the relay');
    expect(sent.stderr).toContain('answered HTTP 404 Not Found');
    expect(sent.stderr).not.toContain('may be offline');
    expect(sent.stderr).not.toContain('is offline');
    // Human mode: no raw JSON log lines on stderr.
    expect(sent.stderr).not.toMatch(/^\{/m);
  }, 120_000);

  it('nothing listening: says so', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const { a } = await pair(`127.0.0.1:${port}`, `127.0.0.1:${port}`);
    const said = await cli(a, ['say', 'Bob', 'hello?', '--timeout', '2']);
    expect(said.code).toBe(1);
    expect(said.stderr).toContain(`nothing is listening at 127.0.0.1:${port}`);
  }, 120_000);
});
