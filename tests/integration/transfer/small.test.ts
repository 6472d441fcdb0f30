// Small cases between Node peers in namespace hosts: empty files, Unicode names, a folder of 1,000
// files (tree kept), and offers with hostile names from a peer that bypasses its own checks.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newOfferId, TRANSFER_PROTOCOL_VERSION } from '../../../core/src/transfer/protocol.js';
import { useTestbed } from '../../testbed/vitest.js';
import { startRelayHost, type RelayHandle } from '../../harness/peers/harness.js';
import { pairPeers, tempDir, type TransferPeer } from '../../harness/transfer-peers/harness.js';
import type { TransferOut } from '../../harness/transfer-peers/protocol.js';

function walk(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name), base) : [relative(base, join(dir, e.name)).split('\\').join('/')],
  );
}

describe('small transfers between Node peers', () => {
  const bed = useTestbed({ hosts: ['a', 'b', 'relay'] });
  let relay: RelayHandle;
  let alice: TransferPeer;
  let bob: TransferPeer;
  const dirs: string[] = [];

  beforeAll(async () => {
    relay = await startRelayHost(bed().hosts.relay);
    [alice, bob] = await pairPeers(bed().hosts.a, bed().hosts.b, relay.url, {
      a: { fileEvents: false },
      b: { fileEvents: false },
    });
    dirs.push(alice.home, bob.home);
  });
  afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close(), relay?.proc.stop()]);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  async function sendAll(paths: string[]) {
    const offerIds = await alice.send(bob.id, paths);
    for (const offerId of offerIds) {
      const mine = await alice.waitFinal(offerId);
      expect(mine.state).toBe('done');
      expect(mine.files.filter((f) => f.state !== 'verified')).toEqual([]);
      await bob.waitFinal(offerId);
    }
    return offerIds;
  }

  it('sends empty files and keeps Unicode names', async () => {
    const src = tempDir('unicode');
    dirs.push(src);
    const root = join(src, 'ünïcödé');
    const files: Record<string, Buffer> = {
      'résumé — 履歴書.txt': Buffer.from('CV'),
      '🎉 party/émoji 😀.bin': randomBytes(70_000),
      'Ελληνικά/файл.txt': Buffer.from('γειά'),
      'empty.dat': Buffer.alloc(0),
      'nested/deeper/also empty': Buffer.alloc(0),
    };
    for (const [name, data] of Object.entries(files)) {
      mkdirSync(join(root, name, '..'), { recursive: true });
      writeFileSync(join(root, name), data);
    }
    const lone = join(src, 'lone-empty');
    writeFileSync(lone, '');
    await sendAll([root, lone]);
    for (const [name, data] of Object.entries(files))
      expect(readFileSync(join(bob.recvDir, 'ünïcödé', name)).equals(data)).toBe(true);
    expect(readFileSync(join(bob.recvDir, 'lone-empty')).length).toBe(0);
  });

  it('sends a folder of 1,000 small files with its tree', async () => {
    const src = tempDir('thousand');
    dirs.push(src);
    const root = join(src, 'thousand');
    const expected = new Map<string, Buffer>();
    for (let i = 0; i < 1000; i++) {
      const name = `d${i % 10}/sub${i % 3}/file-${i}.dat`;
      const data = randomBytes(i % 4096);
      mkdirSync(join(root, name, '..'), { recursive: true });
      writeFileSync(join(root, name), data);
      expected.set(`thousand/${name}`, data);
    }
    await sendAll([root]);
    const received = walk(join(bob.recvDir, 'thousand'), bob.recvDir);
    expect(received.sort()).toEqual([...expected.keys()].sort());
    for (const [name, data] of expected) expect(readFileSync(join(bob.recvDir, name)).equals(data)).toBe(true);
  });

  it('refuses offers with hostile names and writes nothing', async () => {
    const before = walk(bob.recvDir);
    const hostile = [
      '../escape.txt',
      'a/../../escape.txt',
      '/etc/parley-owned',
      'C:\\Windows\\x.dll',
      'C:/x',
      'CON',
      'nul.txt',
      'com1.log',
      'trail. ',
      'x\u0000y',
      'bidi\u202eexe.txt',
    ];
    const replies = new Map<string, { t: string; code?: string; message?: string }>();
    let allReplied!: () => void;
    const replied = new Promise<void>((resolve) => (allReplied = resolve));
    const tap = alice.proc.inbox.tap((m: TransferOut) => {
      if (m.type !== 'raw-reply') return false;
      const message = m.message as { offerId: string; t: string; code?: string; message?: string };
      replies.set(message.offerId, message);
      if (replies.size === hostile.length) allReplied();
      return true;
    });
    try {
      const ids: string[] = [];
      for (const relativePath of hostile) {
        const offerId = newOfferId();
        ids.push(offerId);
        await alice.request({
          cmd: 'raw',
          contactId: bob.id,
          message: {
            t: 'offer',
            v: TRANSFER_PROTOCOL_VERSION,
            offerId,
            round: 1,
            total: 4,
            files: [{ fileId: 0, relativePath, size: 4, mime: 'text/plain' }],
          },
        });
      }
      await replied;
      // Every offer was answered with a refusal naming the problem, and the receiver said why too.
      expect(ids.map((id) => replies.get(id)?.t)).toEqual(hostile.map(() => 'decline'));
      expect(ids.map((id) => replies.get(id)?.code)).toEqual(hostile.map(() => 'bad-name'));
      expect(ids.every((id) => replies.get(id)?.message?.startsWith('refused file name'))).toBe(true);
      for (let i = 0; i < hostile.length; i++)
        expect((await bob.waitError('bad-name')).message).toMatch(/^refused file name/);
    } finally {
      tap();
    }
    expect(walk(bob.recvDir)).toEqual(before);
    expect(existsSync(join(bob.recvDir, '..', 'escape.txt'))).toBe(false);
    expect(existsSync('/etc/parley-owned')).toBe(false);
  });
});
