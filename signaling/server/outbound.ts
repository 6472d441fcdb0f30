// Relay → client messages, serialised by hand where they are hot (presence, signals) and by
// JSON.stringify elsewhere. Every value concatenated raw here was validated as base64url or a tag.
import type { ErrorCode, RelayLimitsInfo, TurnCredentials } from '../protocol/index.js';
import { PROTOCOL_VERSION } from '../protocol/index.js';

export function challengeText(nonce: string): string {
  return `{"type":"challenge","v":${PROTOCOL_VERSION},"nonce":"${nonce}"}`;
}

export function readyText(id: string, limits: RelayLimitsInfo, turn?: TurnCredentials): string {
  return JSON.stringify(turn ? { type: 'ready', id, limits, turn } : { type: 'ready', id, limits });
}

export function presenceText(id: string, online: boolean): string {
  return `{"type":"presence","id":"${id}","online":${online}}`;
}

/** `dataJson` is the already validated signal data, serialised once for all recipients. */
export function signalText(from: string, dataJson: string): string {
  return `{"type":"signal","from":"${from}","data":${dataJson}}`;
}

export function channelReadyText(channel: number, peer: string, tag: string): string {
  return `{"type":"channel-ready","channel":${channel},"peer":"${peer}","tag":"${tag}"}`;
}

export function channelClosedText(channel: number, reason: string): string {
  return JSON.stringify({ type: 'channel-closed', channel, reason });
}

export interface ErrorExtras {
  ref?: string | undefined;
  to?: string | undefined;
  tag?: string | undefined;
}

export function errorText(code: ErrorCode, message: string, extras: ErrorExtras = {}): string {
  return JSON.stringify({
    type: 'error',
    code,
    message: message.slice(0, 500),
    ref: extras.ref,
    to: extras.to,
    tag: extras.tag,
  });
}

export function pongText(ref: string | undefined): string {
  return ref === undefined ? '{"type":"pong"}' : JSON.stringify({ type: 'pong', ref });
}
