// wss with a certificate made in the test, and the standalone command end to end.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { RawClient, connectAs, createIdentity } from '../../helpers/relay/raw-client.js';
import { selfSignedCert } from '../../helpers/relay/self-signed.js';
import { relayFixture } from '../../helpers/relay/test-relay.js';

const fixture = relayFixture();
const tls = selfSignedCert();
const work = mkdtempSync(join(tmpdir(), 'parley-tls-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('relay over TLS', () => {
  it('serves wss to clients that trust the CA and refuses those that do not', async () => {
    const relay = await fixture.start({ tls });
    expect(relay.url).toBe(`wss://127.0.0.1:${relay.port}/ws`);
    expect(relay.httpUrl.startsWith('https://')).toBe(true);
    const { client, identity, ready } = await connectAs(relay.url, undefined, { ca: tls.cert });
    fixture.track(client);
    expect(ready.id).toBe(identity.id);
    await expect(RawClient.open(relay.url)).rejects.toThrow(/self[- ]signed|certificate/i);
    // localhost:port is the default-port-free Host a browser would sign.
    const viaName = fixture.track(await RawClient.open(`wss://localhost:${relay.port}/ws`, { ca: tls.cert }));
    expect((await viaName.authenticate(await createIdentity())).type).toBe('ready');
    const status = await new Promise<number>((resolve, reject) => {
      get(relay.httpUrl, { ca: tls.cert }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    expect(status).toBe(404); // no static dir: https answers, with nothing to serve
  });
});

describe('parley-relay command', () => {
  function launch(args: string[]) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'tests/helpers/relay/cli-entry.ts', ...args], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const lines: string[] = [];
    const waiters: (() => void)[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      for (const w of waiters.splice(0)) w();
    });
    /** Stdout line `n` (0-based), or a rejection if the process exits first. */
    const line = (n: number): Promise<string> =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (lines.length > n) resolve(lines[n]!);
          else waiters.push(check);
        };
        check();
        void exited.then(() =>
          setImmediate(() =>
            lines.length > n
              ? resolve(lines[n]!)
              : reject(new Error(`relay exited before printing line ${n}: ${stderr}`)),
          ),
        );
      });
    const firstLine = line(0);
    firstLine.catch(() => undefined); // awaited only by tests that expect a URL
    return { child, exited, firstLine, line, stderr: () => stderr };
  }

  it('prints its URL, serves authenticated clients over wss and stops gracefully on SIGTERM', async () => {
    writeFileSync(join(work, 'cert.pem'), tls.cert);
    writeFileSync(join(work, 'key.pem'), tls.key);
    const run = launch([
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--cert',
      join(work, 'cert.pem'),
      '--key',
      join(work, 'key.pem'),
      '--no-static',
      '--log-level',
      'warn',
    ]);
    try {
      const line = await run.firstLine;
      const url = /(wss:\/\/127\.0\.0\.1:\d+\/ws)/.exec(line)?.[1];
      expect(url, line).toBeDefined();
      const { client } = await connectAs(url!, undefined, { ca: tls.cert });
      run.child.kill('SIGTERM');
      expect((await client.closed).code).toBe(1001);
      expect(await run.exited).toBe(0);
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
    }
  });

  it('serves the web client named with --static on the same port', async () => {
    const site = join(work, 'site');
    mkdirSync(site, { recursive: true });
    writeFileSync(join(site, 'index.html'), '<title>cli-static</title>');
    const run = launch(['--port', '0', '--static', site, '--log-level', 'warn']);
    try {
      const web = await run.line(1);
      const httpUrl = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(web)?.[1];
      expect(httpUrl, web).toBeDefined();
      const res = await fetch(httpUrl!);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('cli-static');
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(0);
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
    }
  });

  it('fails with a clear message on bad arguments', async () => {
    const run = launch(['--port', '99999']);
    expect(await run.exited).not.toBe(0);
    expect(run.stderr()).toMatch(/port/);
    const half = launch(['--port', '0', '--cert', join(work, 'cert.pem')]);
    expect(await half.exited).not.toBe(0);
    expect(half.stderr()).toMatch(/--cert and --key/);
  });
});
