// Signals: the relay stamps the authenticated sender and delivers to every connection of the target.
// The client's `data` is opaque: serialised once from the parsed input (a "from" inside it is just data).
// In a cluster the signal is delivered here first, then published once for the target's other nodes.
import { ErrorCode, MAX_CONTROL_BYTES } from '../protocol/index.js';
import type { SignalRemote } from './cluster/hooks.js';
import type { RelayCounters } from './counters.js';
import { signalText } from './outbound.js';
import type { PeerDirectory, RelayPeer } from './peer.js';

export function forwardSignal(
  presence: PeerDirectory,
  counters: RelayCounters,
  from: RelayPeer,
  to: string,
  data: unknown,
  ref: string | undefined,
  remote: SignalRemote | null = null,
): void {
  const targets = presence.connectionsOf(to);
  if (targets === undefined && remote === null) {
    from.sendError(ErrorCode.Offline, `${to} is not connected to this relay`, { ref, to });
    return;
  }
  const text = signalText(from.id!, JSON.stringify(data));
  // Re-serialising can lengthen numbers (1e9 → 1000000000): never send a control message clients must refuse.
  if (text.length * 3 > MAX_CONTROL_BYTES && Buffer.byteLength(text) > MAX_CONTROL_BYTES) {
    from.sendError(ErrorCode.TooLarge, `signal would exceed ${MAX_CONTROL_BYTES} bytes once forwarded`, { ref, to });
    return;
  }
  const payload = Buffer.from(text);
  let delivered = 0;
  if (Array.isArray(targets)) {
    for (const target of targets as readonly RelayPeer[]) {
      if (target === from) continue; // a signal to one's own id reaches one's other devices only
      target.sendControl(payload);
      delivered++;
    }
  } else if (targets !== undefined && targets !== from) {
    (targets as RelayPeer).sendControl(payload);
    delivered++;
  }
  counters.signalsForwarded += delivered;
  if (remote !== null) remote.publish(from, to, payload, delivered, ref);
  else if (delivered === 0) from.sendError(ErrorCode.Offline, `${to} is not connected to this relay`, { ref, to });
}
