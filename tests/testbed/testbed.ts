// createTestbed(): hosts as network namespaces on one L2 segment (a bridge in its own "switch" namespace),
// processes and browsers inside them, per-host packet filtering, and a teardown that always runs.
import { mkdir, rm } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { run, type ExecOptions } from './exec.js';
import { HOST_NAME, TEMP_ROOT, hostNamespace, newRunId, switchNamespace } from './names.js';
import {
  HOST_IFACE,
  createHost,
  createSwitch,
  deleteNamespace,
  deleteNamespaceSync,
  namespacePids,
  namespacePidsSync,
} from './netns.js';
import { ensureBlackhole, TEST_RANGE } from './blackhole.js';
import {
  applyRules,
  assertIpv4,
  assertPort,
  detectFlavour,
  type Block,
  type Cut,
  type FilterState,
} from './firewall.js';
import { NodeProcess, type SpawnNodeOptions } from './process.js';
import {
  launchChromiumIn,
  launchChromiumProfileIn,
  type LaunchChromiumOptions,
  type ProfileOptions,
} from './chromium.js';
import { register, unregister } from './registry.js';
import { cleanupStale } from './stale.js';

export interface TestbedOptions<H extends string> {
  hosts: readonly H[];
  /** Remove leftovers of dead earlier runs first (default true; never touches live runs). */
  cleanupStale?: boolean;
}

/** A `tc … tbf` rate limit, in tc's units: rate '12mbit', burst '64kb', latency '50ms'. */
export interface RateLimit {
  rate: string;
  burst: string;
  latency: string;
}

export interface BlockAllExceptOptions {
  /** TCP destination ports still allowed out (and their replies in). */
  tcpPorts?: number[];
  /** UDP destination ports still allowed out (and their replies in), e.g. a TURN server's. */
  udpPorts?: number[];
  /** Restrict the allowed ports to this peer (a Host or an address). */
  host?: Host | string;
}

export interface CutLinkOptions {
  /** Only cut traffic to and from these hosts/addresses; default: everything but loopback. */
  peers?: Array<Host | string>;
}

/** What teardown needs from a started process. */
interface Stoppable {
  readonly exited: Promise<unknown>;
  stop(graceMs?: number): Promise<unknown>;
  kill(signal?: NodeJS.Signals): void;
}

const SUBNET_PREFIX = '10.99.0.';
const GATEWAY = `${SUBNET_PREFIX}254`;

function addressOf(h: Host | string): string {
  return assertIpv4(typeof h === 'string' ? h : h.address);
}

export class Host {
  private filter: FilterState = { block: { kind: 'none' }, cut: null };

  constructor(
    private readonly tb: TestbedImpl,
    readonly name: string,
    readonly ns: string,
    readonly address: string,
    /** The host's interface inside its namespace. */
    readonly iface = HOST_IFACE,
  ) {}

  /** Runs a TypeScript (or JS) script with `node --import tsx` inside this host, talking over IPC. */
  spawnNode<Out = unknown, In = unknown>(
    script: string,
    args: readonly string[] = [],
    opts: SpawnNodeOptions = {},
  ): NodeProcess<Out, In> {
    return this.tb.track(
      new NodeProcess<Out, In>(`${this.name}:${script.split('/').pop()}`, this.ns, script, args, opts),
    );
  }

  /** One-shot command inside this host (argv, no shell). Throws with stderr on a non-zero exit. */
  exec(
    cmd: string,
    args: readonly string[] = [],
    opts: ExecOptions = {},
  ): Promise<{ stdout: string; stderr: string; code: number }> {
    this.tb.assertAlive();
    return run('ip', ['netns', 'exec', this.ns, cmd, ...args], opts);
  }

  /** A playwright-core Browser whose Chromium runs inside this host. */
  launchChromium(opts: LaunchChromiumOptions = {}): Promise<Browser> {
    return this.tb.launchChromium(this, opts);
  }

  /**
   * Chromium inside this host on a persistent profile (fresh, removed with the test bed): one BrowserContext
   * whose storage is on disk as for a real user. Browser.newContext() contexts are off the record.
   */
  launchChromiumProfile(opts: LaunchChromiumOptions = {}, profile: ProfileOptions = {}): Promise<BrowserContext> {
    return this.tb.launchChromiumProfile(this, opts, profile);
  }

  /** Drops all UDP in and out (loopback excepted). Replaces any earlier block. */
  blockUdp(): Promise<void> {
    return this.setBlock({ kind: 'udp' });
  }

  /** Drops everything in and out except the given ports (loopback excepted). Replaces any earlier block. */
  blockAllExcept(opts: BlockAllExceptOptions): Promise<void> {
    return this.setBlock({
      kind: 'allExcept',
      tcpPorts: (opts.tcpPorts ?? []).map(assertPort),
      udpPorts: (opts.udpPorts ?? []).map(assertPort),
      host: opts.host === undefined ? null : addressOf(opts.host),
    });
  }

