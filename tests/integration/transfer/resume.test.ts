// Interruptions between Node peers in namespace hosts: the receiver SIGKILLed at about 50 % and
// restarted, the sender SIGKILLed and restarted, and a receive folder that fills up (a small tmpfs).
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useTestbed } from '../../testbed/vitest.js';
import { startRelayHost, type RelayHandle } from '../../harness/peers/harness.js';
import {
  mountTmpfs,
  pairPeers,
  randomFile,
  resizeTmpfs,
  sha256File,
  tempDir,
  TransferPeer,
  unmount,
} from '../../harness/transfer-peers/harness.js';

const MB = 1000 * 1000;
const SIZE = 100 * MB;

describe('transfers resume after interruptions', () => {
  const bed = useTestbed({ hosts: ['a', 'b', 'relay'] });
  const started: Array<TransferPeer | RelayHandle> = [];
  const dirs: string[] = [];
  const mounts: string[] = [];
  let source = '';
  let sourceHash = '';
  let relay: RelayHandle;

  beforeAll(async () => {
    const dir = tempDir('src');
    dirs.push(dir);
    source = randomFile(dir, 'big.bin', SIZE);
    sourceHash = await sha256File(source);
    relay = await startRelayHost(bed().hosts.relay);
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((p) => ('close' in p ? p.close() : p.proc.stop())));
    for (const dir of mounts.splice(0)) await unmount(dir);
  });
  afterAll(async () => {
    await relay?.proc.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  async function pair(options: Parameters<typeof pairPeers>[3] = {}) {
    const { a, b } = bed().hosts;
    const peers = await pairPeers(a, b, relay.url, options);
    started.push(...peers);
    dirs.push(peers[0].home, peers[1].home);
    return peers;
  }

  function partials(dir: string): string[] {
    return readdirSync(dir).filter((n) => n.endsWith('.part'));
  }

  it('resumes after the receiver is killed at about 50 %, re-sending at most 1 % of the file', async () => {
    const [alice, bob] = await pair();
    const [offerId] = await alice.send(bob.id, [source]);
    await bob.waitProgress((p) => p.offerId === offerId && p.bytesDone >= SIZE / 2);
    await bob.kill();
    expect(partials(bob.recvDir)).toHaveLength(1);
    const bob2 = await TransferPeer.spawn(bed().hosts.b, 'bob', relay.url, bob.options, bob.home);
    started.push(bob2);
    const mine = await alice.waitFinal(offerId!);
    expect(mine.files[0]!.state).toBe('verified');
    const theirs = await bob2.waitFinal(offerId!);
    expect(theirs.files[0]!.state).toBe('verified');
    expect(await sha256File(join(bob.recvDir, 'big.bin'))).toBe(sourceHash);
    expect(partials(bob.recvDir)).toEqual([]);
    const stats = await alice.stats(bob.id);
    const resent = stats.engine.chunkBytesSent - SIZE;
    const theirStats = await bob2.stats(alice.id);
    console.log(
      `[transfer] receiver killed: ${(resent / MB).toFixed(2)} MB re-sent (${((100 * resent) / SIZE).toFixed(2)} %);` +
        ` session re-sent ${stats.stream?.framesResent} frames; restarted receiver got ${(theirStats.engine.chunkBytesReceived / MB).toFixed(1)} MB` +
        ` (${(theirStats.engine.duplicateBytes / MB).toFixed(2)} MB duplicate, ${theirStats.engine.resumeRequests} resume requests)`,
    );
    expect(resent).toBeGreaterThanOrEqual(0);
    expect(resent).toBeLessThanOrEqual(SIZE / 100);
  });

  it('resumes after the sender is killed and restarted', async () => {
    const [alice, bob] = await pair();
    const [offerId] = await alice.send(bob.id, [source]);
    await bob.waitProgress((p) => p.offerId === offerId && p.bytesDone >= SIZE / 3);
    await alice.kill();
    const alice2 = await TransferPeer.spawn(bed().hosts.a, 'alice', relay.url, alice.options, alice.home);
    started.push(alice2);
    const mine = await alice2.waitFinal(offerId!);
    expect(mine.files[0]!.state).toBe('verified');
    const theirs = await bob.waitFinal(offerId!);
    expect(theirs.files[0]!.state).toBe('verified');
    expect(await sha256File(join(bob.recvDir, 'big.bin'))).toBe(sourceHash);
    // The restarted sender continued: it sent well under the whole file again.
    const stats = await alice2.stats(bob.id);
    expect(stats.engine.chunkBytesSent).toBeGreaterThan(0);
    expect(stats.engine.chunkBytesSent).toBeLessThan((SIZE * 3) / 4);
  });

  it('stops with a clear error when the disk fills up, keeps the partial, and completes once there is room', async () => {
    const recv = join(tempDir('tmpfs'), 'mnt');
    dirs.push(recv);
    await mountTmpfs(recv, 8);
    mounts.push(recv);
    const file = randomFile(tempDir('src12'), 'twelve.bin', 12 * 1024 * 1024);
    dirs.push(join(file, '..'));
    const [alice, bob] = await pair({ b: { recvDir: recv } });
    const [offerId] = await alice.send(bob.id, [file]);
    const error = await bob.waitError('disk-full');
    expect(error.message).toMatch(/disk full while writing twelve\.bin; the partial file is kept/);
    const paused = await alice.waitState(offerId!, (i) => i.state === 'paused');
    expect(paused.error?.code).toBe('disk-full');
    await bob.waitState(offerId!, (i) => i.state === 'paused');
    const [partial] = partials(recv);
    expect(partial).toBeDefined();
    const kept = statSync(join(recv, partial!)).size;
    expect(kept).toBeGreaterThan(4 * 1024 * 1024);
    expect(existsSync(join(recv, 'twelve.bin'))).toBe(false);

    await resizeTmpfs(recv, 32);
    await bob.request({ cmd: 'resume', offerId: offerId! });
    expect((await alice.waitFinal(offerId!)).files[0]!.state).toBe('verified');
    await bob.waitFinal(offerId!);
    expect(await sha256File(join(recv, 'twelve.bin'))).toBe(await sha256File(file));
    expect(partials(recv)).toEqual([]);
    // What was on disk was kept: far less than the whole file went again.
    const stats = await alice.stats(bob.id);
    expect(stats.engine.chunkBytesSent - 12 * 1024 * 1024).toBeLessThan(kept);
  });
});
