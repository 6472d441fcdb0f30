// The relay hands TURN credentials to authenticated identities only: in `ready`, and on a budgeted
// `turn-credentials` request; a relay without a TURN server hands out nothing. Secrets stay out of its logs.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode, PROTOCOL_VERSION } from '../../../signaling/protocol/index.js';
import type { RelayLogger } from '../../../signaling/server/index.js';
import { TURN_REQUEST_BURST, turnUserId } from '../../../signaling/server/turn-credentials.js';
import { RawClient, connectAs, createIdentity } from '../../helpers/relay/raw-client.js';
import { relayFixture } from '../../helpers/relay/test-relay.js';

const fixture = relayFixture();
const SECRET = 'turn-shared-secret-for-tests';
const URLS = ['turn:10.99.0.5:3478?transport=udp', 'turn:10.99.0.5:3478?transport=tcp'];

/** A logger that keeps every line, to check what the relay writes. */
function recordingLogger(): RelayLogger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (obj: unknown, msg?: string): void => void lines.push(`${JSON.stringify(obj)} ${msg ?? ''}`);
  return { lines, debug: keep, info: keep, warn: keep, error: keep };
}

describe('relay TURN credentials', () => {
  it('ready carries credentials for the identity, which the TURN server can check with the shared secret', async () => {
    const logger = recordingLogger();
    const relay = await fixture.start({ turn: { urls: URLS, secret: SECRET, ttlSeconds: 600 }, logger });
    const before = Math.floor(Date.now() / 1000);
    const { client, identity, ready } = await connectAs(relay.url);
    fixture.track(client);
    const turn = ready.turn!;
    expect(turn).toBeDefined();
    expect(turn.urls).toEqual(URLS);
    expect(turn.ttl).toBe(600);
    const [expiry, opaque] = turn.username.split(':');
    expect(Number(expiry)).toBeGreaterThanOrEqual(before + 600);
    expect(Number(expiry)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 600);
    expect(opaque).toBe(turnUserId(SECRET, identity.id));
    expect(turn.credential).toBe(createHmac('sha1', SECRET).update(turn.username).digest('base64'));
    expect(client.invalid).toEqual([]);

    // Refresh on request: fresh credentials, same identity binding, the request's ref echoed.
    client.send({ type: 'turn-credentials', ref: 'turn-1' });
    const fresh = await client.next('turn-credentials');
    expect(fresh.ref).toBe('turn-1');
    expect(fresh.turn.username.split(':')[1]).toBe(opaque);
    expect(fresh.turn.credential).toBe(createHmac('sha1', SECRET).update(fresh.turn.username).digest('base64'));

    await client.close();
    await relay.close();
    const log = logger.lines.join('\n');
    expect(log).toContain('turn:10.99.0.5:3478?transport=udp'); // the URLs are logged at start ...
    expect(log).not.toContain(SECRET); // ... never the secret ...
    expect(log).not.toContain(turn.credential); // ... nor a credential
  });

  it('only after authentication: a request before ready is refused and nothing is handed out', async () => {
    const relay = await fixture.start({ turn: { urls: URLS, secret: SECRET } });
    const identity = await createIdentity();
    const client = fixture.track(await RawClient.open(relay.url));
    await client.next('challenge');
    client.send({ type: 'turn-credentials', ref: 'early' });
    const error = await client.nextError();
    expect(error.code).toBe(ErrorCode.NotAuthenticated);
    client.send({ type: 'hello', v: PROTOCOL_VERSION, alg: identity.alg, pub: identity.pub });
    client.send({ type: 'auth', sig: 'A'.repeat(86) });
    expect((await client.nextError()).code).toBe(ErrorCode.AuthFailed);
    expect(client.received.some((m) => m.type === 'ready' || m.type === 'turn-credentials')).toBe(false);
  });

  it('rate-limits refresh requests per connection with an error naming the request', async () => {
    const relay = await fixture.start({ turn: { urls: URLS, secret: SECRET } });
    const { client } = await connectAs(relay.url);
    fixture.track(client);
    for (let i = 0; i < TURN_REQUEST_BURST; i++) client.send({ type: 'turn-credentials', ref: `r${i}` });
    for (let i = 0; i < TURN_REQUEST_BURST; i++) expect((await client.next('turn-credentials')).ref).toBe(`r${i}`);
    client.send({ type: 'turn-credentials', ref: 'one-too-many' });
    expect(await client.nextError()).toMatchObject({ code: ErrorCode.RateLimited, ref: 'one-too-many' });
    // Still connected and served otherwise.
    client.send({ type: 'ping', ref: 'p' });
    expect(await client.next('pong')).toEqual({ type: 'pong', ref: 'p' });
  });

  it('a relay without a TURN server hands out none and refuses the request', async () => {
    const relay = await fixture.start();
    const { client, ready } = await connectAs(relay.url);
    fixture.track(client);
    expect(ready).not.toHaveProperty('turn');
    client.send({ type: 'turn-credentials', ref: 'x' });
    expect(await client.nextError()).toMatchObject({ code: ErrorCode.BadMessage, ref: 'x' });
  });

  it('refuses to start with bad TURN settings', async () => {
    await expect(fixture.start({ turn: { urls: ['stun:10.0.0.1'], secret: SECRET } })).rejects.toThrow(
      /not a TURN URL/,
    );
    await expect(fixture.start({ turn: { urls: URLS, secret: 'short' } })).rejects.toThrow(/at least 16/);
  });
});