  /** Drops all TCP in and out except the given ports (UDP untouched, loopback excepted). Replaces any earlier block. */
  blockTcpExcept(tcpPorts: readonly number[]): Promise<void> {
    return this.setBlock({ kind: 'tcpExcept', tcpPorts: tcpPorts.map(assertPort) });
  }

  /** Removes blockUdp/blockAllExcept (a cut link stays cut). */
  unblock(): Promise<void> {
    return this.setBlock({ kind: 'none' });
  }

  /**
   * Cuts the link by dropping every packet (or only those to/from `peers`) with iptables. The interface stays
   * up, so applications see no link event, only silence: an established ICE path goes `disconnected` by
   * consent-freshness timeout, like a real path break. Independent of blockUdp/blockAllExcept.
   */
  cutLink(opts: CutLinkOptions = {}): Promise<void> {
    const cut: Cut = opts.peers ? opts.peers.map(addressOf) : 'all';
    return this.apply({ ...this.filter, cut });
  }

  restoreLink(): Promise<void> {
    return this.apply({ ...this.filter, cut: null });
  }

  /**
   * Limits what leaves this host's interface to `rate` with a token-bucket filter (`tc … tbf`; the kernel has
   * no netem, so no delay or loss emulation). `latency` bounds the queue: packets that would wait longer are
   * dropped, as at a real bottleneck. Replaces any earlier limit; `unlimitRate()` removes it.
   */
  async limitRate(opts: RateLimit): Promise<void> {
    this.tb.assertAlive();
    await this.exec('tc', [
      ...['qdisc', 'replace', 'dev', this.iface, 'root', 'tbf'],
      ...['rate', opts.rate, 'burst', opts.burst, 'latency', opts.latency],
    ]);
  }

  /** Removes limitRate's filter (no error when there is none). */
  async unlimitRate(): Promise<void> {
    this.tb.assertAlive();
    await this.exec('tc', ['qdisc', 'del', 'dev', this.iface, 'root'], { allowFailure: true });
  }

  /** The current filter table of this host (iptables -S), for diagnostics. */
  async rules(): Promise<string> {
    const f = await detectFlavour(this.ns);
    return (await this.exec(f.iptables, ['-w', '-S'])).stdout;
  }

  private setBlock(block: Block): Promise<void> {
    return this.apply({ ...this.filter, block });
  }

  private async apply(state: FilterState): Promise<void> {
    this.tb.assertAlive();
    await applyRules(this.ns, state);
    this.filter = state;
  }
}

export interface Testbed<H extends string = string> {
  readonly runId: string;
  /** The namespace holding the bridge (and the gateway address; it forwards nothing). */
  readonly switchNs: string;
  readonly hosts: Readonly<Record<H, Host>>;
  /** Address of the bridge in the switch namespace; hosts' default route (it forwards nothing). */
  readonly gateway: string;
  readonly tempDir: string;
  /** Kills every process and browser this test bed started, deletes its namespaces and files. Idempotent. */
  destroy(): Promise<void>;
}

class TestbedImpl {
  readonly runId = newRunId();
  readonly switchNs = switchNamespace(this.runId);
  readonly tempDir = join(TEMP_ROOT, this.runId);
  readonly gateway = GATEWAY;
  readonly hosts: Record<string, Host> = {};
  private readonly namespaces: string[] = [];
  private readonly processes = new Set<Stoppable>();
  private readonly browsers = new Map<Browser, number | null>();
  private readonly profiles = new Map<BrowserContext, number | null>();
  private browserSeq = 0;
  private destroying: Promise<void> | null = null;

  assertAlive(): void {
    if (this.destroying) throw new Error(`test bed ${this.runId} is destroyed`);
  }

  track<P extends Stoppable>(p: P): P {
    this.assertAlive();
    this.processes.add(p);
    void p.exited.then(() => this.processes.delete(p));
    return p;
  }

  async launchChromium(host: Host, opts: LaunchChromiumOptions): Promise<Browser> {
    this.assertAlive();
    const { browser, pid } = await launchChromiumIn(host.ns, this.tempDir, `${host.name}-${++this.browserSeq}`, opts);
    this.browsers.set(browser, pid);
    browser.on('disconnected', () => this.browsers.delete(browser));
    if (this.destroying) await browser.close();
    return browser;
  }

