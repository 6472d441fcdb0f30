// Node peers seal relay records with node:crypto's synchronous AES-256-GCM instead of WebCrypto:
// the same bytes (peers on either engine talk to each other), without WebCrypto's per-call job
// overhead, which was most of the relay path's crypto cost at 64–256 KiB records.
// Passed down as the Messenger's (or a Session's / RelayTransport's) `aead` option.
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { cipherAead, type AeadEngine, type GcmCipherApi } from '../../../core/src/crypto/index.js';

export const nodeAead: AeadEngine = cipherAead({ createCipheriv, createDecipheriv } as unknown as GcmCipherApi);
