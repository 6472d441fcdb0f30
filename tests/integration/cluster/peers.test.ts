// Two Parley peers (the real `parley` command, Node) on different nodes of a 3-node cluster behind one
// relay address: they add each other, chat, and send files end to end over the direct link and relay-only.
import { createHash, randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RelayStats } from '../../../signaling/server/index.js';
import type { NodeProcess } from '../../testbed/index.js';
import { useTestbed } from '../../testbed/vitest.js';
import { jsonOf, LiveCli, newHome, parley } from '../cli/harness.js';

type HostOut = { type: 'listening'; port: number; url: string } | { type: 'stats'; nodes: RelayStats[] };

describe('Parley peers on different cluster nodes', () => {
  const bed = useTestbed({ hosts: ['a', 'b', 'relay'] });
  let cluster: NodeProcess<HostOut, { cmd: string }> | undefined;
  let url = '';
  let port = 0;
  const dirs: string[] = [];
  const live: LiveCli[] = [];
  let alice: string;
  let bob: string;
  let file: string;
  let fileHash: string;

  afterEach(async () => {
    for (const l of live.splice(0)) await l.proc.stop();
    await bed().hosts.a.unblock();
  });
  afterAll(async () => {
    await cluster?.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  async function dir(label: string): Promise<string> {
    const d = await newHome(label);
    dirs.push(d);
    return d;
  }

  async function nodeStats(): Promise<RelayStats[]> {
    await cluster!.send({ cmd: 'stats' });
    const m = await cluster!.next((x) => x.type === 'stats', 10_000);
    return (m as Extract<HostOut, { type: 'stats' }>).nodes;
  }

  it('starts the cluster and two identities that know each other through one relay address', async () => {
    const { a, b, relay } = bed().hosts;
    const lbPort = 8700 + Math.floor(Math.random() * 200);
    cluster = relay.spawnNode<HostOut, { cmd: string }>(join(import.meta.dirname, 'cluster-host.ts'), [
      relay.address,
      String(lbPort),
      JSON.stringify({ [a.address]: 0, [b.address]: 1 }),
    ]);
    const listening = (await cluster.next((m) => m.type === 'listening', 60_000)) as Extract<
      HostOut,
      { type: 'listening' }
    >;
    url = listening.url;
    port = listening.port;
    alice = await dir('alice');
    bob = await dir('bob');
    const ia = jsonOf<{ invite: string }>(
      await parley(a, alice, ['id', '--name', 'Alice', '--relay', url, '--json']),
    )[0]!;
    const ib = jsonOf<{ invite: string }>(await parley(b, bob, ['id', '--name', 'Bob', '--relay', url, '--json']))[0]!;
    expect((await parley(a, alice, ['add', ib.invite])).code).toBe(0);
    expect((await parley(b, bob, ['add', ia.invite])).code).toBe(0);
    file = join(await dir('src'), 'big.bin');
    const bytes = randomBytes(8 * 1024 * 1024 + 3);
    await writeFile(file, bytes);
    fileHash = createHash('sha256').update(bytes).digest('hex');
  });

  async function chatAndFile(label: string): Promise<{ paths: Set<unknown> }> {
    const { a, b } = bed().hosts;
    const listen = LiveCli.start(b, bob, ['listen']);
    live.push(listen);
    await listen.next((x) => x['type'] === 'relay' && x['state'] === 'online');
    const said = await parley(a, alice, ['say', 'Bob', `hello across nodes (${label})`, '--json']);
    expect(said.code, said.stderr).toBe(0);
    expect(jsonOf(said)[0]).toMatchObject({ type: 'delivered', text: `hello across nodes (${label})` });
    expect(await listen.next((x) => x['type'] === 'message')).toMatchObject({ text: `hello across nodes (${label})` });
    await listen.proc.stop();

    const dest = await dir(`dest-${label}`);
    const recv = LiveCli.start(b, bob, ['receive', '--dir', dest, '--once']);
    live.push(recv);
    await recv.next((l) => l['type'] === 'ready');
    const sent = await parley(a, alice, ['send', 'Bob', file, '--json']);
    expect(sent.code, sent.stderr).toBe(0);
    await recv.next((l) => l['type'] === 'done');
    const got = await readFile(join(dest, 'big.bin'));
    expect(createHash('sha256').update(got).digest('hex')).toBe(fileHash);
    return {
      paths: new Set(
        jsonOf(sent)
          .filter((l) => l['type'] === 'progress')
          .map((l) => l['path']),
      ),
    };
  }

  it('chat and a file over the direct link, signalled across nodes', async () => {
    const before = await nodeStats();
    const { paths } = await chatAndFile('direct');
    expect(paths.has('direct')).toBe(true);
    const after = await nodeStats();
    // Alice's connections landed on node 1 and Bob's on node 2: their signals crossed nodes.
    expect(after[0]!.authenticatedTotal).toBeGreaterThan(before[0]!.authenticatedTotal);
    expect(after[1]!.authenticatedTotal).toBeGreaterThan(before[1]!.authenticatedTotal);
    expect(after[2]!.authenticatedTotal).toBe(0);
  });

  it('relay-only: chat and the file cross nodes over the node-to-node link', async () => {
    await bed().hosts.a.blockAllExcept({ tcpPorts: [port], host: bed().hosts.relay });
    const before = await nodeStats();
    const { paths } = await chatAndFile('relay');
    expect(paths.has('direct')).toBe(false);
    expect(paths.has('relay')).toBe(true);
    const after = await nodeStats();
    // The file's bytes left Alice's node (1) for Bob's (2) through the relay.
    expect(after[0]!.bytesForwarded - before[0]!.bytesForwarded).toBeGreaterThan(8 * 1024 * 1024);
  });
});
