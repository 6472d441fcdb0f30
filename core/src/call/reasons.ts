// English texts for end codes (logs, CLI); UIs translate from the code. Also how a hangup reason the other side
// sent becomes our CallEnd: only codes travel, never free text (the relay could rewrite text).
import type { HangupReason } from './signals.js';
import type { CallEnd, CallEndCode, CallEndedCode } from './types.js';

const ENDED: ReadonlySet<CallEndCode> = new Set<CallEndedCode>([
  'hangup',
  'remote-hangup',
  'declined',
  'remote-declined',
  'busy',
  'no-answer',
  'missed',
  'superseded',
]);

export function isEndedCode(code: CallEndCode): code is CallEndedCode {
  return ENDED.has(code);
}

export function endMessage(code: CallEndCode, name: string): string {
  switch (code) {
    case 'hangup':
      return 'you ended the call';
    case 'remote-hangup':
      return `${name} ended the call`;
    case 'declined':
      return 'you declined the call';
    case 'remote-declined':
      return `${name} declined the call`;
    case 'busy':
      return `${name} is in another call`;
    case 'no-answer':
      return `${name} did not answer`;
    case 'missed':
      return `missed call from ${name}`;
    case 'superseded':
      return `${name} called you at the same moment; their call rings instead`;
    case 'offline':
      return `${name} is offline`;
    case 'relay-offline':
      return 'you are not connected to the relay';
    case 'no-candidates':
      return 'a device found no network address to use for the call';
    case 'no-path':
      return 'no network path between you; a TURN server is needed on this network';
    case 'turn-unreachable':
      return 'no direct network path between you, and the TURN server gave no relay address';
    case 'ice-failed':
      return 'no network path between you, not even through the TURN server';
    case 'dtls-failed':
      return 'the encrypted media connection (DTLS) did not start';
    case 'timeout':
      return 'the call setup did not complete in time';
    case 'tampered':
      return 'the call setup or its media was altered on the way (the relay may be tampering); the call was stopped';
    case 'impersonation':
      return 'the call setup was not signed by the contact; the call was refused';
    case 'connection-lost':
      return `the connection to ${name} was lost`;
    case 'unsupported':
      return 'calls are not available on one of the devices';
    case 'media-error':
      return 'a camera or microphone track could not be sent';
    case 'protocol':
      return 'the devices could not agree on the call setup';
    case 'error':
      return 'the call failed';
  }
}

/** Our CallEnd for a hangup the contact sent, given whether we had answered (incoming ringing → missed). */
export function endFromRemoteHangup(reason: HangupReason, name: string, ringingIncoming: boolean): CallEnd {
  if (reason === 'hangup' || reason === 'cancelled' || reason === 'no-answer' || reason === 'superseded') {
    const code: CallEndCode = ringingIncoming ? 'missed' : 'remote-hangup';
    return { code, message: endMessage(code, name), remote: true };
  }
  return { code: reason, message: `${endMessage(reason, name)} (reported by ${name}'s device)`, remote: true };
}
