// Opening the engine for a command: offline (contact book and chat store only, no network) or online
// (the Messenger, which connects to the relays at once).
import type { Contact } from '../../core/src/api.js';
import { ChatStore } from '../../core/src/chat/index.js';
import { ContactStore, type StoredContact } from '../../core/src/contacts/store.js';
import type { LocalIdentity } from '../../core/src/identity/index.js';
import { Messenger, type MessengerFilesOptions, type MessengerOptions } from '../../core/src/messenger.js';
import { DEFAULT_RELAY_WINDOW_BYTES } from '../../core/src/transfer/index.js';
import { requireIdentity } from './commands/id.js';
import { CliError } from './errors.js';
import { nodeAead } from '../../platform/node/src/aead.js';
import { nodeTcp } from '../../platform/node/src/tcp/index.js';
import { loadWrtc } from '../../platform/node/src/wrtc.js';
import { diagnosingWebSocketFactory } from './relay-diagnosis.js';
import { resolveContact } from './resolve-contact.js';
import type { ActionContext } from './run.js';

export interface OfflineBook {
  identity: LocalIdentity;
  contacts: ContactStore;
  chat: ChatStore;
  resolve(query: string): StoredContact;
}

export async function openOffline(ctx: ActionContext): Promise<OfflineBook> {
  const identity = await requireIdentity(ctx);
  const contacts = await ContactStore.open(ctx.home.store, ctx.logger);
  return {
    identity,
    contacts,
    chat: new ChatStore(ctx.home.store),
    resolve: (query) => resolveContact(contacts.list(), query),
  };
}

/**
 * How the CLI's Messenger moves bytes. Node's AES-GCM for the records (lending its buffers, see
 * platform/node/src/aead.ts). The session stream's window bounds the bytes in flight on every path: at its
 * 4 MiB default the transfer engine's 8 MiB relay window never opened, and a relay pipeline of three busy
 * processes stalled on it; as large as the relay window, it is the transfer's window that binds (the direct
 * paths' 4 MiB one, or the relay's).
 */
export const CLI_MESSENGER_TUNING = {
  aead: nodeAead,
  streamWindowBytes: DEFAULT_RELAY_WINDOW_BYTES,
} as const satisfies Partial<MessengerOptions>;

export interface Online {
  identity: LocalIdentity;
  messenger: Messenger;
  resolve(query: string): Promise<Contact>;
}

/** Opens the Messenger (it starts connecting to the relays). Direct WebRTC needs @roamhq/wrtc; without it, relay only. */
export async function openOnline(ctx: ActionContext, options: { files?: MessengerFilesOptions } = {}): Promise<Online> {
  const identity = await requireIdentity(ctx);
  const relays = ctx.globals.relays.length > 0 ? ctx.globals.relays : identity.relays;
  let wrtc: unknown;
  if (!ctx.globals.relayOnly) {
    try {
      wrtc = loadWrtc();
    } catch (err) {
      ctx.out.note(
        `warning: @roamhq/wrtc could not be loaded (${(err as Error).message.split('\n')[0]}); using the relay only`,
      );
    }
  }
  let messenger: Messenger;
  try {
    messenger = await Messenger.open({
      store: ctx.home.store,
      identityStore: ctx.home.identityStore,
      webSocket: diagnosingWebSocketFactory(),
      logger: ctx.logger,
      extractableKey: true,
      ...CLI_MESSENGER_TUNING,
      ...(options.files ? { files: options.files } : {}),
      ...(ctx.globals.relays.length > 0 ? { relays: ctx.globals.relays } : {}),
      ...(wrtc !== undefined ? { wrtc } : { directDisabled: true }),
      // --relay-only is the user's choice, not a missing module: the session also refuses the contact's offers.
      ...(ctx.globals.relayOnly ? { relayOnly: true } : { tcp: nodeTcp() }),
    });
  } catch (err) {
    throw new CliError(`cannot start: ${(err as Error).message}`);
  }
  if (relays.length === 0) {
    ctx.out.note(
      "warning: no relay configured for you (set one with `parley id --relay URL`); only contacts' relays are used",
    );
  }
  return {
    identity,
    messenger,
    resolve: async (query) => resolveContact(await messenger.contacts(), query),
  };
}
