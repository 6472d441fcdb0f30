// The transfer engine wired to the Messenger's sessions for `parley send` and `parley receive`.
// The engine is attached to a contact's session as soon as the session exists: frames of a kind with
// no handler are dropped by the stream, so attaching late could lose an offer.
import { join } from 'node:path';
import type { IdentityId, Unsubscribe } from '../../core/src/api.js';
import { TransferEngine, type OfferDecision, type TransferInfo } from '../../core/src/transfer/index.js';
import { attachSession } from '../../core/src/transfer/session-stream.js';
import type { Online } from './engine.js';
import { NodeFileSink, NodeFileSource } from '../../platform/node/src/file-io.js';
import type { ActionContext } from './run.js';

export interface Transfers {
  engine: TransferEngine;
  /** Creates (or reuses) the contact's session and runs the engine on it. Idempotent. */
  attach(contactId: IdentityId): void;
  close(): Promise<void>;
}

export interface TransfersOptions {
  /** Folder incoming files are saved in; default HOME/received (used only by `receive`). */
  receiveDir?: string;
  decide: (offer: TransferInfo) => OfferDecision | Promise<OfferDecision>;
}

export async function startTransfers(ctx: ActionContext, online: Online, options: TransfersOptions): Promise<Transfers> {
  const { messenger } = online;
  const known = new Set((await messenger.contacts()).map((c) => c.id));
  const engine = new TransferEngine({
    store: ctx.home.store,
    source: new NodeFileSource(),
    sink: new NodeFileSink(options.receiveDir ?? join(ctx.home.dir, 'received')),
    logger: ctx.logger,
    isKnownContact: (id) => known.has(id),
    decide: options.decide,
  });
  await engine.start();
  const attached = new Map<IdentityId, Unsubscribe>();
  const attach = (contactId: IdentityId): void => {
    if (attached.has(contactId)) return;
    attached.set(contactId, attachSession(engine, contactId, messenger.sessionFor(contactId)));
  };
  // Offers left unfinished by an earlier run continue as soon as their contact is reachable.
  for (const id of engine.contactsWithUnfinished()) if (known.has(id)) attach(id);
  return {
    engine,
    attach,
    async close() {
      for (const off of attached.values()) off();
      attached.clear();
      await engine.close();
    },
  };
}
