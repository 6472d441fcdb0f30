// The byte stream to one contact that the transfer engine runs on. The session engine provides it
// (core/src/session: reliable, ordered, exactly-once across direct/relay switches, with backpressure);
// tests provide an in-memory pair. See README.md "Stream contract".
import type { SessionPath, Unsubscribe } from '../api.js';

export interface FrameStream {
  /**
   * Queues one frame (≤ 256 KiB) for the peer. Resolves when the stream's window has room for more,
   * which is the engine's only backpressure; rejects once the stream is closed. The stream may keep
   * `payload` without copying it: the engine never modifies a frame after sending it. `onAcked` (optional; a
   * stream may ignore it) runs once, when the peer has acknowledged the frame and the stream holds it no
   * more: the engine may then hand its buffer back to the file source (SourceFile.release).
   */
  send(payload: Uint8Array, onAcked?: () => void): Promise<void>;
  /**
   * Frames from the peer, in order. The engine releases each payload (core/src/session/buffer-lease.ts) once it
   * no longer reads it (a chunk: after it was written and hashed), so a stream that lends received memory may
   * reuse it then; memory that is not lent is left alone.
   */
  onFrame(handler: (payload: Uint8Array) => void): Unsubscribe;
  /** The path frames currently take (shown with progress). */
  path(): SessionPath;
  /**
   * Optional: the largest chunk the stream wants now, or undefined for the engine's own size. A stream that
   * yields to a call on its path (core/src/session/yield-pacer.ts) wants small ones, so little waits on the link.
   */
  chunkBytes?(): number | undefined;
  /** Optional: the transport under the session ('tcp', 'webrtc', 'relay', 'none'): bulk lanes only go with 'tcp'. */
  route?(): string;
  /**
   * Optional: the peer restarted (lost its state), so frames sent before may be lost or reach its new
   * incarnation out of context. The engine resyncs the contact's transfers, as on a fresh attach.
   */
  onReset?(handler: () => void): Unsubscribe;
}
