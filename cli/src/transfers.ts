// File transfer for `parley send` and `parley receive`. The Messenger runs the transfer engine on every
// contact's session from the moment the session exists (core/src/messenger.ts); this supplies the Node
// files and the command's policy, and hands the command the engine.
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyValueStore } from '../../core/src/platform/types.js';
import { TransferStore } from '../../core/src/transfer/store.js';
import { silentLogger } from '../../core/src/platform/types.js';
import type { OfferDecision, TransferEngine, TransferInfo } from '../../core/src/transfer/index.js';
import { NodeFileSink, NodeFileSource } from '../../platform/node/src/file-io.js';
import { nodeBlockHash } from '../../platform/node/src/hash.js';
import { openOnline, type Online } from './engine.js';
import type { ActionContext } from './run.js';

export interface TransfersOptions {
  /** Folder incoming files are saved in; default HOME/received (used only by `receive`). */
  receiveDir?: string;
  decide: (offer: TransferInfo) => OfferDecision | Promise<OfferDecision>;
  /** Which unfinished outgoing offers continue when their contact connects; default none (only `send` resumes its own). */
  resumeOnAttach?: (offer: TransferInfo) => boolean;
}

export interface OnlineWithFiles extends Online {
  transfers: TransferEngine;
}

/** Opens the Messenger with file transfer; close it with `messenger.close({ drain: true })`. */
export async function openWithFiles(ctx: ActionContext, options: TransfersOptions): Promise<OnlineWithFiles> {
  const online = await openOnline(ctx, {
    files: {
      source: new NodeFileSource(),
      sink: new NodeFileSink(options.receiveDir ?? join(ctx.home.dir, 'received')),
      decide: options.decide,
      resumeOnAttach: options.resumeOnAttach ?? (() => false),
      blockHash: nodeBlockHash,
    },
  });
  const { transfers } = online.messenger;
  if (!transfers) throw new Error('the Messenger was opened without file transfer');
  return { ...online, transfers };
}

/**
 * Of these outgoing offers, the ones whose source files are gone (deleted or moved since the offer was
 * made): they can never finish, so `send` ends them (once) instead of leaving them to fail later.
 */
export async function offersWithMissingSources(
  kv: KeyValueStore,
  offers: readonly TransferInfo[],
): Promise<Map<string, string[]>> {
  const wanted = new Set(offers.filter((o) => o.direction === 'out').map((o) => o.offerId));
  const missing = new Map<string, string[]>();
  if (wanted.size === 0) return missing;
  for (const { record } of await new TransferStore(kv, silentLogger).loadAll()) {
    if (!wanted.has(record.offerId)) continue;
    const gone: string[] = [];
    for (const f of record.files) {
      if (f.source === undefined) continue;
      if (
        !(await access(f.source).then(
          () => true,
          () => false,
        ))
      )
        gone.push(f.relativePath);
    }
    if (gone.length > 0) missing.set(record.offerId, gone);
  }
  return missing;
}
