// IPC messages between a test and messenger-peer.ts.
import type { ChatMessage, RelayState, SessionPath } from '../../../core/src/api.js';

export type PeerIn =
  | { cmd: 'add'; req: number; invite: string }
  | { cmd: 'send'; req: number; contactId: string; text: string }
  | { cmd: 'sendMany'; req: number; contactId: string; prefix: string; from: number; count: number }
  | { cmd: 'history'; req: number; contactId: string; before?: number }
  | { cmd: 'path'; req: number; contactId: string }
  | { cmd: 'close'; req: number };

export type PeerOut =
  | { type: 'ready'; id: string; invite: string }
  | { type: 'message'; message: ChatMessage; t: number }
  | { type: 'path'; contactId: string; path: SessionPath }
  | { type: 'relay'; state: RelayState }
  | { type: 'error'; message: string; contactId?: string }
  | { type: 'contact'; id: string; online: boolean; path: SessionPath }
  | { type: 'result'; req: number; value?: unknown; error?: string; t?: number };
