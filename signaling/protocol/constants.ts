/**
 * Wire protocol version. A client speaking another version is refused with CloseCode.Version.
 * v2: `subscribe` carries signed watch grants (presence only for contacts), store-and-forward `mail`.
 */
export const PROTOCOL_VERSION = 2;

/** The WebSocket path the relay accepts upgrades on; everything else on the port is HTTP (web client). */
export const RELAY_PATH = '/ws';

/** Largest payload a client may put in one relay-channel frame (an encrypted 256 KiB chunk plus headroom). */
export const MAX_CHANNEL_PAYLOAD = 256 * 1024 + 1024;
/** Binary frame = 4-byte big-endian channel number + payload. */
export const CHANNEL_HEADER_BYTES = 4;
/** Largest JSON control message, in bytes of UTF-8. SDP with many candidates fits easily. */
export const MAX_CONTROL_BYTES = 64 * 1024;
/** ws maxPayload: the largest frame of either kind. */
export const MAX_FRAME_BYTES = CHANNEL_HEADER_BYTES + MAX_CHANNEL_PAYLOAD;

/** Length of an identity id: base64url of a SHA-256 digest. */
export const IDENTITY_ID_LENGTH = 43;
/** Random bytes in a relay challenge nonce. */
export const NONCE_BYTES = 32;
/** Max length of a client-chosen channel tag (a session id). */
export const MAX_TAG_LENGTH = 64;
/** Max ids in one subscribe/unsubscribe message. */
export const MAX_IDS_PER_MESSAGE = 256;
/** Max length of a relay-assigned mail id. */
export const MAX_MAIL_ID_LENGTH = 32;
/** Largest mail body, in bytes of its JSON. A contact request with a name, relays and a grant fits easily. */
export const MAX_MAIL_BYTES = 4096;
/** Max length of a client correlation ref. */
export const MAX_REF_LENGTH = 64;

/** WebSocket close codes the relay uses (4000–4999 are for applications). */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  BadMessage: 4400,
  AuthFailed: 4401,
  AuthTimeout: 4408,
  Version: 4426,
  RateLimited: 4429,
  ServerFull: 4503,
  Dead: 4504,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Error codes carried in `{type:'error'}` replies. */
export const ErrorCode = {
  Version: 'version',
  BadMessage: 'bad-message',
  TooLarge: 'too-large',
  AuthFailed: 'auth-failed',
  AuthTimeout: 'auth-timeout',
  NotAuthenticated: 'not-authenticated',
  Offline: 'offline',
  RateLimited: 'rate-limited',
  TooManySubscriptions: 'too-many-subscriptions',
  /** A watch grant that does not verify, names someone else, or expired: no presence for that id. */
  WatchDenied: 'watch-denied',
  /** The relay's mail storage is full (relay-wide; says nothing about the recipient). */
  MailboxFull: 'mailbox-full',
  TooManyChannels: 'too-many-channels',
  UnknownChannel: 'unknown-channel',
  /** A channel-open found no matching open from the peer in time (or was superseded by a newer one). */
  ChannelTimeout: 'channel-timeout',
  ServerFull: 'server-full',
  /** A clustered relay lost its broker: the message was not delivered (never silently dropped). */
  Unavailable: 'unavailable',
  /** The identity already has the cluster-wide maximum of connections. */
  TooManyConnections: 'too-many-connections',
  Internal: 'internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
