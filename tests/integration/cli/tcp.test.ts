// The direct TCP path between real `parley` processes in namespace hosts: chosen and verified on a LAN
// (hash), cut mid-transfer (TCP dropped by iptables) → the transfer finishes over WebRTC or the relay with
// every byte once, the receiver killed (SIGKILL) mid-transfer and started again → resumes re-sending at most a window, strangers at the listening port dropped, the port only on the announced address, and
// no listener at all with --relay-only. The follower (higher identity id) answers, so it listens: its
// identity always runs on host b.
import { createHash, randomBytes } from 'node:crypto';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Host } from '../../testbed/index.js';
import { useTestbed } from '../../testbed/vitest.js';
import { startRelayHost, type RelayHandle } from '../../harness/peers/harness.js';
import { jsonOf, LiveCli, newHome, parley } from './harness.js';

const sha256 = async (p: string): Promise<string> =>
  createHash('sha256')
    .update(await readFile(p))
    .digest('hex');

/** TCP sockets in LISTEN inside `host` (its own /proc/net/tcp: the file is per network namespace). */
async function listening(host: Host): Promise<Array<{ address: string; port: number }>> {
  const out: Array<{ address: string; port: number }> = [];
  const { stdout } = await host.exec('cat', ['/proc/net/tcp']);
  for (const line of stdout.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || f[3] !== '0A') continue;
    const [hex, port] = f[1]!.split(':') as [string, string];
    const n = parseInt(hex, 16);
    const address = [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join('.');
    out.push({ address, port: parseInt(port, 16) });
  }
  return out;
}

/** Connects from `host` to addr:port, sends `payload` (hex, may be empty) and reports how the connection ended. */
async function stranger(
  host: Host,
  address: string,
  port: number,
  payloadHex: string,
): Promise<{ outcome: 'closed' | 'refused' | 'open'; ms: number }> {
  const code = `
const net = require('node:net');
const t0 = Date.now();
const s = net.connect(${port}, ${JSON.stringify(address)});
const done = (outcome) => { console.log(JSON.stringify({ outcome, ms: Date.now() - t0 })); process.exit(0); };
s.on('connect', () => { if (${JSON.stringify(payloadHex)}) s.write(Buffer.from(${JSON.stringify(payloadHex)}, 'hex')); });
s.on('data', () => {});
s.on('error', (e) => done(e.code === 'ECONNREFUSED' ? 'refused' : 'closed'));
s.on('close', () => done('closed'));
setTimeout(() => done('open'), 20000);`;
  const r = await host.exec(process.execPath, ['-e', code], { timeoutMs: 30_000 });
  return JSON.parse(r.stdout.trim()) as { outcome: 'closed' | 'refused' | 'open'; ms: number };
}

