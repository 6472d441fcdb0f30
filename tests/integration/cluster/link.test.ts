// Node-to-node links: only nodes holding the cluster secret get a link, both ways; frames pass intact.
import { connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../signaling/server/index.js';
import { LinkPool, type Link, type LinkControl, type LinkEvents } from '../../../signaling/server/cluster/link.js';

const pools: LinkPool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

function recorder() {
  const got = { controls: [] as LinkControl[], data: [] as Buffer[], credits: [] as [number, number][], closed: 0 };
  let wake: (() => void) | null = null;
  const events: LinkEvents = {
    control: (_l, m) => (got.controls.push(m), wake?.()),
    data: (_l, b) => (got.data.push(Buffer.from(b)), wake?.()),
    credit: (_l, c, n) => (got.credits.push([c, n]), wake?.()),
    closed: () => (got.closed++, wake?.()),
  };
  const until = (pred: () => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => (pred() ? resolve() : void 0);
      wake = check;
      check();
    });
  return { got, events, until };
}

async function pool(node: string, secret: string, events: LinkEvents): Promise<LinkPool> {
  const p = new LinkPool(node, secret, events, silentLogger);
  await p.listen('127.0.0.1', 0, '127.0.0.1');
  pools.push(p);
  return p;
}

describe('cluster links', () => {
  it('authenticates both ends with the shared secret and carries control, data and credit frames', async () => {
    const home = recorder();
    const joiner = recorder();
    const a = await pool('home', 'the-shared-secret-123', home.events);
    const b = await pool('joiner', 'the-shared-secret-123', joiner.events);
    const link: Link = await b.to('home', a.address);
    expect(link.peerNode).toBe('home');
    link.sendControl({ t: 'gone', j: 7 });
    const frame = Buffer.concat([Buffer.from([0, 0, 0, 9]), Buffer.alloc(200_000, 5)]);
    link.sendData(frame);
    link.sendCredit(9, 1234);
    await home.until(() => home.got.credits.length === 1);
    expect(home.got.controls).toEqual([{ t: 'gone', j: 7 }]);
    expect(home.got.data).toHaveLength(1);
    expect(home.got.data[0]!.equals(frame)).toBe(true);
    expect(home.got.credits).toEqual([[9, 1234]]);
    // One link per peer node: asking again reuses it.
    expect(await b.to('home', a.address)).toBe(link);
  });

  it('refuses a node with the wrong secret, and a dialled node that is not the one expected', async () => {
    const home = recorder();
    const a = await pool('home2', 'the-shared-secret-123', home.events);
    const intruder = await pool('intruder', 'not-the-secret-456789', recorder().events);
    await expect(intruder.to('home2', a.address)).rejects.toThrow(/closed/);
    const honest = await pool('honest', 'the-shared-secret-123', recorder().events);
    await expect(honest.to('somebody-else', a.address)).rejects.toThrow(/closed/);
    expect(home.got.data).toEqual([]);
    expect(home.got.controls).toEqual([]);
  });

  it('closes a connection that sends garbage before the handshake', async () => {
    const home = recorder();
    const a = await pool('home3', 'the-shared-secret-123', home.events);
    const [host, port] = a.address.split(':');
    const socket = connect({ host: host!, port: Number(port) });
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.resume(); // read the hello, so the close is seen
    socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
    await closed;
    expect(home.got.controls).toEqual([]);
  });
});
