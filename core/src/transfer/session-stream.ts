// Runs the transfer engine on a contact's Session: frames of kind StreamKind.File on its reliable
// stream, the session's path for progress, and the stream's 'peer-restart' as a reset (the peer lost
// its state: resync offers). The session bridges direct↔relay switches itself, so no resync there.
import type { IdentityId, Unsubscribe } from '../api.js';
import type { Session } from '../session/session.js';
import { StreamKind } from '../session/stream.js';
import { YIELD_CHUNK_BYTES } from '../session/yield-pacer.js';
import type { TransferEngine } from './engine.js';
import type { FrameStream } from './stream.js';

export function sessionFrameStream(session: Session, kind: number = StreamKind.File): FrameStream {
  return {
    // The engine never reuses a frame it sent (until it is acknowledged): hand it over without a copy.
    send: (payload, onAcked) => session.stream.send(kind, payload, { transfer: true, ...(onAcked ? { onAcked } : {}) }),
    onFrame: (handler) => session.stream.onFrame(kind, handler),
    path: () => session.path,
    route: () => session.route,
    chunkBytes: () => (session.stream.yielding ? YIELD_CHUNK_BYTES : undefined),
    onReset: (handler) => session.stream.on('peer-restart', handler),
  };
}

/** Attaches `engine` to a contact's session; returns the detach function. One engine per session kind. */
export function attachSession(engine: TransferEngine, contactId: IdentityId, session: Session): Unsubscribe {
  return engine.attach(contactId, sessionFrameStream(session));
}
