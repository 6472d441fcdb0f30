// Opens the engine (core's Messenger) with the browser's platform pieces.
import type { KeyValueStore } from '../../core/src/platform/types.js';
import type { IdentityKeyStore } from '../../core/src/identity/index.js';
import type { EngineOptions } from './state/app.svelte.js';
import type { EngineLike } from './state/engine.js';

export interface EngineFactoryOptions extends EngineOptions {
  store: KeyValueStore;
  identityStore: IdentityKeyStore;
}

export async function openEngine(_options: EngineFactoryOptions): Promise<EngineLike> {
  // Wired to core/src/messenger.ts once it lands.
  throw new Error('The messaging engine is not available in this build.');
}
