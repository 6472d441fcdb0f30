// Which web pages may open a WebSocket to the relay (issue 12.3). A page the user happens to visit must not use
// the relay — above all the desktop app's loopback relay — as a presence oracle or to exhaust its connections.
// Every case is a real upgrade from a real `ws` client (or a hand-written request) against a real relay.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { startRelay } from '../../../signaling/server/index.js';
import { connectAs } from '../../helpers/relay/raw-client.js';
import { openRawSocket, responseStatus, upgradeRequest } from '../../helpers/relay/raw-socket.js';
import { relayFixture } from '../../helpers/relay/test-relay.js';

const fixture = relayFixture();
const site = mkdtempSync(join(tmpdir(), 'parley-origin-'));
writeFileSync(join(site, 'index.html'), '<!doctype html><title>Parley</title>');
afterAll(() => rmSync(site, { recursive: true, force: true }));

/** The HTTP status of an upgrade with these headers: 101 when the relay accepted it. */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    ws.once('upgrade', (res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.once('error', reject);
  });
}

describe('Origin check on upgrades (12.3)', () => {
  it('a relay serving no web client (the desktop app embedded one) accepts no Origin or the app, nothing else', async () => {
    const relay = await fixture.start();
    const own = `http://127.0.0.1:${relay.port}`;
    expect(await upgradeStatus(relay.url, {})).toBe(101);
    expect(await upgradeStatus(relay.url, { Origin: 'app://parley' })).toBe(101);
    for (const origin of [
      'https://evil.example',
      own,
      `http://localhost:${relay.port}`,
      'null',
      'app://parley.evil',
      'file://',
    ]) {
      expect(await upgradeStatus(relay.url, { Origin: origin }), origin).toBe(403);
    }
    expect(relay.stats().originsRefused).toBe(6);
    // A refused page never reached the relay's state: nothing counted, honest clients unaffected.
    expect(relay.stats().connectionsAccepted).toBe(2);
    fixture.track((await connectAs(relay.url)).client);
  });

  it('a relay serving the web client accepts its own origin and configured ones, not a DNS-rebound name', async () => {
    const relay = await fixture.start({ staticDir: site, allowOrigins: ['https://Parley.Example.org'] });
    const host = `127.0.0.1:${relay.port}`;
    expect(await upgradeStatus(relay.url, { Origin: `http://${host}` })).toBe(101);
    expect(
      await upgradeStatus(relay.url.replace('127.0.0.1', 'localhost'), { Origin: `http://localhost:${relay.port}` }),
    ).toBe(101);
    expect(await upgradeStatus(relay.url, { Origin: 'https://parley.example.org' })).toBe(101);
    expect(await upgradeStatus(relay.url, { Origin: 'app://parley' })).toBe(101);
    expect(await upgradeStatus(relay.url, { Origin: 'https://evil.example' })).toBe(403);
    expect(await upgradeStatus(relay.url, { Origin: `http://127.0.0.1:${relay.port + 1}` })).toBe(403);
    expect(await upgradeStatus(relay.url, { Origin: `https://${host}/path` })).toBe(403);
    // DNS rebinding: evil.example resolves to this relay's address; Origin and Host agree, but the Host is no
    // name of this relay.
    const rebound = await openRawSocket(relay.port);
    rebound.socket.write(upgradeRequest(`evil.example:${relay.port}`, { Origin: `http://evil.example:${relay.port}` }));
    expect(await responseStatus(rebound)).toBe(403);
    rebound.socket.destroy();
    // ... unless the operator named it (--accept-host): then it is this relay's own name.
    const named = await fixture.start({ staticDir: site, acceptHosts: ['relay.example:443'] });
    const viaName = await openRawSocket(named.port);
    viaName.socket.write(upgradeRequest('relay.example:443', { Origin: 'https://relay.example' }));
    expect(await responseStatus(viaName)).toBe(101);
    viaName.socket.destroy();
  });
});

describe('TLS for the served web client (12.6)', () => {
  it('refuses to serve the web client over plain http on a non-loopback address unless told to', async () => {
    // Refused before anything listens.
    await expect(startRelay({ host: '0.0.0.0', port: 0, staticDir: site })).rejects.toThrow(
      /plain http.*--insecure-http/s,
    );
    await expect(startRelay({ host: '::', port: 0, staticDir: site })).rejects.toThrow(/plain http/);
    // Loopback, or no web client: fine.
    const local = await fixture.start({ host: '127.0.0.1', staticDir: site });
    expect(local.httpUrl).toMatch(/^http:\/\/127\.0\.0\.1:/);
  });
});
