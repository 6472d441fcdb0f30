// Monotonic counters the relay keeps for stats(); plain fields so the hot paths only increment integers.
export class RelayCounters {
  connectionsAccepted = 0;
  authenticatedTotal = 0;
  authFailures = 0;
  violations = 0;
  closedForViolations = 0;
  rateLimited = 0;
  signalsForwarded = 0;
  framesForwarded = 0;
  bytesForwarded = 0;
  backpressurePauses = 0;
  /** Largest send queue (bytes) seen on any connection right after the relay queued a channel frame. */
  peakBufferedBytes = 0;
  internalErrors = 0;
  heartbeatTerminations = 0;
  /** Sockets closed at accept: maxSockets or maxSocketsPerIp reached. */
  socketsRefused = 0;
  /** Sockets closed for not completing a request head within requestHeadTimeoutMs. */
  headTimeouts = 0;
  /** WebSocket upgrades refused with 403 for their Origin. */
  originsRefused = 0;
  /** WebSocket upgrades refused with 503: the unauthenticated budget (total or per address) was spent. */
  unauthenticatedRefused = 0;
  /** Connections terminated at the auth deadline. */
  authTimeouts = 0;
}
