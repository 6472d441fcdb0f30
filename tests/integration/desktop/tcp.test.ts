// The desktop app's direct TCP path against the real `parley` command, in test-bed namespaces. The desktop
// side (tests/harness/desktop/desktop-peer.ts) is the app's engine without Electron: the session in the "renderer" drives
// sockets that live in the REAL main-side handler (TcpSockets over nodeTcp) through a structured-clone
// stand-in for Electron's IPC; received files go through the REAL download sinks. No protocol change: a CLI
// and a desktop app move a file over route 'tcp', whichever of them listens (the follower, the higher
// identity id, listens; the leader connects). TCP blocked → the file still arrives over WebRTC or the
// relay; "always relay" on the desktop → main never listens, everything over the relay.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Host } from '../../testbed/index.js';
import { useTestbed } from '../../testbed/vitest.js';
import { startRelayHost, type RelayHandle } from '../../harness/peers/harness.js';
import { jsonOf, LiveCli, newHome, parley } from '../cli/harness.js';
import { Desktop } from '../../harness/desktop/desktop.js';

const sha256 = async (p: string): Promise<string> =>
  createHash('sha256')
    .update(await readFile(p))
    .digest('hex');

/** TCP sockets in LISTEN inside `host` (its own /proc/net/tcp). */
async function listening(host: Host): Promise<string[]> {
  const { stdout } = await host.exec('cat', ['/proc/net/tcp']);
  return stdout
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length > 3 && f[3] === '0A')
    .map((f) => f[1]!);
}

