// The main-process side of ParleyBridge: one validated IPC channel per bridge method. Every Electron
// capability arrives as an injected function, so this file runs in plain Node under test.
import { z } from 'zod';
import { IDENTITY_ID_LENGTH } from '../../signaling/protocol/constants.js';
import { Channel } from '../shared/ipc-contract.js';
import type { ValidatedIpc } from './ipc.js';
import { checkExternalUrl, MAX_EXTERNAL_URL_LENGTH } from './navigation-policy.js';
import type { TrayState } from './tray.js';

export const MAX_NOTIFICATION_TITLE = 200;
export const MAX_NOTIFICATION_BODY = 1000;

const contactIdSchema = z.string().regex(new RegExp(`^[A-Za-z0-9_-]{${IDENTITY_ID_LENGTH}}$`), 'not an identity id');

export const schemas = {
  none: z.tuple([]),
  notify: z.tuple([
    z.strictObject({
      kind: z.enum(['message', 'call', 'file']),
      title: z.string().min(1).max(MAX_NOTIFICATION_TITLE),
      body: z.string().max(MAX_NOTIFICATION_BODY),
      contactId: contactIdSchema.optional(),
    }),
  ]),
  trayState: z.tuple([
    z.strictObject({
      presence: z.enum(['online', 'connecting', 'offline']),
      unread: z.int().min(0).max(1_000_000),
    }),
  ]),
  openExternal: z.tuple([z.string().min(1).max(MAX_EXTERNAL_URL_LENGTH)]),
};

export type NotificationRequest = z.output<typeof schemas.notify>[0];

export interface BridgeIpcDeps {
  relayUrl(): string | null;
  downloadsDir(): string;
  notify(request: NotificationRequest): void;
  setTrayState(state: TrayState): void;
  openPath(path: string): Promise<void>;
  openExternal(url: string): Promise<void>;
  takeDeepLinks(senderId: number): string[];
}

export function registerBridgeIpc(ipc: ValidatedIpc, deps: BridgeIpcDeps): void {
  ipc.handle(Channel.RelayUrl, schemas.none, () => deps.relayUrl());

  ipc.handle(Channel.Notify, schemas.notify, (_ctx, request) => deps.notify(request));
  ipc.handle(Channel.TrayState, schemas.trayState, (_ctx, state) => deps.setTrayState(state));
  ipc.handle(Channel.OpenDownloads, schemas.none, () => deps.openPath(deps.downloadsDir()));

  ipc.handle(Channel.OpenExternal, schemas.openExternal, async (_ctx, url) => {
    const check = checkExternalUrl(url);
    if (!check.ok) throw new Error(`openExternal refused: ${check.reason}`);
    // Reviewed: only a URL that passed checkExternalUrl gets here (navigation-policy.test.ts).
    await deps.openExternal(check.url); // eng-disable OPEN_EXTERNAL_JS_CHECK
  });

  ipc.handle(Channel.TakeDeepLinks, schemas.none, ({ sender }) => deps.takeDeepLinks(sender.id));
}
