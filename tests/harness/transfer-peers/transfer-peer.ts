// A Node peer with a Messenger and a TransferEngine wired to each contact's session, run inside a
// test-bed host. argv: <home> <name> <relay url> <json TransferPeerOptions>. Talks over IPC only.
// Homes survive restarts: spawn again with the same home to "restart" the peer.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FileKeyValueStore } from '../../../platform/node/src/file-store.js';
import { NodeFileSink, NodeFileSource } from '../../../platform/node/src/file-io.js';
import { walkForSend } from '../../../cli/src/send-walk.js';
import type { Session } from '../../../core/src/session/session.js';
import { StreamKind } from '../../../core/src/session/stream.js';
import { sessionFrameStream, TransferEngine } from '../../../core/src/transfer/index.js';
import { decodeFrame, encodeControl, type ControlMessage } from '../../../core/src/transfer/protocol.js';
import { openPeerMessenger, stderrLogger } from '../peers/open-messenger.js';
import type { TransferIn, TransferOut, TransferPeerOptions } from './protocol.js';

// PARLEY_CPU_PROFILE=<file>: CPU profile of this peer, written when it is closed (benchmark tuning).
const profileTo = process.env.PARLEY_CPU_PROFILE;
let stopProfile: () => Promise<void> = async () => {};
if (profileTo) {
  const { Session } = await import('node:inspector');
  const { writeFileSync } = await import('node:fs');
  const inspector = new Session();
  inspector.connect();
  const post = (method: string) =>
    new Promise<unknown>((resolve, reject) =>
      inspector.post(method, (err, result) => (err ? reject(err) : resolve(result))),
    );
  await post('Profiler.enable');
  await post('Profiler.start');
  stopProfile = async () => {
    const { profile } = (await post('Profiler.stop')) as { profile: unknown };
    writeFileSync(`${profileTo}.${process.argv[3]}.cpuprofile`, JSON.stringify(profile));
  };
  // Harness handles stop peers with SIGTERM: write the profile first.
  process.once('SIGTERM', () => void stopProfile().finally(() => process.exit(0)));
}

const [home, name, relayUrl, optionsJson] = process.argv.slice(2);
if (!home || name === undefined || !relayUrl || !optionsJson)
  throw new Error('usage: transfer-peer <home> <name> <relay url> <options>');
const options = JSON.parse(optionsJson) as TransferPeerOptions;
mkdirSync(home, { recursive: true });
mkdirSync(options.recvDir, { recursive: true });

function out(msg: TransferOut): void {
  process.send?.(msg);
}

const logger = stderrLogger(options.debug, true);

let maxRss = process.memoryUsage.rss();
const rss = () => {
  const now = process.memoryUsage.rss();
  if (now > maxRss) maxRss = now;
  return now;
};

const messenger = await openPeerMessenger({ home, name, relayUrl, logger, timings: options });

const known = new Set((await messenger.contacts()).map((c) => c.id));
const engine = new TransferEngine({
  store: await FileKeyValueStore.open(join(home, 'transfers'), logger),
  source: new NodeFileSource(),
  sink: new NodeFileSink(options.recvDir, { sync: options.sync ?? true }),
  logger,
  isKnownContact: (id) => known.has(id),
  decide: () => 'accept',
  progressIntervalMs: options.progressMs ?? 200,
  ...(options.windowBytes !== undefined ? { windowBytes: options.windowBytes } : {}),
  ...(options.relayWindowBytes !== undefined ? { relayWindowBytes: options.relayWindowBytes } : {}),
  ...(options.chunkBytes !== undefined ? { chunkBytes: options.chunkBytes } : {}),
  ...(options.ackBytes !== undefined ? { ackBytes: options.ackBytes } : {}),
});
await engine.start();

engine.on('state', (info) =>
  out({ type: 'state', info: options.fileEvents === false ? { ...info, files: [] } : info }),
);
engine.on('offer', (info) => out({ type: 'offer', info }));
engine.on('progress', (progress) => out({ type: 'progress', progress, rss: rss() }));
engine.on('error', (error) => out({ type: 'error', error }));
if (options.fileEvents !== false) engine.on('file', (event) => out({ type: 'file', event }));
messenger.on('path', (p) => out({ type: 'path', contactId: p.contactId, path: p.path }));
messenger.on('contact', (c) => out({ type: 'contact', id: c.id, online: c.online }));

const sessions = new Map<string, Session>();
const rawOffers = new Set<string>();
function wire(contactId: string): Session {
  let session = sessions.get(contactId);
  if (session) return session;
  session = messenger.sessionFor(contactId);
  sessions.set(contactId, session);
  const stream = sessionFrameStream(session);
  // Replies to raw (hostile-test) offers are forwarded to the test as well as handled by the engine.
  engine.attach(contactId, {
    ...stream,
    onFrame: (handler) =>
      stream.onFrame((payload) => {
        if (rawOffers.size) {
          try {
            const decoded = decodeFrame(payload);
            if (decoded.kind === 'control' && rawOffers.has(decoded.message.offerId))
              out({ type: 'raw-reply', message: decoded.message });
          } catch {
            // the engine reports bad frames itself
          }
        }
        handler(payload);
      }),
  });
  return session;
}
for (const id of known) wire(id);

process.on('message', (raw) => {
  const msg = raw as TransferIn;
  void (async () => {
    try {
      switch (msg.cmd) {
        case 'add': {
          const c = await messenger.addContact(msg.invite);
          known.add(c.id);
          wire(c.id);
          return out({ type: 'result', req: msg.req, value: c.id });
        }
        case 'send': {
          wire(msg.contactId);
          const { files, skipped } = await walkForSend(msg.paths);
          if (skipped.length) throw new Error(`skipped: ${JSON.stringify(skipped)}`);
          const offers = await engine.send(msg.contactId, files);
          return out({ type: 'result', req: msg.req, value: offers.map((o) => o.offerId) });
        }
        case 'raw': {
          const session = wire(msg.contactId);
          const offerId = (msg.message as { offerId?: unknown }).offerId;
          if (typeof offerId === 'string') rawOffers.add(offerId);
          await session.stream.send(StreamKind.File, encodeControl(msg.message as ControlMessage));
          return out({ type: 'result', req: msg.req, value: true });
        }
        case 'resume':
          engine.resume(msg.offerId);
          return out({ type: 'result', req: msg.req, value: true });
        case 'cancel':
          engine.cancel(msg.offerId);
          return out({ type: 'result', req: msg.req, value: true });
        case 'list':
          return out({ type: 'result', req: msg.req, value: engine.list() });
        case 'stats': {
          const session = msg.contactId ? sessions.get(msg.contactId) : undefined;
          const value = {
            engine: { ...engine.stats },
            stream: session ? session.stream.stats : null,
            rss: rss(),
            maxRss,
            path: session?.path ?? 'none',
          };
          if (msg.resetMaxRss) maxRss = process.memoryUsage.rss();
          return out({ type: 'result', req: msg.req, value });
        }
        case 'close':
          await stopProfile();
          await engine.close();
          await messenger.close();
          out({ type: 'result', req: msg.req, value: true });
          process.exit(0);
      }
    } catch (error) {
      out({ type: 'result', req: msg.req, error: (error as Error).message });
    }
  })();
});

out({ type: 'ready', id: messenger.identity.id, invite: messenger.identity.invite, rss: rss() });