describe('the desktop TCP path (sockets in main, session in the renderer) against the parley command', () => {
  const bed = useTestbed({ hosts: ['a', 'b', 'relay'] });
  let relay: RelayHandle | undefined;
  let desktop: Desktop | undefined;
  const dirs: string[] = [];
  const live: LiveCli[] = [];
  let deskHome: string;
  let deskRecv: string;
  /** A CLI identity on host b that leads (lower id: it connects, the desktop's main listens). */
  let cliLeader: { home: string; id: string; name: string };
  /** A CLI identity on host b that follows (higher id: it listens, the desktop's main connects). */
  let cliFollower: { home: string; id: string; name: string };
  let small: string;
  let medium: string;
  let big: string;

  afterEach(async () => {
    for (const l of live.splice(0)) await l.proc.stop();
    const { a } = bed().hosts;
    await a.unblock();
    await a.unlimitRate();
  });
  afterAll(async () => {
    await desktop?.proc.stop();
    await relay?.proc.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  async function dir(label: string): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), `parley-desk-${label}-`));
    dirs.push(d);
    return d;
  }

  it('sets up a desktop on a and two CLI identities on b, one on each side of its id', async () => {
    const { a, b } = bed().hosts;
    relay = await startRelayHost(bed().hosts.relay);
    deskHome = await dir('home');
    deskRecv = await dir('recv');
    // Four CLI identities first, then a desktop identity that falls between them (ids are random: made the
    // other way round, a desktop id near either end left one side empty in 12 tries ~15 % of runs). A desktop
    // outside [min, max] of four ids (2 in 5) is replaced; eight tries fail about once in 1,500 runs.
    const clis: Array<{ home: string; id: string; name: string; invite: string }> = [];
    for (let i = 0; i < 4; i++) {
      const home = await newHome(`c${i}`);
      dirs.push(home);
      const name = `C${i}`;
      const [me] = jsonOf<{ id: string; invite: string }>(
        await parley(b, home, ['id', '--name', name, '--relay', relay.url, '--json']),
      );
      if (!me) throw new Error('parley id printed nothing');
      clis.push({ home, id: me.id, name, invite: me.invite });
    }
    clis.sort((x, y) => (x.id < y.id ? -1 : 1));
    for (let i = 0; i < 8; i++) {
      deskHome = await dir('home');
      desktop = await Desktop.start(a, deskHome, relay.url, { recvDir: deskRecv });
      if (clis[0]!.id < desktop.id && desktop.id < clis.at(-1)!.id) break;
      await desktop.request({ cmd: 'close' });
      await desktop.proc.exited;
      desktop = undefined;
    }
    if (!desktop) throw new Error('no desktop identity between the CLI ones in 8 tries');
    const deskId = desktop.id;
    const leader = clis.filter((c) => c.id < deskId).at(-1)!;
    const follower = clis.find((c) => c.id > deskId)!;
    for (const mine of [leader, follower]) {
      expect((await parley(b, mine.home, ['add', desktop.invite])).code).toBe(0);
      await desktop.request({ cmd: 'add', invite: mine.invite }, 60_000);
    }
    cliLeader = leader;
    cliFollower = follower;
    const src = await dir('src');
    small = join(src, 'small.bin');
    medium = join(src, 'medium.bin');
    await writeFile(small, randomBytes(2 * 1024 * 1024 + 5));
    await writeFile(medium, randomBytes(8 * 1024 * 1024 + 3));
    big = join(src, 'big.bin');
    await writeFile(big, randomBytes(48 * 1024 * 1024 + 11));
  });

  const cliRoutes = (cli: LiveCli): string[] =>
    cli.lines.filter((l) => l['type'] === 'progress').map((l) => String(l['route']));

  it("main listens: a CLI sends to the desktop over route 'tcp', written by main's sinks, hashes equal", async () => {
    const send = LiveCli.start(bed().hosts.b, cliLeader.home, ['send', 'Desk', medium]);
    live.push(send);
    const result = await send.next((l) => l['type'] === 'result', 90_000);
    expect(result, send.stderr).toMatchObject({ ok: true });
    await desktop!.verified('in');
    expect(await sha256(join(deskRecv, 'medium.bin'))).toBe(await sha256(medium));
    const seen = cliRoutes(send);
    expect(seen).toContain('tcp');
    expect(seen.at(-1)).toBe('tcp');
    expect(await desktop!.routes('in')).toContain('tcp');
  });

  it("main connects: the desktop sends to a CLI receiver over route 'tcp', hashes equal", async () => {
    const dest = await dir('dest');
    const recv = LiveCli.start(bed().hosts.b, cliFollower.home, ['receive', '--dir', dest]);
    live.push(recv);
    await recv.next((l) => l['type'] === 'ready');
    const offerId = await desktop!.sendFile(cliFollower.id, medium, 'medium.bin', 8 * 1024 * 1024 + 3);
    await desktop!.verified('out', offerId);
    await recv.next((l) => l['type'] === 'file' && l['state'] === 'verified');
    expect(await sha256(join(dest, 'medium.bin'))).toBe(await sha256(medium));
    const seen = await desktop!.routes('out');
    expect(seen).toContain('tcp');
    expect(seen.at(-1)).toBe('tcp');
    expect(cliRoutes(recv)).toContain('tcp');
  });

  it('TCP blocked on the desktop host: the file still arrives, over WebRTC or the relay, never tcp', async () => {
    const { a } = bed().hosts;
    await a.blockTcpExcept([relay!.port]);
    const dest = await dir('dest-blocked');
    const recv = LiveCli.start(bed().hosts.b, cliFollower.home, ['receive', '--dir', dest]);
    live.push(recv);
    await recv.next((l) => l['type'] === 'ready');
    const offerId = await desktop!.sendFile(cliFollower.id, small, 'small.bin', 2 * 1024 * 1024 + 5);
    await desktop!.verified('out', offerId, 120_000);
    await recv.next((l) => l['type'] === 'file' && l['state'] === 'verified', 60_000);
    expect(await sha256(join(dest, 'small.bin'))).toBe(await sha256(small));
    const seen = await desktop!.routes('out');
    expect(seen.length).toBeGreaterThan(0);
    expect(seen).not.toContain('tcp');
    expect(seen.every((r) => r === 'webrtc' || r === 'relay')).toBe(true);
  });

  it("TCP cut mid-transfer on the desktop host: the desktop's file finishes over WebRTC or the relay, every byte once", async () => {
    const { a } = bed().hosts;
    // ~12 MB/s out of the desktop host, so the cut lands mid-file.
    await a.limitRate({ rate: '100mbit', burst: '256kb', latency: '100ms' });
    const dest = await dir('dest-cut');
    const recv = LiveCli.start(bed().hosts.b, cliFollower.home, ['receive', '--dir', dest]);
    live.push(recv);
    await recv.next((l) => l['type'] === 'ready');
    await desktop!.routes('out'); // forget earlier transfers' routes
    const offerId = await desktop!.sendFile(cliFollower.id, big, 'big.bin', 48 * 1024 * 1024 + 11);
    await desktop!.proc.next(
      (m) => m.type === 'progress' && m.offerId === offerId && m.route === 'tcp' && m.fileBytesDone >= 8 << 20,
      90_000,
    );
    await a.blockTcpExcept([relay!.port]);
    const before = await desktop!.routes('out');
    await desktop!.verified('out', offerId, 150_000);
    await recv.next((l) => l['type'] === 'file' && l['state'] === 'verified', 60_000);
    const out = join(dest, 'big.bin');
    expect((await stat(out)).size).toBe((await stat(big)).size);
    expect(await sha256(out)).toBe(await sha256(big));
    expect(before).toContain('tcp');
    const after = await desktop!.routes('out');
    expect(after.some((r) => r === 'webrtc' || r === 'relay')).toBe(true);
    expect(after.at(-1)).not.toBe('tcp');
  });

  it('"always relay" on the desktop: main never listens, the file comes over the relay', async () => {
    const { a, b } = bed().hosts;
    await desktop!.request({ cmd: 'close' });
    await desktop!.proc.exited;
    desktop = await Desktop.start(a, deskHome, relay!.url, { recvDir: deskRecv, relayOnly: true });
    const before = await listening(a);
    const send = LiveCli.start(b, cliLeader.home, ['send', 'Desk', small]);
    live.push(send);
    const samples: Array<Promise<string[]>> = [];
    const result = await send.next((l) => {
      if (l['type'] === 'progress' && samples.length < 40) samples.push(listening(a));
      return l['type'] === 'result';
    }, 90_000);
    expect(result, send.stderr).toMatchObject({ ok: true });
    await desktop.verified('in');
    expect(await sha256(join(deskRecv, 'small.bin'))).toBe(await sha256(small));
    expect(samples.length).toBeGreaterThan(0);
    for (const s of await Promise.all(samples)) expect(s).toEqual(before);
    expect(cliRoutes(send).every((r) => r === 'relay')).toBe(true);
    expect(await desktop.routes('in')).not.toContain('tcp');
  });
});