  async launchChromiumProfile(
    host: Host,
    opts: LaunchChromiumOptions,
    profile: ProfileOptions,
  ): Promise<BrowserContext> {
    this.assertAlive();
    const { context, pid } = await launchChromiumProfileIn(
      host.ns,
      this.tempDir,
      `${host.name}-${++this.browserSeq}`,
      opts,
      profile,
    );
    this.profiles.set(context, pid);
    context.on('close', () => this.profiles.delete(context));
    if (this.destroying) await context.close();
    return context;
  }

  async build(names: readonly string[]): Promise<void> {
    register(this);
    await mkdir(this.tempDir, { recursive: true });
    await ensureBlackhole();
    this.namespaces.push(this.switchNs);
    await createSwitch(this.switchNs, `${GATEWAY}/24`);
    let i = 0;
    for (const name of names) {
      i++;
      const ns = hostNamespace(this.runId, name);
      const address = `${SUBNET_PREFIX}${i}`;
      this.namespaces.push(ns);
      await createHost({
        switchNs: this.switchNs,
        hostNs: ns,
        port: `p${i}`,
        addressCidr: `${address}/24`,
        gateway: GATEWAY,
      });
      this.hosts[name] = new Host(this, name, ns, address);
    }
    // Probe iptables now, so a broken firewall fails the setup rather than the middle of a test.
    const first = names[0];
    if (first !== undefined) await detectFlavour(hostNamespace(this.runId, first));
  }

  destroy(): Promise<void> {
    this.destroying ??= this.teardown();
    return this.destroying;
  }

  private async teardown(): Promise<void> {
    const errors: unknown[] = [];
    await Promise.all(
      [...this.browsers, ...this.profiles].map(async ([browser, pid]) => {
        await withTimeout(browser.close(), 5_000).catch((e: unknown) => errors.push(e));
        if (pid !== null) killQuiet(pid, 'SIGKILL');
      }),
    );
    await Promise.all([...this.processes].map((p) => p.stop(2_000).catch((e: unknown) => errors.push(e))));
    // Whatever else still runs inside our namespaces was started by us (Chromium helpers, grandchildren).
    for (const ns of [...this.namespaces].reverse()) {
      await killNamespaceProcesses(ns).catch((e: unknown) => errors.push(e));
      await deleteNamespace(ns).catch((e: unknown) => errors.push(e));
    }
    await rm(this.tempDir, { recursive: true, force: true }).catch((e: unknown) => errors.push(e));
    unregister(this);
    if (errors.length)
      throw new AggregateError(errors, `test bed ${this.runId} teardown had ${errors.length} error(s)`);
  }

  /** Exit-time teardown: synchronous, best effort, never throws. */
  destroySync(): void {
    for (const [, pid] of [...this.browsers, ...this.profiles]) if (pid !== null) killQuiet(pid, 'SIGKILL');
    for (const p of this.processes) p.kill('SIGKILL');
    for (const ns of [...this.namespaces].reverse()) {
      for (const pid of namespacePidsSync(ns)) killQuiet(pid, 'SIGKILL');
      deleteNamespaceSync(ns);
    }
    try {
      rmSync(this.tempDir, { recursive: true, force: true });
    } catch {
      /* best effort at exit */
    }
  }
}

/**
 * SIGKILLs whatever still runs inside one of our namespaces (Chromium helpers, grandchildren: all started by
 * this test bed, since the namespace name is unique to it) and waits, bounded, until none is left, so destroy()
 * returns with the processes really gone. There is no exit event for non-children, hence the short poll.
 */
async function killNamespaceProcesses(ns: string, timeoutMs = 3_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const pids = await namespacePids(ns).catch(() => []);
    if (pids.length === 0) return;
    if (performance.now() > deadline)
      throw new Error(`processes ${pids.join(', ')} in ${ns} survived SIGKILL for ${timeoutMs} ms`);
    for (const pid of pids) killQuiet(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function killQuiet(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export async function createTestbed<const H extends string>(opts: TestbedOptions<H>): Promise<Testbed<H>> {
  const names = [...opts.hosts];
  if (names.length === 0 || names.length > 250) throw new Error('a test bed needs 1 to 250 hosts');
  for (const n of names)
    if (!HOST_NAME.test(n)) throw new Error(`bad host name ${JSON.stringify(n)}: use ${HOST_NAME}`);
  if (new Set(names).size !== names.length) throw new Error(`duplicate host names in ${names.join(', ')}`);
  if (opts.cleanupStale !== false) await cleanupStale();
  const tb = new TestbedImpl();
  try {
    await tb.build(names);
  } catch (err) {
    await tb.destroy().catch(() => undefined);
    throw err;
  }
  return {
    runId: tb.runId,
    switchNs: tb.switchNs,
    hosts: tb.hosts as Record<H, Host>,
    gateway: tb.gateway,
    tempDir: tb.tempDir,
    destroy: () => tb.destroy(),
  };
}

export { TEST_RANGE };
