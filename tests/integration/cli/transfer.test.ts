// `parley send` / `parley receive` between namespace hosts (relay in a third): a few files and a folder
// over the direct link, then over the relay with everything but the relay port blocked; hashes equal.
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { useTestbed } from '../../testbed/vitest.js';
import { startRelayHost, type RelayHandle } from '../../harness/peers/harness.js';
import { jsonOf, LiveCli, newHome, parley } from './harness.js';
import { hashTree } from '../../harness/hash-tree.js';

describe('parley send / receive between namespace hosts', () => {
  const bed = useTestbed({ hosts: ['a', 'b', 'relay'] });
  let relay: RelayHandle | undefined;
  const dirs: string[] = [];
  const live: LiveCli[] = [];
  let alice: string;
  let bob: string;
  let src: string;

  afterEach(async () => {
    for (const l of live.splice(0)) await l.proc.stop();
    await bed().hosts.a.unblock();
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

  it('sets up two identities that know each other, and files to send', async () => {
    const { a, b } = bed().hosts;
    relay = await startRelayHost(bed().hosts.relay);
    alice = await dir('alice');
    bob = await dir('bob');
    const ia = jsonOf<{ invite: string }>(
      await parley(a, alice, ['id', '--name', 'Alice', '--relay', relay.url, '--json']),
    )[0]!;
    const ib = jsonOf<{ invite: string }>(
      await parley(b, bob, ['id', '--name', 'Bob', '--relay', relay.url, '--json']),
    )[0]!;
    expect((await parley(a, alice, ['add', ib.invite])).code).toBe(0);
    expect((await parley(b, bob, ['add', ia.invite])).code).toBe(0);
    src = await dir('src');
    await mkdir(join(src, 'folder', 'nested'), { recursive: true });
    await writeFile(join(src, 'one.bin'), randomBytes(12 * 1024 * 1024 + 5));
    await writeFile(join(src, 'two.txt'), 'two\n');
    await writeFile(join(src, 'folder', 'a.bin'), randomBytes(300_000));
    await writeFile(join(src, 'folder', 'nested', 'b – ü.txt'), 'nested\n');
    await writeFile(join(src, 'folder', 'nested', 'empty'), '');
  });

  async function transfer(
    label: string,
  ): Promise<{ send: Array<Record<string, unknown>>; recv: LiveCli; dest: string }> {
    const dest = await dir(`dest-${label}`);
    const recv = LiveCli.start(bed().hosts.b, bob, ['receive', '--dir', dest, '--once']);
    live.push(recv);
    await recv.next((l) => l['type'] === 'ready');
    const r = await parley(bed().hosts.a, alice, [
      'send',
      'Bob',
      join(src, 'one.bin'),
      join(src, 'two.txt'),
      join(src, 'folder'),
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    await recv.next((l) => l['type'] === 'done');
    return { send: jsonOf(r), recv, dest };
  }

  it('sends files and a folder over the direct link: exit 0, every file verified, hashes equal', async () => {
    const { send, recv, dest } = await transfer('direct');
    expect(send.at(-1)).toMatchObject({ type: 'result', ok: true });
    expect(send.filter((l) => l['type'] === 'file' && l['state'] === 'verified')).toHaveLength(5);
    expect(recv.lines.find((l) => l['type'] === 'done')).toMatchObject({ ok: true });
    expect(await hashTree(dest)).toEqual(await hashTree(src));
    // The bulk of the big file went direct (progress reports the path in use).
    const paths = send.filter((l) => l['type'] === 'progress' && l['file'] === 'one.bin').map((l) => l['path']);
    expect(paths).toContain('direct');
  });

  it('with everything but the relay port blocked, the same files go over the relay, hashes equal', async () => {
    await bed().hosts.a.blockAllExcept({ tcpPorts: [relay!.port], host: bed().hosts.relay });
    const { send, dest } = await transfer('relay');
    expect(send.at(-1)).toMatchObject({ type: 'result', ok: true });
    const paths = new Set(send.filter((l) => l['type'] === 'progress').map((l) => l['path']));
    expect(paths.has('direct')).toBe(false);
    expect(paths.has('relay')).toBe(true);
    expect(await hashTree(dest)).toEqual(await hashTree(src));
  });
});
