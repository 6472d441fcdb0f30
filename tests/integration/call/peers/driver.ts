// Test-side handles of the call peer and relay host scripts running inside test-bed hosts.
import { fileURLToPath } from 'node:url';
import type { Host, NodeProcess } from '../../../testbed/index.js';
import type { CallPeerCommand, CallPeerEvent, CallPeerEventOf, MediaReport, RelayHostArgs, RelayHostEvent } from './protocol.js';

const CALL_PEER_SCRIPT = fileURLToPath(new URL('./call-peer.ts', import.meta.url));
const RELAY_HOST_SCRIPT = fileURLToPath(new URL('./relay-host.ts', import.meta.url));

export class RelayHost {
  private constructor(
    readonly proc: NodeProcess<RelayHostEvent>,
    readonly url: string,
  ) {}

  static async start(host: Host, port: number, tamper = false): Promise<RelayHost> {
    const args: RelayHostArgs = { address: host.address, port, tamper };
    const proc = host.spawnNode<RelayHostEvent>(RELAY_HOST_SCRIPT, [JSON.stringify(args)]);
    const ready = await proc.next((m) => m.type === 'ready' || m.type === 'error', 30_000);
    if (ready.type !== 'ready') throw new Error(`relay host failed: ${JSON.stringify(ready)}${proc.diagnostics()}`);
    return new RelayHost(proc, ready.url);
  }

  /** How many call SDPs the hostile relay rewrote (latest report). */
  tamperedCount(): number {
    let n = 0;
    for (const m of this.proc.inbox.recent) if (m.type === 'tampered') n = Math.max(n, m.count);
    return n;
  }

  async stop(): Promise<void> {
    await this.proc.stop(2_000);
  }
}

export class CallPeer {
  id = '';
  key: { alg: 'Ed25519' | 'P-256'; pub: string } = { alg: 'Ed25519', pub: '' };

  private constructor(
    readonly name: string,
    readonly proc: NodeProcess<CallPeerEvent, CallPeerCommand>,
  ) {}

  static async start(host: Host, name: string, init: Omit<Extract<CallPeerCommand, { type: 'init' }>, 'type' | 'name'>): Promise<CallPeer> {
    const proc = host.spawnNode<CallPeerEvent, CallPeerCommand>(CALL_PEER_SCRIPT, []);
    const peer = new CallPeer(name, proc);
    await proc.send({ type: 'init', name, ...init });
    const ready = await peer.next('ready', 30_000);
    peer.id = ready.id;
    peer.key = ready.key;
    return peer;
  }

  /** Makes the two peers contacts of each other. */
  static async befriend(a: CallPeer, b: CallPeer): Promise<void> {
    await a.command({ type: 'contact', id: b.id, key: b.key, name: b.name });
    await b.command({ type: 'contact', id: a.id, key: a.key, name: a.name });
  }

  /** Sends a command and waits until the peer ran it (or throws with the peer's error). */
  async command(cmd: CallPeerCommand): Promise<void> {
    await this.proc.send(cmd);
    const r = await this.proc.next((m) => (m.type === 'done' && m.command === cmd.type) || m.type === 'error', 30_000);
    if (r.type === 'error') throw new Error(`${this.name}: ${r.message}`);
  }

  next<T extends CallPeerEvent['type']>(type: T, timeoutMs = 15_000, predicate: (e: CallPeerEventOf<T>) => boolean = () => true): Promise<CallPeerEventOf<T>> {
    return this.proc.next((m) => m.type === type && predicate(m as CallPeerEventOf<T>), timeoutMs) as Promise<CallPeerEventOf<T>>;
  }

  /** The next state event reaching `state`, failing fast (with the end reason) if the call ends otherwise. */
  async reach(state: string, timeoutMs = 20_000): Promise<CallPeerEventOf<'state'>> {
    const e = await this.next('state', timeoutMs, (s) => s.state === state || s.state === 'ended' || s.state === 'failed');
    if (e.state !== state) throw new Error(`${this.name}: call ${e.state} (${e.end?.code}: ${e.end?.message}) while waiting for ${state}`);
    return e;
  }

  /** The final state event (ended or failed). */
  finished(timeoutMs = 30_000): Promise<CallPeerEventOf<'state'>> {
    return this.next('state', timeoutMs, (s) => s.state === 'ended' || s.state === 'failed');
  }

  /** Every state this peer's calls went through so far (from the bounded recent log), in order. */
  statesSeen(callId: string): string[] {
    return this.proc.inbox.recent.filter((m): m is CallPeerEventOf<'state'> => m.type === 'state' && m.callId === callId).map((m) => m.state);
  }

  async media(videoFrames: number, audioSamples: number, timeoutMs = 20_000): Promise<MediaReport> {
    await this.command({ type: 'await-media', videoFrames, audioSamples, timeoutMs });
    return (await this.next('media', timeoutMs + 5_000)).report;
  }

  async stats(): Promise<Record<string, unknown>> {
    await this.command({ type: 'stats' });
    const r = await this.next('stats');
    if (!r.stats) throw new Error(`${this.name}: stats failed: ${r.error}`);
    return r.stats;
  }

  async stop(): Promise<void> {
    await this.proc.stop(2_000);
  }
}
