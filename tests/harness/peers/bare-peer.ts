// A bare simple-peer endpoint (no Parley session logic) for the session bench's baseline: signals go
// through the same relay (authenticated RelayClient), then one message over the data channel.
// argv: <relay url>. IPC in: {cmd:'go', to, text} (initiator). IPC out: ready{id}, received{t, text}.
/// <reference path="../../../core/src/platform/simple-peer.d.ts" />
import wrtc from '@roamhq/wrtc';
import SimplePeer, { type Instance, type SignalData } from 'simple-peer';
import { nodeWebSocketFactory } from '../../../platform/node/src/websocket.js';
import { generateIdentityKeyPair } from '../../../core/src/identity/keys.js';
import { RelayClient } from '../../../core/src/relay/client.js';
import { relaySignerOf } from '../../../core/src/relay/signer.js';

const [url] = process.argv.slice(2);
if (!url) throw new Error('usage: bare-peer <relay url>');
const identity = await generateIdentityKeyPair({ extractable: false });
const relay = new RelayClient({ url, signer: relaySignerOf(identity), webSocket: nodeWebSocketFactory });
const now = (): number => performance.timeOrigin + performance.now();
let peer: Instance | null = null;

function create(initiator: boolean, to: string): Instance {
  const p = new SimplePeer({ initiator, trickle: true, wrtc, config: { iceServers: [] } });
  p.on(
    'signal',
    (data: SignalData) => void relay.signal(to, { bare: data as unknown as Record<string, unknown> }).catch(() => {}),
  );
  p.on('data', (d: Uint8Array) => process.send?.({ type: 'received', t: now(), text: Buffer.from(d).toString() }));
  p.on('error', () => {});
  return p;
}

relay.on('signal', ({ from, data }) => {
  if (!peer) peer = create(false, from);
  peer.signal(data.bare as SignalData);
});
process.on('message', (raw) => {
  const msg = raw as { cmd: string; to: string; text: string };
  if (msg.cmd !== 'go') return;
  peer = create(true, msg.to);
  peer.on('connect', () => peer!.send(msg.text));
});
relay.on('state', ({ state }) => {
  if (state === 'online') process.send?.({ type: 'ready', id: identity.id });
});
relay.start();
