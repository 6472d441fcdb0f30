// The bed itself: three hosts on one L2 segment, isolation from the root namespace, the blackhole route,
// blockAllExcept letting exactly the relay port through, teardown and stale cleanup.
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  createTestbed,
  cleanupStale,
  hasBlackhole,
  listNamespaces,
  TEST_RANGE,
  type Host,
  type NodeProcess,
} from '../../testbed/index.js';
import { useTestbed } from '../../testbed/vitest.js';
import { run } from '../../testbed/exec.js';

const ECHO = fileURLToPath(new URL('./fixtures/echo-server.ts', import.meta.url));
const PROBE = fileURLToPath(new URL('./fixtures/tcp-probe.ts', import.meta.url));
const TSX = createRequire(import.meta.url).resolve('tsx');

type Listening = { type: 'listening'; port: number };

async function startEcho(host: Host): Promise<{ proc: NodeProcess<Listening>; port: number }> {
  const proc = host.spawnNode<Listening>(ECHO, ['0']);
  const { port } = await proc.next((m) => (m as Listening).type === 'listening', 20_000);
  return { proc, port };
}

/** "ok" or "fail …", from a one-shot probe inside `from`. */
async function probe(from: Host, to: Host, port: number, timeoutMs = 2_000): Promise<string> {
  const { stdout } = await from.exec(process.execPath, [
    '--import',
    TSX,
    PROBE,
    to.address,
    String(port),
    String(timeoutMs),
  ]);
  return stdout.trim();
}

describe('test bed network', () => {
  const bed = useTestbed({ hosts: ['a', 'b', 'relay'] });

  it('puts three hosts on one segment with a default route, and the root namespace has the blackhole route', async () => {
    const { a, b, relay } = bed().hosts;
    expect([a.address, b.address, relay.address]).toEqual(['10.99.0.1', '10.99.0.2', '10.99.0.3']);
    expect(await hasBlackhole(TEST_RANGE)).toBe(true);
    for (const h of [a, b, relay]) {
      const routes = (await h.exec('ip', ['-4', 'route'])).stdout;
      expect(routes).toMatch(new RegExp(`^default via ${bed().gateway} dev eth0`, 'm'));
    }
    const { proc, port } = await startEcho(relay);
    expect(await probe(a, relay, port)).toBe('ok');
    expect(await probe(b, relay, port)).toBe('ok');
    await proc.stop();
  });

  it('has no path out: the switch namespace forwards nothing and holds only the bridge and host ports', async () => {
    const sw = bed().switchNs;
    expect((await run('ip', ['netns', 'exec', sw, 'sysctl', '-n', 'net.ipv4.ip_forward'])).stdout.trim()).toBe('0');
    const links = (await run('ip', ['-n', sw, '-o', 'link'])).stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(':')[1]!.trim().split('@')[0]);
    expect(links.sort()).toEqual(['br0', 'lo', 'p1', 'p2', 'p3']);
    // No veth of ours in the root namespace.
    expect((await run('ip', ['-o', 'link'])).stdout).not.toContain(bed().runId);
  });

  it('blockAllExcept lets TCP to the relay port through and drops the rest; unblock restores', async () => {
    const { a, b, relay } = bed().hosts;
    const allowed = await startEcho(relay);
    const other = await startEcho(relay);
    try {
      await a.blockAllExcept({ tcpPorts: [allowed.port], host: relay });
      expect(await probe(a, relay, allowed.port)).toBe('ok');
      // An absence check within a fixed window: the SYN is dropped, so the probe times out.
      expect(await probe(a, relay, other.port, 1_500)).toBe('fail timeout');
      expect(await probe(b, relay, other.port)).toBe('ok');
      await a.unblock();
      expect(await probe(a, relay, other.port)).toBe('ok');
    } finally {
      await a.unblock();
      await Promise.all([allowed.proc.stop(), other.proc.stop()]);
    }
  });

  it('cutLink({ peers }) cuts only the path to those peers, restoreLink heals it', async () => {
    const { a, b, relay } = bed().hosts;
    const [atB, atRelay] = await Promise.all([startEcho(b), startEcho(relay)]);
    try {
      await a.cutLink({ peers: [b] });
      expect(await probe(a, relay, atRelay.port)).toBe('ok');
      expect(await probe(a, b, atB.port, 1_500)).toBe('fail timeout');
      await a.restoreLink();
      expect(await probe(a, b, atB.port)).toBe('ok');
    } finally {
      await a.restoreLink();
      await Promise.all([atB.proc.stop(), atRelay.proc.stop()]);
    }
  });

  it('blockUdp leaves TCP alone and its rules keep loopback open', async () => {
    const { a, relay } = bed().hosts;
    const echo = await startEcho(relay);
    try {
      await a.blockUdp();
      const rules = await a.rules();
      expect(rules).toContain('-A INPUT -i lo -j ACCEPT');
      expect(rules).toContain('-A OUTPUT -p udp -j DROP');
      expect(await probe(a, relay, echo.port)).toBe('ok');
    } finally {
      await a.unblock();
      await echo.proc.stop();
    }
    expect(await a.rules()).not.toContain('DROP');
  });

  it('limitRate puts a token-bucket filter on the host interface; unlimitRate removes it, also when none is set', async () => {
    const { a } = bed().hosts;
    const qdisc = async () => (await a.exec('tc', ['qdisc', 'show', 'dev', a.iface, 'root'])).stdout;
    await a.limitRate({ rate: '12mbit', burst: '64kb', latency: '50ms' });
    try {
      expect(await qdisc()).toMatch(/tbf .*rate 12Mbit burst 64Kb/);
      await a.limitRate({ rate: '300kbit', burst: '16kb', latency: '2s' });
      expect(await qdisc()).toMatch(/tbf .*rate 300Kbit burst 16Kb/);
    } finally {
      await a.unlimitRate();
    }
    expect(await qdisc()).not.toContain('tbf');
    await a.unlimitRate();
  });
});