describe('parley-relay --turn-url / --turn-secret-file', () => {
  const work = mkdtempSync(join(tmpdir(), 'parley-turn-cli-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  function launch(args: string[]) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'tests/helpers/relay/cli-entry.ts', ...args], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const firstLine = new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        stdout += `${line}\n`;
        resolve(line);
      });
      void exited.then(() => reject(new Error(`relay exited: ${stderr}`)));
    });
    firstLine.catch(() => undefined);
    return { child, exited, firstLine, stderr: () => stderr, stdout: () => stdout };
  }

  it('hands out credentials made with the secret from the file; the secret is in no output', async () => {
    const file = join(work, 'secret');
    writeFileSync(file, `${SECRET}\n`);
    chmodSync(file, 0o600);
    const run = launch([
      '--port',
      '0',
      '--no-static',
      '--turn-url',
      URLS[0]!,
      '--turn-secret-file',
      file,
      '--turn-ttl',
      '120',
    ]);
    try {
      const url = /(ws:\/\/127\.0\.0\.1:\d+\/ws)/.exec(await run.firstLine)?.[1];
      expect(url).toBeDefined();
      const { client, ready } = await connectAs(url!);
      expect(ready.turn).toMatchObject({ urls: [URLS[0]], ttl: 120 });
      expect(ready.turn!.credential).toBe(createHmac('sha1', SECRET).update(ready.turn!.username).digest('base64'));
      await client.close();
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      expect(run.stdout() + run.stderr()).not.toContain(SECRET);
      expect(run.stderr()).not.toContain('readable by other users');
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
    }
  });

  it('refuses bad TURN settings at start with a clear message', async () => {
    const file = join(work, 'secret2');
    writeFileSync(file, SECRET);
    chmodSync(file, 0o600);
    const noSecret = launch(['--port', '0', '--no-static', '--turn-url', URLS[0]!]);
    expect(await noSecret.exited).not.toBe(0);
    expect(noSecret.stderr()).toMatch(/--turn-url needs --turn-secret-file/);
    const badUrl = launch(['--port', '0', '--no-static', '--turn-url', 'stun:10.0.0.1', '--turn-secret-file', file]);
    expect(await badUrl.exited).not.toBe(0);
    expect(badUrl.stderr()).toMatch(/"stun:10\.0\.0\.1" is not a TURN URL/);
  });
});
