// npm run bench:session — time to first delivered message, Node peers in namespace hosts, one run:
//   bareMs      a bare simple-peer pair (signals through the same relay), connect + one message
//   directMs    two fresh Parley messengers: send() → the contact's 'message' event, direct path
//   fallbackMs  the same with UDP and TCP blocked on the sender's host except the relay port
// Each figure is the median of ROUNDS fresh pairs. Last line: one JSON object.
import { fileURLToPath } from 'node:url';
import { assertTestbedAvailable, createTestbed, type Host } from '../tests/testbed/index.js';
import { MessengerPeer, startRelayHost } from '../tests/harness/peers/harness.js';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const BARE = fileURLToPath(new URL('../tests/harness/peers/bare-peer.ts', import.meta.url));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function bareRound(a: Host, b: Host, url: string): Promise<number> {
  type Out = { type: string; id?: string; t?: number };
  const pa = a.spawnNode<Out, { cmd: string; to: string; text: string }>(BARE, [url]);
  const pb = b.spawnNode<Out>(BARE, [url]);
  try {
    const [, rb] = await Promise.all([
      pa.next((m) => m.type === 'ready', 30_000),
      pb.next((m) => m.type === 'ready', 30_000),
    ]);
    const t0 = performance.timeOrigin + performance.now();
    await pa.send({ cmd: 'go', to: rb.id!, text: 'hello' });
    const got = await pb.next((m) => m.type === 'received', 30_000);
    return got.t! - t0;
  } finally {
    await Promise.all([pa.stop(), pb.stop()]);
  }
}

async function parleyRound(a: Host, b: Host, url: string): Promise<{ ms: number; path: string }> {
  const [pa, pb] = await Promise.all([MessengerPeer.spawn(a, 'alice', url), MessengerPeer.spawn(b, 'bob', url)]);
  try {
    await pa.add(pb);
    await pb.add(pa);
    await Promise.all([pa.waitOnline(pb.id), pb.waitOnline(pa.id)]);
    const t0 = performance.timeOrigin + performance.now();
    await pa.send(pb.id, 'hello');
    const got = await pb.nextIncoming((m) => m.text === 'hello', 30_000);
    const path = (await pa.request<string>({ cmd: 'path', contactId: pb.id })).value;
    return { ms: got.t - t0, path };
  } finally {
    await Promise.all([pa.close(), pb.close()]);
  }
}

await assertTestbedAvailable();
const tb = await createTestbed({ hosts: ['a', 'b', 'relay'] });
try {
  const { a, b, relay } = tb.hosts;
  const r = await startRelayHost(relay);
  const bare: number[] = [];
  const direct: number[] = [];
  const fallback: number[] = [];
  const paths: string[] = [];
  // Interleaved, so load changes during the run hit all three alike.
  for (let i = 0; i < ROUNDS; i++) {
    bare.push(await bareRound(a, b, r.url));
    const d = await parleyRound(a, b, r.url);
    direct.push(d.ms);
    paths.push(d.path);
    await a.blockAllExcept({ tcpPorts: [r.port], host: relay });
    try {
      fallback.push((await parleyRound(a, b, r.url)).ms);
    } finally {
      await a.unblock();
    }
  }
  await r.proc.stop();
  const bareMs = Math.round(median(bare));
  const directMs = Math.round(median(direct));
  const fallbackMs = Math.round(median(fallback));
  const fmt = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join(', ');
  console.log('| measure | median ms | rounds (ms) |');
  console.log('| --- | ---: | --- |');
  console.log(`| bare simple-peer: connect + first message | ${bareMs} | ${fmt(bare)} |`);
  console.log(
    `| Parley direct: send → delivered (path after: ${[...new Set(paths)].join('/')}) | ${directMs} | ${fmt(direct)} |`,
  );
  console.log(`| Parley, UDP+TCP blocked but the relay: send → delivered | ${fallbackMs} | ${fmt(fallback)} |`);
  console.log(`directMs / bareMs = ${(directMs / bareMs).toFixed(2)} (target ≤ 1.5); fallbackMs target ≤ 3000`);
  console.log(
    JSON.stringify({
      directMs,
      bareMs,
      fallbackMs,
      directRatio: Number((directMs / bareMs).toFixed(2)),
      rounds: ROUNDS,
    }),
  );
} finally {
  await tb.destroy();
}