describe('test bed lifecycle', () => {
  it('destroy() kills its processes and removes its namespaces, and is idempotent', async () => {
    const tb = await createTestbed({ hosts: ['x', 'y'] });
    let pid = 0;
    try {
      const names = (await listNamespaces()).filter((n) => n.startsWith(tb.runId));
      expect(names.sort()).toEqual([tb.runId, `${tb.runId}-x`, `${tb.runId}-y`]);
      const echo = await startEcho(tb.hosts.x);
      pid = echo.proc.pid;
      expect(echo.proc.alive).toBe(true);
    } finally {
      await tb.destroy();
    }
    await tb.destroy();
    expect((await listNamespaces()).filter((n) => n.startsWith(tb.runId))).toEqual([]);
    expect(() => process.kill(pid, 0)).toThrow();
    expect(() => tb.hosts.x.spawnNode(ECHO)).toThrow(/destroyed/);
  });

  it('cleanupStale() removes namespaces of dead runs only', async () => {
    // 4194305 is above the kernel's PID_MAX_LIMIT: no such process can exist.
    const dead = `pt4194305r${Math.floor(Math.random() * 0xffffff)
      .toString(16)
      .padStart(6, '0')}`;
    await run('ip', ['netns', 'add', dead]);
    await run('ip', ['netns', 'add', `${dead}-a`]);
    const live = await createTestbed({ hosts: ['a'], cleanupStale: false });
    try {
      const report = await cleanupStale();
      const left = await listNamespaces();
      expect(report.namespaces).toEqual(expect.arrayContaining([dead, `${dead}-a`]));
      expect(left).not.toContain(dead);
      expect(left).not.toContain(`${dead}-a`);
      expect(left).toEqual(expect.arrayContaining([live.runId, `${live.runId}-a`]));
    } finally {
      await live.destroy();
      await run('ip', ['netns', 'del', dead], { allowFailure: true });
      await run('ip', ['netns', 'del', `${dead}-a`], { allowFailure: true });
    }
  });
});
