// Contact mail waits in the relay's mailbox while we are offline and arrives right after `ready`. Commands that
// act on requests (requests, accept, decline, add) first let it arrive: until the relay is online and no mail
// came for a short while, bounded by the command's --wait.
import type { Messenger } from '../../core/src/messenger.js';

/** Once the relay is online and no request arrived for this long, the mailbox is taken to be drained. */
const MAIL_SETTLE_MS = 700;

/** Resolves true once settled, false when the relay was not reached within `waitMs`. */
export function awaitRelayMail(messenger: Messenger, waitMs: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    let settle: ReturnType<typeof setTimeout> | undefined;
    const timer = setTimeout(() => finish(false), waitMs);
    const quiet = (): void => {
      clearTimeout(settle);
      settle = setTimeout(() => finish(true), MAIL_SETTLE_MS);
    };
    const offs = [
      messenger.on('relay', (r) => {
        if (r.state === 'online') quiet();
      }),
      messenger.on('requests', () => quiet()),
      messenger.on('contact', () => quiet()),
    ];
    function finish(ok: boolean): void {
      clearTimeout(timer);
      clearTimeout(settle);
      for (const off of offs) off();
      resolve(ok);
    }
    if (messenger.relayState().state === 'online') quiet();
  });
}
