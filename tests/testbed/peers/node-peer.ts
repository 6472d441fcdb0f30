// Test-side driver for wrtc-peer.ts running inside a host.
import { fileURLToPath } from 'node:url';
import type { Host } from '../testbed.js';
import type { NodeProcess, SpawnNodeOptions } from '../process.js';
import { PeerDriver } from './driver.js';
import type { PeerCommand } from './protocol.js';

export const WRTC_PEER_SCRIPT = fileURLToPath(new URL('./wrtc-peer.ts', import.meta.url));

export class NodePeer extends PeerDriver {
  private constructor(readonly proc: NodeProcess<unknown, PeerCommand>) {
    super(proc.label);
    // Every message goes through validation into `events`; nothing stays in the raw process inbox.
    proc.inbox.tap((m) => {
      this.accept(m);
      return true;
    });
    void proc.exited.then((x) => this.events.close(`${this.label} exited with ${x.signal ?? x.code}`));
  }

  /** Spawns a wrtc peer in `host` and waits until it is ready for commands. */
  static async spawn(host: Host, opts: SpawnNodeOptions & { readyTimeoutMs?: number } = {}): Promise<NodePeer> {
    const proc = host.spawnNode<unknown, PeerCommand>(WRTC_PEER_SCRIPT, [], opts);
    const peer = new NodePeer(proc);
    await peer.next('ready', opts.readyTimeoutMs ?? 30_000);
    return peer;
  }

  get pid(): number {
    return this.proc.pid;
  }

  protected deliver(cmd: PeerCommand): Promise<void> {
    return this.proc.send(cmd);
  }

  async close(): Promise<void> {
    await this.proc.stop();
  }

  diagnostics(): string {
    return this.proc.diagnostics();
  }
}
