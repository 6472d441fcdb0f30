// Why a call did not connect, derived from what was observed while it tried, so the user reads a cause
// ("a TURN server is needed on this network") instead of a spinner or "connection failed".
import type { CallFailedCode } from './types.js';

export interface ConnectObservations {
  /** The contact's offer/answer arrived and verified. */
  remoteDescribed: boolean;
  /** Candidates our side gathered (from simple-peer 'signal' candidate events), and how many were TURN relay ones. */
  localCandidates: number;
  localRelayCandidates: number;
  /** Candidates the contact sent us. */
  remoteCandidates: number;
  /** Every iceConnectionState seen. */
  iceStates: ReadonlySet<string>;
  /** Whether the user configured any TURN server. */
  turnConfigured: boolean;
}

export interface Diagnosis {
  code: CallFailedCode;
  message: string;
}

const ICE_UP = ['connected', 'completed'];

export function diagnoseConnectFailure(obs: ConnectObservations, peerName: string): Diagnosis {
  if (!obs.remoteDescribed) {
    return { code: 'timeout', message: `${peerName}'s device did not complete the call setup in time` };
  }
  if (ICE_UP.some((s) => obs.iceStates.has(s))) {
    return {
      code: 'dtls-failed',
      message: `a network path to ${peerName} was found, but the encrypted media connection (DTLS) did not start`,
    };
  }
  if (obs.localCandidates === 0) {
    return {
      code: 'no-candidates',
      message:
        'your device found no network address to use for the call (no ICE candidates); check your network connection',
    };
  }
  if (obs.remoteCandidates === 0) {
    return {
      code: 'no-candidates',
      message: `${peerName}'s device sent no network address for the call (no ICE candidates)`,
    };
  }
  if (obs.turnConfigured && obs.localRelayCandidates === 0) {
    return {
      code: 'turn-unreachable',
      message:
        'no direct network path between you, and the TURN server gave no relay address (check its address and credentials)',
    };
  }
  if (obs.turnConfigured) {
    return { code: 'ice-failed', message: 'no network path between you, not even through the TURN server' };
  }
  return { code: 'no-path', message: 'no network path between you; a TURN server is needed on this network' };
}

/** Whether an ICE candidate line is a TURN relay candidate. */
export function isRelayCandidate(candidate: string): boolean {
  return /\btyp\s+relay\b/i.test(candidate);
}
