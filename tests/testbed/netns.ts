// Namespace plumbing: a "switch" namespace holding a bridge, one namespace per host hanging off it by a veth.
// Nothing is ever created in the root namespace except the blackhole route; the veth pairs are created
// inside the switch namespace with their far end placed straight into the host namespace.
import { run, runSyncQuiet } from './exec.js';

export const BRIDGE = 'br0';
export const HOST_IFACE = 'eth0';

async function sysctl(ns: string, settings: readonly string[]): Promise<void> {
  await run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', ...settings]);
}

// IPv6 off everywhere: link-local v6 candidates would bypass the v4-only iptables rules and add ICE noise.
const NO_IPV6 = ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'];

export async function createSwitch(ns: string, gatewayCidr: string): Promise<void> {
  await run('ip', ['netns', 'add', ns]);
  // ip_forward stays 0: the gateway answers ARP so hosts have a default route, but routes nothing anywhere.
  await sysctl(ns, [...NO_IPV6, 'net.ipv4.ip_forward=0']);
  await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  await run('ip', ['-n', ns, 'link', 'add', BRIDGE, 'type', 'bridge']);
  await run('ip', ['-n', ns, 'addr', 'add', gatewayCidr, 'dev', BRIDGE]);
  await run('ip', ['-n', ns, 'link', 'set', BRIDGE, 'up']);
}

export interface HostPlumbing {
  switchNs: string;
  hostNs: string;
  /** Interface name of this host's port on the bridge (inside the switch namespace). */
  port: string;
  addressCidr: string;
  gateway: string;
}

export async function createHost(h: HostPlumbing): Promise<void> {
  await run('ip', ['netns', 'add', h.hostNs]);
  await sysctl(h.hostNs, NO_IPV6);
  await run('ip', [
    '-n',
    h.switchNs,
    'link',
    'add',
    h.port,
    'type',
    'veth',
    'peer',
    'name',
    HOST_IFACE,
    'netns',
    h.hostNs,
  ]);
  await run('ip', ['-n', h.switchNs, 'link', 'set', h.port, 'master', BRIDGE, 'up']);
  await run('ip', ['-n', h.hostNs, 'link', 'set', 'lo', 'up']);
  await run('ip', ['-n', h.hostNs, 'addr', 'add', h.addressCidr, 'dev', HOST_IFACE]);
  await run('ip', ['-n', h.hostNs, 'link', 'set', HOST_IFACE, 'up']);
  // Chromium gathers no ICE candidates without a default route.
  await run('ip', ['-n', h.hostNs, 'route', 'add', 'default', 'via', h.gateway]);
}

export async function listNamespaces(): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list']);
  return parseNetnsList(stdout);
}

export function listNamespacesSync(): string[] {
  return parseNetnsList(runSyncQuiet('ip', ['netns', 'list']));
}

function parseNetnsList(stdout: string): string[] {
  // Lines look like "name" or "name (id: 3)".
  return stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.length > 0);
}

/** PIDs of every process whose network namespace is `ns`. */
export async function namespacePids(ns: string): Promise<number[]> {
  const { stdout } = await run('ip', ['netns', 'pids', ns], { allowFailure: true });
  return parsePids(stdout);
}

export function namespacePidsSync(ns: string): number[] {
  return parsePids(runSyncQuiet('ip', ['netns', 'pids', ns]));
}

function parsePids(stdout: string): number[] {
  return stdout
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

export async function deleteNamespace(ns: string): Promise<void> {
  // Deleting a host namespace destroys its eth0 and, with it, the peer port on the bridge.
  await run('ip', ['netns', 'del', ns], { allowFailure: true });
}

export function deleteNamespaceSync(ns: string): void {
  runSyncQuiet('ip', ['netns', 'del', ns]);
}
