// Contacts and messages through the real CLI and a real relay on 127.0.0.1. --relay-only: WebRTC runs
// only inside test namespaces (tests/integration/cli), never here in the root namespace.
import { describe, expect, it } from 'vitest';
import { jsonLines } from './helpers.js';
import { useCliWorld } from './cli-world.js';

const world = useCliWorld({ alice: 'Alice', bob: 'Bob', bob2: 'Bob' });
const ids = world.users;
const cli = (home: string, args: string[], timeoutMs?: number) => world.cli(home, args, timeoutMs ? { timeoutMs } : {});
const listen = (home: string) => world.json(home, ['listen']);

describe('add', () => {
  it('adds a contact from an invite and prints the JSON shape; adding again reports added:false', async () => {
    const r = await cli(ids.alice.home, ['add', ids.bob.invite, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(jsonLines(r.stdout)).toEqual([
      { id: ids.bob.id, name: 'Bob', relays: [world.relay.url], verified: false, added: true, status: 'waiting' },
    ]);
    const again = await cli(ids.alice.home, ['add', ids.bob.invite, '--json']);
    expect(jsonLines(again.stdout)).toEqual([
      { id: ids.bob.id, name: 'Bob', relays: [world.relay.url], verified: false, added: false, status: 'waiting' },
    ]);
    // Bob adds Alice back: her request was waiting for him, so this accepts it (mutual invites, no prompt).
    const back = await cli(ids.bob.home, ['add', ids.alice.invite]);
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toContain('added Alice');
  }, 30_000);

  it('refuses your own invite and a damaged one with exit 2', async () => {
    const own = await cli(ids.alice.home, ['add', ids.alice.invite]);
    expect(own.code).toBe(2);
    expect(own.stderr).toContain('your own');
    const bad = await cli(ids.alice.home, ['add', ids.bob.invite.replace(/pub=[^&]+/, 'pub=AAAA')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('public key');
    const junk = await cli(ids.alice.home, ['add', 'https://example.com']);
    expect(junk.code).toBe(2);
    expect(junk.stderr).toContain('not a Parley invite');
  }, 30_000);
});

describe('contacts, safety, verify', () => {
  it('lists contacts offline with the documented JSON shape', async () => {
    const r = await cli(ids.alice.home, ['contacts', '--offline', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const [list] = jsonLines(r.stdout) as Array<Array<Record<string, unknown>>>;
    expect(list).toHaveLength(1);
    expect(Object.keys(list![0]!).sort()).toEqual([
      'addedAt',
      'id',
      'lastMessageAt',
      'name',
      'online',
      'path',
      'relays',
      'status',
      'unread',
      'verified',
    ]);
    expect(list![0]).toMatchObject({ id: ids.bob.id, name: 'Bob', online: null, verified: false, path: 'none' });
  }, 30_000);

  it('learns presence from the relay: offline, then online while the contact listens', async () => {
    const off = await cli(ids.alice.home, ['contacts', '--json']);
    expect(off.code, off.stderr).toBe(0);
    expect((jsonLines(off.stdout)[0] as Array<Record<string, unknown>>)[0]).toMatchObject({
      id: ids.bob.id,
      online: false,
    });
    const bob = listen(ids.bob.home);
    await bob.waitFor((l) => l['type'] === 'relay' && l['state'] === 'online');
    const on = await cli(ids.alice.home, ['contacts', '--json']);
    expect((jsonLines(on.stdout)[0] as Array<Record<string, unknown>>)[0]).toMatchObject({
      id: ids.bob.id,
      online: true,
    });
    expect(await bob.stop()).toBe(0);
  }, 60_000);

  it('shows the same safety number on both sides and verifies only with the right one', async () => {
    const a = await cli(ids.alice.home, ['safety', 'Bob', '--json']);
    const b = await cli(ids.bob.home, ['safety', 'alice', '--json']);
    const [ja] = jsonLines(a.stdout) as Array<Record<string, unknown>>;
    const [jb] = jsonLines(b.stdout) as Array<Record<string, unknown>>;
    expect(Object.keys(ja!).sort()).toEqual(['id', 'name', 'safetyNumber', 'verified']);
    expect(ja!['safetyNumber']).toMatch(/^(\d{5} ){11}\d{5}$/);
    expect(ja!['safetyNumber']).toBe(jb!['safetyNumber']);

    const wrong = String(ja!['safetyNumber']).replace(/^\d/, (d) => String((Number(d) + 1) % 10));
    const refused = await cli(ids.alice.home, ['verify', 'Bob', wrong]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('does not match');
    const noNumber = await cli(ids.alice.home, ['verify', 'Bob']);
    expect(noNumber.code).toBe(2);

    const ok = await cli(ids.alice.home, ['verify', 'Bob', ...String(jb!['safetyNumber']).split(' '), '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(jsonLines(ok.stdout)).toEqual([{ id: ids.bob.id, name: 'Bob', verified: true }]);
    const list = await cli(ids.alice.home, ['contacts', '--offline', '--json']);
    expect((jsonLines(list.stdout)[0] as Array<Record<string, unknown>>)[0]).toMatchObject({ verified: true });
  }, 60_000);
});

describe('say and listen', () => {
  it('delivers a message to a listening contact: say exits 0, listen prints it once', async () => {
    const bob = listen(ids.bob.home);
    await bob.waitFor((l) => l['type'] === 'relay' && l['state'] === 'online');
    const r = await cli(ids.alice.home, ['say', 'Bob', 'hello', 'from', 'Alice', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const [said] = jsonLines(r.stdout) as Array<Record<string, unknown>>;
    expect(Object.keys(said!).sort()).toEqual(['deliveredMs', 'id', 'name', 'path', 'sentAt', 'text', 'to', 'type']);
    expect(said).toMatchObject({
      type: 'delivered',
      to: ids.bob.id,
      name: 'Bob',
      text: 'hello from Alice',
      path: 'relay',
    });
    const got = await bob.waitFor((l) => l['type'] === 'message');
    expect(got).toMatchObject({
      id: said!['id'],
      from: ids.alice.id,
      name: 'Alice',
      text: 'hello from Alice',
      sentAt: said!['sentAt'],
    });
    expect(await bob.stop('SIGINT')).toBe(0);
    expect(bob.lines.filter((l) => l['type'] === 'message')).toHaveLength(1);
  }, 60_000);

  it('exits 1 for an offline contact, keeps the message, and delivers it exactly once later', async () => {
    const r = await cli(ids.alice.home, ['say', 'Bob', 'while you were out', '--timeout', '2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Bob (');
    expect(r.stderr).toContain('is offline');
    expect(r.stderr).toContain('stays in your outbox');

    const bob = listen(ids.bob.home);
    await bob.waitFor((l) => l['type'] === 'relay' && l['state'] === 'online');
    // Alice comes online: her outbox goes first, then the new message.
    const next = await cli(ids.alice.home, ['say', 'Bob', 'second', '--json']);
    expect(next.code, next.stderr).toBe(0);
    await bob.waitFor((l) => l['type'] === 'message' && l['text'] === 'second');
    await bob.waitFor((l) => l['type'] === 'message' && l['text'] === 'while you were out');
    expect(await bob.stop()).toBe(0);
    const texts = bob.lines.filter((l) => l['type'] === 'message').map((l) => l['text']);
    expect(texts.filter((t) => t === 'while you were out')).toHaveLength(1);
    expect(texts.filter((t) => t === 'second')).toHaveLength(1);
  }, 60_000);

  it('refuses an ambiguous name with exit 2 listing both, and accepts an id prefix', async () => {
    const add = await cli(ids.alice.home, ['add', ids.bob2.invite]);
    expect(add.code, add.stderr).toBe(0);
    const amb = await cli(ids.alice.home, ['safety', 'Bob']);
    expect(amb.code).toBe(2);
    expect(amb.stderr).toContain(ids.bob.id);
    expect(amb.stderr).toContain(ids.bob2.id);
    // Shortest prefix that tells them apart.
    let n = 1;
    while (ids.bob.id.slice(0, n) === ids.bob2.id.slice(0, n)) n++;
    const byPrefix = await cli(ids.alice.home, ['safety', ids.bob2.id.slice(0, n), '--json']);
    expect(byPrefix.code, byPrefix.stderr).toBe(0);
    expect(jsonLines(byPrefix.stdout)[0]).toMatchObject({ id: ids.bob2.id });
    const removed = await cli(ids.alice.home, ['remove', ids.bob2.id, '--json']);
    expect(jsonLines(removed.stdout)).toEqual([{ id: ids.bob2.id, name: 'Bob', removed: true }]);
  }, 60_000);

  it('reports usage errors with exit 2', async () => {
    const unknown = await cli(ids.alice.home, ['say', 'Mallory', 'hi']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no contact matches "Mallory"');
    const noText = await cli(ids.alice.home, ['say', 'Bob']);
    expect(noText.code).toBe(2);
    const badTimeout = await cli(ids.alice.home, ['say', 'Bob', 'x', '--timeout', 'soon']);
    expect(badTimeout.code).toBe(2);
    expect(badTimeout.stderr).toContain('--timeout must be a positive whole number');
    const r = await cli(await world.temp(), ['contacts', '--offline']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no identity');
  }, 60_000);
});
