// File transfer engine: see README.md.
export {
  TransferEngine,
  defaultCheckpointBytes,
  DEFAULT_RELAY_WINDOW_BYTES,
  DEFAULT_WINDOW_BYTES,
  type TransferEngineOptions,
} from './engine.js';
export { TransferError, TransferErrorCode, isTransferErrorCode } from './errors.js';
export type { FileSink, FileSource, SinkFile, SinkOpenOptions, SourceFile } from './io.js';
export type { FrameStream } from './stream.js';
export {
  assertRelativePath,
  displayName,
  offerPathsProblem,
  relativePathProblem,
  MAX_DEPTH,
  MAX_PATH_BYTES,
  MAX_SEGMENT_BYTES,
} from './names.js';
export {
  DEFAULT_CHUNK_BYTES,
  MAX_CHUNK_BYTES,
  MAX_FILES_PER_OFFER,
  MAX_TRANSFER_FRAME_BYTES,
  MAX_WINDOW_BYTES,
  TRANSFER_PROTOCOL_VERSION,
} from './protocol.js';
export type * from './types.js';
export { attachSession, sessionFrameStream } from './session-stream.js';
