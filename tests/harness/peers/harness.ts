// Test-side handles for relay-host.ts and messenger-peer.ts running inside test-bed hosts (IPC only).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChatMessage, SessionPath } from '../../../core/src/api.js';
import type { Host, NodeProcess, SpawnNodeOptions } from '../../testbed/index.js';
import type { PeerIn, PeerOut } from './peer-protocol.js';

const RELAY_SCRIPT = fileURLToPath(new URL('./relay-host.ts', import.meta.url));
const PEER_SCRIPT = fileURLToPath(new URL('./messenger-peer.ts', import.meta.url));

type DistributiveOmit<T, K extends keyof never> = T extends unknown ? Omit<T, K> : never;

export interface RelayHandle {
  proc: NodeProcess<{ type: string; port: number; url: string }>;
  url: string;
  port: number;
}

export async function startRelayHost(
  host: Host,
  mode: 'honest' | 'tamper' | 'impersonate' = 'honest',
  port = 0,
  opts: SpawnNodeOptions = {},
): Promise<RelayHandle> {
  const proc = host.spawnNode<{ type: string; port: number; url: string }>(
    RELAY_SCRIPT,
    [host.address, String(port || 8800 + Math.floor(Math.random() * 1000)), mode],
    opts,
  );
  const msg = await proc.next((m) => m.type === 'listening', 30_000);
  return { proc, url: msg.url, port: msg.port };
}

export class MessengerPeer {
  #req = 0;
  readonly id: string;
  readonly invite: string;

  private constructor(
    readonly proc: NodeProcess<PeerOut, PeerIn>,
    readonly home: string,
    ready: { id: string; invite: string },
  ) {
    this.id = ready.id;
    this.invite = ready.invite;
  }

  static async spawn(
    host: Host,
    name: string,
    relayUrl: string,
    options: Record<string, unknown> = {},
    home?: string,
  ): Promise<MessengerPeer> {
    const dir = home ?? mkdtempSync(join(tmpdir(), `parley-${name}-`));
    const proc = host.spawnNode<PeerOut, PeerIn>(PEER_SCRIPT, [dir, name, relayUrl, JSON.stringify(options)]);
    const ready = await proc.next((m) => m.type === 'ready', 60_000);
    return new MessengerPeer(proc, dir, ready as { id: string; invite: string });
  }

  async request<T = unknown>(
    cmd: DistributiveOmit<PeerIn, 'req'>,
    timeoutMs = 30_000,
  ): Promise<{ value: T; t?: number }> {
    const req = ++this.#req;
    await this.proc.send({ ...cmd, req } as PeerIn);
    const res = (await this.proc.next((m) => m.type === 'result' && m.req === req, timeoutMs)) as Extract<
      PeerOut,
      { type: 'result' }
    >;
    if (res.error !== undefined) throw new Error(`${this.proc.label}: ${res.error}`);
    return { value: res.value as T, ...(res.t !== undefined ? { t: res.t } : {}) };
  }

  async add(other: MessengerPeer): Promise<void> {
    await this.request({ cmd: 'add', invite: other.invite });
  }

  async send(contactId: string, text: string): Promise<{ id: string; t: number }> {
    const r = await this.request<string>({ cmd: 'send', contactId, text });
    return { id: r.value, t: r.t ?? 0 };
  }

  history(contactId: string): Promise<ChatMessage[]> {
    return this.request<ChatMessage[]>({ cmd: 'history', contactId }).then((r) => r.value);
  }

  /** The next incoming message (consumed), optionally matching. */
  async nextIncoming(
    pred: (m: ChatMessage) => boolean = () => true,
    timeoutMs = 30_000,
  ): Promise<{ message: ChatMessage; t: number }> {
    const m = await this.proc.next(
      (x) => x.type === 'message' && x.message.direction === 'in' && pred(x.message),
      timeoutMs,
    );
    return m as { message: ChatMessage; t: number };
  }

  async nextDelivered(id: string, timeoutMs = 30_000): Promise<void> {
    await this.proc.next(
      (x) => x.type === 'message' && x.message.id === id && x.message.status === 'delivered',
      timeoutMs,
    );
  }

  async waitPath(contactId: string, path: SessionPath, timeoutMs = 30_000): Promise<void> {
    const current = await this.request<SessionPath>({ cmd: 'path', contactId });
    if (current.value === path) return;
    await this.proc.next((x) => x.type === 'path' && x.contactId === contactId && x.path === path, timeoutMs);
  }

  async waitOnline(contactId: string, timeoutMs = 30_000): Promise<void> {
    await this.proc.next((x) => x.type === 'contact' && x.id === contactId && x.online, timeoutMs);
  }

  nextError(timeoutMs = 30_000): Promise<{ message: string; contactId?: string }> {
    return this.proc.next((x) => x.type === 'error', timeoutMs) as Promise<{ message: string; contactId?: string }>;
  }

  async close(): Promise<void> {
    if (!this.proc.alive) return;
    await this.proc.stop(3_000);
  }
}

/**
 * Writes an identity into a fresh home whose id satisfies `accept` (e.g. a given order relative to
 * another id, which decides who leads a session), so a test can pin roles. Bounded: 200 tries.
 */
export async function presetIdentity(name: string, accept: (id: string) => boolean): Promise<string> {
  const { generateIdentityKeyPair, exportPrivateKey } = await import('../../../core/src/identity/keys.js');
  const { writeFileSync } = await import('node:fs');
  for (let i = 0; i < 200; i++) {
    const kp = await generateIdentityKeyPair({ extractable: true, algorithm: 'Ed25519' });
    if (!accept(kp.id)) continue;
    const home = mkdtempSync(join(tmpdir(), `parley-${name}-`));
    const stored = {
      alg: kp.alg,
      publicKey: kp.publicKey,
      privateKey: { pkcs8: await exportPrivateKey(kp.privateKey) },
      name,
      relays: [],
      createdAt: Date.now(),
    };
    writeFileSync(join(home, 'identity.json'), JSON.stringify(stored));
    return home;
  }
  throw new Error('no identity satisfied the condition in 200 tries');
}