describe('the direct TCP path between parley processes', () => {
  const bed = useTestbed({ hosts: ['a', 'b', 'c', 'relay'] });
  let relay: RelayHandle | undefined;
  const dirs: string[] = [];
  const live: LiveCli[] = [];
  let leader: string; // home on host a
  let follower: string; // home on host b
  let followerName: string;
  let small: string;
  let big: string;

  afterEach(async () => {
    for (const l of live.splice(0)) await l.proc.stop();
    const { a, b } = bed().hosts;
    await Promise.all([a.unblock(), b.unblock()]);
    await a.unlimitRate();
  });
  afterAll(async () => {
    await relay?.proc.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  async function dir(label: string): Promise<string> {
    const d = await newHome(label);
    dirs.push(d);
    return d;
  }

  it('sets up two identities that know each other (leader on a, follower on b)', async () => {
    const { a, b } = bed().hosts;
    relay = await startRelayHost(bed().hosts.relay);
    const homes = [await dir('x'), await dir('y')];
    const ids = [
      jsonOf<{ id: string; invite: string }>(
        await parley(a, homes[0]!, ['id', '--name', 'X', '--relay', relay.url, '--json']),
      )[0]!,
      jsonOf<{ id: string; invite: string }>(
        await parley(b, homes[1]!, ['id', '--name', 'Y', '--relay', relay.url, '--json']),
      )[0]!,
    ];
    const l = ids[0]!.id < ids[1]!.id ? 0 : 1;
    leader = homes[l]!;
    follower = homes[1 - l]!;
    followerName = l === 0 ? 'Y' : 'X';
    expect((await parley(a, leader, ['add', ids[1 - l]!.invite])).code).toBe(0);
    expect((await parley(b, follower, ['add', ids[l]!.invite])).code).toBe(0);
    const src = await dir('src');
    small = join(src, 'small.bin');
    big = join(src, 'big.bin');
    await writeFile(small, randomBytes(8 * 1024 * 1024 + 3));
    await writeFile(big, randomBytes(48 * 1024 * 1024 + 11));
  });

  /** `receive` on b (follower), `send` of `file` on a (leader); both live. */
  async function start(
    file: string,
    opts: { receiverArgs?: string[] } = {},
  ): Promise<{ send: LiveCli; recv: LiveCli; dest: string }> {
    const dest = await dir('dest');
    const recv = LiveCli.start(bed().hosts.b, follower, [...(opts.receiverArgs ?? []), 'receive', '--dir', dest]);
    live.push(recv);
    await recv.next((l) => l['type'] === 'ready');
    const send = LiveCli.start(bed().hosts.a, leader, ['send', followerName, file]);
    live.push(send);
    return { send, recv, dest };
  }

  const routes = (cli: LiveCli): string[] =>
    cli.lines.filter((l) => l['type'] === 'progress').map((l) => String(l['route']));

  it('sends a file over the TCP path: route tcp, verified, hashes equal', async () => {
    const { send, recv, dest } = await start(small);
    const result = await send.next((l) => l['type'] === 'result', 90_000);
    expect(result).toMatchObject({ ok: true });
    await recv.next((l) => l['type'] === 'file' && l['state'] === 'verified');
    expect(await sha256(join(dest, 'small.bin'))).toBe(await sha256(small));
    const seen = routes(send);
    expect(seen).toContain('tcp');
    expect(seen.at(-1)).toBe('tcp');
    expect(routes(recv)).toContain('tcp');
  });

  it('TCP dropped mid-transfer: the file finishes over WebRTC or the relay, every byte once', async () => {
    const { a } = bed().hosts;
    // ~12 MB/s, so the cut lands mid-file.
    await a.limitRate({ rate: '100mbit', burst: '256kb', latency: '100ms' });
    const { send, recv, dest } = await start(big);
    await send.next(
      (l) => l['type'] === 'progress' && l['route'] === 'tcp' && Number(l['fileBytesDone']) >= 8 << 20,
      90_000,
    );
    await a.blockTcpExcept([relay!.port]);
    const cutAt = send.lines.length;
    const result = await send.next((l) => l['type'] === 'result', 120_000);
    expect(result, send.stderr).toMatchObject({ ok: true });
    await recv.next((l) => l['type'] === 'file' && l['state'] === 'verified');
    const after = send.lines
      .slice(cutAt)
      .filter((l) => l['type'] === 'progress')
      .map((l) => String(l['route']));
    expect(after.some((r) => r === 'webrtc' || r === 'relay')).toBe(true);
    const out = join(dest, 'big.bin');
    expect((await stat(out)).size).toBe((await stat(big)).size);
    expect(await sha256(out)).toBe(await sha256(big));
  });

  it('receiver killed mid-transfer over TCP and started again: the file resumes, re-sending at most a window', async () => {
    const { a } = bed().hosts;
    // ~12 MB/s, so the kill lands mid-file.
    await a.limitRate({ rate: '100mbit', burst: '256kb', latency: '100ms' });
    const { send, recv, dest } = await start(big);
    const before = await recv.next(
      (l) => l['type'] === 'progress' && l['route'] === 'tcp' && Number(l['fileBytesDone']) >= 16 << 20,
      90_000,
    );
    expect(await recv.stop('SIGKILL')).toBeNull();
    expect(recv.exitSignal).toBe('SIGKILL');
    // The same home and folder: the partial and its checkpoint are picked up again.
    const again = LiveCli.start(bed().hosts.b, follower, ['receive', '--dir', dest]);
    live.push(again);
    const resumedAt = await again.next((l) => l['type'] === 'progress', 90_000);
    const result = await send.next((l) => l['type'] === 'result', 120_000);
    expect(result, send.stderr).toMatchObject({ ok: true });
    await again.next((l) => l['type'] === 'file' && l['state'] === 'verified');
    const out = join(dest, 'big.bin');
    expect(await sha256(out)).toBe(await sha256(big));
    // What the killed receiver had written stays: the sender re-sends at most what was in flight (its
    // 4 MiB window) and a chunk, not the file from a checkpoint far behind.
    const size = (await stat(big)).size;
    const resent = Number(result['bytesSent']) - size;
    expect(resent).toBeGreaterThanOrEqual(0);
    expect(resent).toBeLessThanOrEqual(4 * 1024 * 1024 + 262_051);
    expect(Number(resumedAt['fileBytesDone'])).toBeGreaterThanOrEqual(Number(before['fileBytesDone']) - (4 << 20));
  });

  it('strangers at the port are dropped (garbage at once, silence at the deadline); only the announced address listens', async () => {
    const { a, b, c } = bed().hosts;
    // The leader cannot reach the listener, so it stays open for its whole window.
    await a.blockTcpExcept([relay!.port]);
    const { send } = await start(small);
    let found: Array<{ address: string; port: number }> = [];
    for (let i = 0; i < 150 && found.length === 0; i++) {
      found = await listening(b);
      if (found.length === 0) await new Promise((r) => setTimeout(r, 100)); // no event to wait for: bounded poll
    }
    expect(found).toHaveLength(1);
    const { address, port } = found[0]!;
    expect(address).toBe(b.address); // bound to the interface address, not 0.0.0.0
    const [garbage, silent, loopback] = await Promise.all([
      stranger(c, address, port, '00000010' + 'ff'.repeat(16)),
      stranger(c, address, port, ''),
      stranger(b, '127.0.0.1', port, ''),
    ]);
    expect(garbage.outcome).toBe('closed');
    expect(silent.outcome).toBe('closed'); // by the handshake deadline (5 s), not by our 20 s cap
    expect(garbage.ms).toBeLessThan(silent.ms); // garbage goes at once; silence waits for the deadline
    expect(loopback.outcome).toBe('refused');
    // Without TCP the transfer still completes (WebRTC over UDP, or the relay).
    expect(await send.next((l) => l['type'] === 'result', 90_000)).toMatchObject({ ok: true });
    expect(routes(send)).not.toContain('tcp');
  });

  it('--relay-only on the answering side: no listener at all, everything over the relay', async () => {
    const { b } = bed().hosts;
    const { send, recv, dest } = await start(small, { receiverArgs: ['--relay-only'] });
    const checks: Array<Promise<Array<{ address: string; port: number }>>> = [];
    const sampled = send.next((l) => {
      if (l['type'] === 'progress' && checks.length < 50) checks.push(listening(b));
      return l['type'] === 'result';
    }, 90_000);
    expect(await sampled).toMatchObject({ ok: true });
    await recv.next((l) => l['type'] === 'file' && l['state'] === 'verified');
    checks.push(listening(b));
    for (const l of await Promise.all(checks)) expect(l).toEqual([]);
    expect(new Set(routes(send))).toEqual(new Set(['relay']));
    expect(await sha256(join(dest, 'small.bin'))).toBe(await sha256(small));
  });
});
