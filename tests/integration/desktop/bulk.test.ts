// Stage B of the desktop TCP path, in test-bed namespaces: two desktop apps minus Electron (fixtures/
// tests/harness/desktop/desktop-peer.ts with `bulk`: the real main-side BulkLanes, BulkSources, DownloadSinks and TcpSockets behind a
// structured-clone IPC stand-in, the real preload bridge and renderer pieces under core Messengers). A file the
// user picked in main's dialog goes from the sender's main to the receiver's main on a lane of its own, disk to
// disk; the binary bytes that cross either IPC stand-in are counted: control only. A lane cut mid-file finishes
// over the session's other paths with the same hash; the `parley` command (no lanes) still sends to and
// receives from a desktop with lanes, on the session stream.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { useTestbed } from '../../testbed/vitest.js';
import { startRelayHost, type RelayHandle } from '../../harness/peers/harness.js';
import { jsonOf, LiveCli, newHome, parley } from '../cli/harness.js';
import { Desktop, type IpcCount } from '../../harness/desktop/desktop.js';

const sha256 = async (p: string): Promise<string> =>
  createHash('sha256')
    .update(await readFile(p))
    .digest('hex');

const ipcTotal = (c: IpcCount): number => c.toMain + c.toRenderer;

describe('bulk lanes between two desktop main processes (stage B)', () => {
  const bed = useTestbed({ hosts: ['a', 'b', 'relay'] });
  let relay: RelayHandle | undefined;
  let alice: Desktop | undefined;
  let bob: Desktop | undefined;
  let cli: { home: string; id: string; name: string } | undefined;
  let aliceRecv: string;
  let bobRecv: string;
  let big: string;
  let medium: string;
  const BIG = 48 * 1024 * 1024 + 11;
  const MEDIUM = 6 * 1024 * 1024 + 3;
  const dirs: string[] = [];
  const live: LiveCli[] = [];

  afterEach(async () => {
    for (const l of live.splice(0)) await l.proc.stop();
    const { a } = bed().hosts;
    await a.unblock();
    await a.unlimitRate();
  });
  afterAll(async () => {
    await alice?.proc.stop();
    await bob?.proc.stop();
    await relay?.proc.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  async function dir(label: string): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), `parley-bulk-${label}-`));
    dirs.push(d);
    return d;
  }

  it('sets up a desktop on a, a desktop and a CLI identity on b, all contacts', async () => {
    const { a, b } = bed().hosts;
    relay = await startRelayHost(bed().hosts.relay);
    aliceRecv = await dir('alice-recv');
    bobRecv = await dir('bob-recv');
    [alice, bob] = await Promise.all([
      Desktop.start(a, await dir('alice'), relay.url, { recvDir: aliceRecv, bulk: true }),
      Desktop.start(b, await dir('bob'), relay.url, { recvDir: bobRecv, bulk: true }),
    ]);
    await alice.request({ cmd: 'add', invite: bob.invite }, 60_000);
    await bob.request({ cmd: 'add', invite: alice.invite }, 60_000);
    const home = await newHome('cli');
    dirs.push(home);
    const [me] = jsonOf<{ id: string; invite: string }>(
      await parley(b, home, ['id', '--name', 'Cli', '--relay', relay.url, '--json']),
    );
    if (!me) throw new Error('parley id printed nothing');
    expect((await parley(b, home, ['add', alice.invite])).code).toBe(0);
    await alice.request({ cmd: 'add', invite: me.invite }, 60_000);
    cli = { home, id: me.id, name: 'Cli' };
    const src = await dir('src');
    big = join(src, 'big.bin');
    medium = join(src, 'medium.bin');
    await writeFile(big, randomBytes(BIG));
    await writeFile(medium, randomBytes(MEDIUM));
  });

  it('a picked 48 MiB file goes main to main on a lane: hashes equal, only control crosses either IPC', async () => {
    const [aBefore, bBefore] = await Promise.all([alice!.ipc(), bob!.ipc()]);
    const offerId = await alice!.sendPicked(bob!.id, big, 'big.bin', BIG);
    await Promise.all([alice!.verified('out', offerId, 120_000), bob!.verified('in', offerId, 120_000)]);
    expect(await sha256(join(bobRecv, 'big.bin'))).toBe(await sha256(big));
    const [aAfter, bAfter] = await Promise.all([alice!.ipc(), bob!.ipc()]);
    expect(aAfter.stats.laneBytesSent - aBefore.stats.laneBytesSent).toBe(BIG);
    expect(bAfter.stats.laneBytesReceived - bBefore.stats.laneBytesReceived).toBe(BIG);
    expect(bAfter.stats.chunkBytesReceived - bBefore.stats.chunkBytesReceived).toBe(0);
    // The file is 48 MiB; each side's IPC carried lane keys, digest states and session records (chats, acks).
    expect(ipcTotal(aAfter) - ipcTotal(aBefore)).toBeLessThan(1024 * 1024);
    expect(ipcTotal(bAfter) - ipcTotal(bBefore)).toBeLessThan(1024 * 1024);
    expect(await bob!.routes('in')).toContain('tcp');
  });

  it('the lane cut mid-file (TCP blocked on a): the file finishes over WebRTC or the relay, same hash', async () => {
    const { a } = bed().hosts;
    // ~12 MB/s out of a, so the cut lands mid-file.
    await a.limitRate({ rate: '100mbit', burst: '256kb', latency: '100ms' });
    const before = await bob!.ipc();
    const offerId = await alice!.sendPicked(bob!.id, big, 'big-cut.bin', BIG);
    await bob!.proc.next(
      (m) => m.type === 'progress' && m.offerId === offerId && m.direction === 'in' && m.fileBytesDone >= 8 << 20,
      90_000,
    );
    await a.blockTcpExcept([relay!.port]);
    await Promise.all([alice!.verified('out', offerId, 180_000), bob!.verified('in', offerId, 180_000)]);
    const out = join(bobRecv, 'big-cut.bin');
    expect((await stat(out)).size).toBe(BIG);
    expect(await sha256(out)).toBe(await sha256(big));
    const after = await bob!.ipc();
    const lane = after.stats.laneBytesReceived - before.stats.laneBytesReceived;
    const stream = after.stats.chunkBytesReceived - before.stats.chunkBytesReceived;
    expect(lane).toBeGreaterThanOrEqual(8 << 20);
    expect(stream).toBeGreaterThan(0);
    // At most one digest block (1 MiB) and the chunks in flight went twice.
    expect(lane + stream).toBeLessThanOrEqual(BIG + 2 * 1024 * 1024);
  });

  it('the parley command (no lanes) sends to a desktop with lanes: the session stream, hashes equal', async () => {
    const send = LiveCli.start(bed().hosts.b, cli!.home, ['send', 'Desk', medium]);
    live.push(send);
    const before = await alice!.ipc();
    const result = await send.next((l) => l['type'] === 'result', 90_000);
    expect(result, send.stderr).toMatchObject({ ok: true });
    await alice!.verified('in');
    expect(await sha256(join(aliceRecv, 'medium.bin'))).toBe(await sha256(medium));
    const after = await alice!.ipc();
    expect(after.stats.laneBytesReceived).toBe(before.stats.laneBytesReceived);
    expect(after.stats.chunkBytesReceived - before.stats.chunkBytesReceived).toBeGreaterThanOrEqual(MEDIUM);
  });

  it('a picked file to the parley command (no lanes): main reads it for the session stream, hashes equal', async () => {
    const dest = await dir('cli-dest');
    const recv = LiveCli.start(bed().hosts.b, cli!.home, ['receive', '--dir', dest]);
    live.push(recv);
    await recv.next((l) => l['type'] === 'ready');
    const before = await alice!.ipc();
    const offerId = await alice!.sendPicked(cli!.id, medium, 'medium.bin', MEDIUM);
    await alice!.verified('out', offerId);
    await recv.next((l) => l['type'] === 'file' && l['state'] === 'verified');
    expect(await sha256(join(dest, 'medium.bin'))).toBe(await sha256(medium));
    const after = await alice!.ipc();
    expect(after.stats.laneBytesSent).toBe(before.stats.laneBytesSent);
    // Read through main over IPC (stage A's cost, only for a peer without lanes).
    expect(after.toRenderer - before.toRenderer).toBeGreaterThanOrEqual(MEDIUM);
  });
});
