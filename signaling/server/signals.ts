// Signals: the relay stamps the authenticated sender and delivers to every connection of the target.
// The client's `data` is opaque: serialised once from the parsed input (a "from" inside it is just data).
import { ErrorCode, MAX_CONTROL_BYTES } from '../protocol/index.js';
import type { Connection } from './connection.js';
import type { RelayCounters } from './counters.js';
import { signalText } from './outbound.js';
import type { Presence } from './presence.js';

export function forwardSignal(
  presence: Presence,
  counters: RelayCounters,
  from: Connection,
  to: string,
  data: unknown,
  ref: string | undefined,
): void {
  const targets = presence.connectionsOf(to);
  const many = Array.isArray(targets) ? (targets as readonly Connection[]) : null;
  const count = many !== null ? many.length : targets === undefined ? 0 : 1;
  let payload: Buffer | null = null;
  let delivered = 0;
  for (let i = 0; i < count; i++) {
    const target = many !== null ? many[i]! : (targets as Connection);
    if (target === from) continue; // a signal to one's own id reaches one's other devices only
    if (payload === null) {
      const text = signalText(from.id!, JSON.stringify(data));
      // Re-serialising can lengthen numbers (1e9 → 1000000000): never send a control message clients must refuse.
      if (text.length * 3 > MAX_CONTROL_BYTES && Buffer.byteLength(text) > MAX_CONTROL_BYTES) {
        from.sendError(ErrorCode.TooLarge, `signal would exceed ${MAX_CONTROL_BYTES} bytes once forwarded`, { ref, to });
        return;
      }
      payload = Buffer.from(text);
    }
    target.sendControl(payload);
    delivered++;
  }
  if (delivered === 0) {
    from.sendError(ErrorCode.Offline, `${to} is not connected to this relay`, { ref, to });
    return;
  }
  counters.signalsForwarded += delivered;
}
