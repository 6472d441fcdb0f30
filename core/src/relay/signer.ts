// Adapts the identity key pair to what the relay client needs.
import type { Bytes } from '../../../signaling/protocol/index.js';
import { signIdentity, type IdentityKeyPair } from '../identity/keys.js';
import type { RelaySigner } from './client.js';

export function relaySignerOf(identity: IdentityKeyPair): RelaySigner {
  return { id: identity.id, publicKey: identity.publicKey, sign: (data: Bytes) => signIdentity(identity, data) };
}
