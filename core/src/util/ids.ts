// Random identifiers (message ids, session ids, stream epochs).
import { toBase64url } from '../../../signaling/protocol/index.js';

export function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

/** base64url of n random bytes: 16 bytes → 22 characters, safe as a relay channel tag. */
export function randomId(n = 16): string {
  return toBase64url(randomBytes(n));
}
