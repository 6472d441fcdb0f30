// A Node messenger peer for integration tests and the bench, run inside a test-bed host.
// argv: <home dir> <name> <relay url> [json options]; talks to the test over IPC only.
import { mkdirSync } from 'node:fs';
import { openPeerMessenger, stderrLogger } from './open-messenger.js';
import type { PeerIn, PeerOut } from './peer-protocol.js';

const [home, name, relayUrl, optionsJson] = process.argv.slice(2);
if (!home || name === undefined || !relayUrl)
  throw new Error('usage: messenger-peer <home> <name> <relay url> [options]');
const options = JSON.parse(optionsJson ?? '{}') as {
  directHeadStartMs?: number;
  directStallMs?: number;
  directAttemptTimeoutMs?: number;
  directDisabled?: boolean;
  debug?: boolean;
};
mkdirSync(home, { recursive: true });

function out(msg: PeerOut): void {
  process.send?.(msg);
}

const logger = stderrLogger(options.debug);
const messenger = await openPeerMessenger({ home, name, relayUrl, logger, timings: options });

messenger.on('message', (m) => out({ type: 'message', message: m, t: performance.now() + performance.timeOrigin }));
messenger.on('path', (p) => out({ type: 'path', contactId: p.contactId, path: p.path }));
messenger.on('relay', (r) => out({ type: 'relay', state: r.state }));
messenger.on('error', (e) =>
  out({ type: 'error', message: e.message, ...(e.contactId ? { contactId: e.contactId } : {}) }),
);
messenger.on('contact', (c) => out({ type: 'contact', id: c.id, online: c.online, path: c.path }));

process.on('message', (raw) => {
  const msg = raw as PeerIn;
  void (async () => {
    try {
      switch (msg.cmd) {
        case 'add': {
          const c = await messenger.addContact(msg.invite);
          out({ type: 'result', req: msg.req, value: c.id });
          return;
        }
        case 'send': {
          const m = await messenger.send(msg.contactId, msg.text);
          out({ type: 'result', req: msg.req, value: m.id, t: performance.now() + performance.timeOrigin });
          return;
        }
        case 'sendMany': {
          for (let i = 0; i < msg.count; i++) await messenger.send(msg.contactId, `${msg.prefix}${msg.from + i}`);
          out({ type: 'result', req: msg.req, value: msg.count });
          return;
        }
        case 'history': {
          const h = await messenger.history(msg.contactId, {
            limit: 500,
            ...(msg.before !== undefined ? { before: msg.before } : {}),
          });
          out({ type: 'result', req: msg.req, value: h });
          return;
        }
        case 'path':
          out({ type: 'result', req: msg.req, value: messenger.pathOf(msg.contactId) });
          return;
        case 'close':
          await messenger.close();
          out({ type: 'result', req: msg.req, value: true });
          process.exit(0);
      }
    } catch (error) {
      out({ type: 'result', req: msg.req, error: (error as Error).message });
    }
  })();
});

out({ type: 'ready', id: messenger.identity.id, invite: messenger.identity.invite });
