// Contact requests through the real CLI and a real relay on 127.0.0.1 (--relay-only: no WebRTC here):
// `add` sends a request, `requests` lists it with the safety number, `accept`/`decline [--block]` answer.
import { describe, expect, it } from 'vitest';
import { jsonLines } from './helpers.js';
import { useCliWorld } from './cli-world.js';

const world = useCliWorld({ carol: 'Carol', dave: 'Dave', eve: 'Eve' });
const who = world.users;
const { cli } = world;

describe('parley requests / accept / decline', () => {
  it('add sends a request the other side lists with the safety number; accept makes both contacts', async () => {
    const add = await cli(who.dave.home, ['add', who.carol.invite]);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain('sent a contact request to Carol');
    expect(add.stdout).toContain('waiting for them to accept');
    const waiting = await cli(who.dave.home, ['contacts', '--offline']);
    expect(waiting.stdout).toMatch(/Carol .*waiting for them to accept/);

    const list = await cli(who.carol.home, ['requests', '--json']);
    expect(list.code, list.stderr).toBe(0);
    const [requests] = jsonLines(list.stdout) as Array<Array<Record<string, unknown>>>;
    expect(requests).toEqual([
      {
        id: who.dave.id,
        name: 'Dave',
        relays: [world.relay.url],
        receivedAt: expect.any(Number),
        safetyNumber: expect.stringMatching(/^(\d{5} ){11}\d{5}$/),
      },
    ]);
    const daveSees = jsonLines((await cli(who.dave.home, ['safety', 'Carol', '--json'])).stdout)[0] as Record<
      string,
      unknown
    >;
    expect(requests![0]!['safetyNumber']).toBe(daveSees['safetyNumber']);
    const human = await cli(who.carol.home, ['requests']);
    expect(human.stdout).toContain('Dave (');
    expect(human.stdout).toContain('wants to connect');

    const accept = await cli(who.carol.home, ['accept', 'dave', '--json']);
    expect(accept.code, accept.stderr).toBe(0);
    expect(jsonLines(accept.stdout)).toEqual([{ id: who.dave.id, name: 'Dave', accepted: true }]);
    expect(jsonLines((await cli(who.carol.home, ['requests', '--json'])).stdout)).toEqual([[]]);
    // Dave connects, gets the accept, and sees Carol's presence (she is not connected now: offline, not unknown).
    const contacts = await cli(who.dave.home, ['contacts', '--json']);
    expect((jsonLines(contacts.stdout)[0] as Array<Record<string, unknown>>)[0]).toMatchObject({
      id: who.carol.id,
      status: 'accepted',
      online: false,
    });
  }, 60_000);

  it('decline --block is silent and keeps later requests from that person away', async () => {
    expect((await cli(who.eve.home, ['add', who.carol.invite])).code).toBe(0);
    const block = await cli(who.carol.home, ['decline', 'Eve', '--block', '--json']);
    expect(block.code, block.stderr).toBe(0);
    expect(jsonLines(block.stdout)).toEqual([{ id: who.eve.id, name: 'Eve', declined: true, blocked: true }]);
    // Eve asks again: nothing shows up; Eve still sees only "waiting".
    await cli(who.eve.home, ['remove', 'Carol']);
    expect((await cli(who.eve.home, ['add', who.carol.invite])).code).toBe(0);
    expect(jsonLines((await cli(who.carol.home, ['requests', '--json'])).stdout)).toEqual([[]]);
    const eve = await cli(who.eve.home, ['contacts', '--json']);
    expect((jsonLines(eve.stdout)[0] as Array<Record<string, unknown>>)[0]).toMatchObject({
      id: who.carol.id,
      status: 'waiting',
      online: false,
    });
  }, 60_000);

  it('answers an unknown request with a usage error', async () => {
    const r = await cli(who.carol.home, ['accept', 'nobody']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no contact request matches "nobody"');
  }, 30_000);
});
