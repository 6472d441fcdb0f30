// Node peers seal relay records with node:crypto's synchronous AES-256-GCM instead of WebCrypto:
// the same bytes (peers on either engine talk to each other), without WebCrypto's per-call job
// overhead, which was most of the relay path's crypto cost at 64–256 KiB records.
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { cipherAead, setDefaultAeadEngine, type GcmCipherApi } from '../../../core/src/crypto/index.js';

export function useNodeCipher(): void {
  setDefaultAeadEngine(cipherAead({ createCipheriv, createDecipheriv } as unknown as GcmCipherApi));
}
