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
}
