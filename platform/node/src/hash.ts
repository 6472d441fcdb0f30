// node:crypto's incremental SHA-256 for the transfer's file digest (core/src/transfer/hash.ts): each 1 MiB
// block is hashed in place from the chunks as they arrive, instead of being copied into a block buffer and
// handed to WebCrypto as a thread-pool job. Passed down as the transfer engine's `blockHash` option.
import { createHash, type Hash } from 'node:crypto';
import type { Sha256Stream, Sha256StreamFactory } from '../../../core/src/transfer/hash.js';

function wrap(hash: Hash): Sha256Stream {
  return {
    update: (data) => void hash.update(data),
    digest: () => hash.digest(),
    copy: () => wrap(hash.copy()),
  };
}

export const nodeBlockHash: Sha256StreamFactory = () => wrap(createHash('sha256'));
