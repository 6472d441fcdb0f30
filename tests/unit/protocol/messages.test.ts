import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ClientMessageSchema,
  ErrorCode,
  ErrorSchema,
  IdentityIdSchema,
  MAX_IDS_PER_MESSAGE,
  PROTOCOL_VERSION,
  ServerMessageSchema,
  describeIssue,
} from '../../../signaling/protocol/index.js';

const ID = 'A'.repeat(43);
const GRANT = { of: ID, key: { alg: 'Ed25519', pub: 'B'.repeat(43) }, to: ID, exp: 1, sig: 'C'.repeat(86) };

describe('message schemas', () => {
  it('accepts every well-formed client message', () => {
    const valid = [
      { type: 'hello', v: PROTOCOL_VERSION, alg: 'Ed25519', pub: 'A'.repeat(43) },
      { type: 'auth', sig: 'A'.repeat(86) },
      { type: 'subscribe', grants: [GRANT] },
      { type: 'mail', to: ID, body: { app: 'x' }, ref: 'm1' },
      { type: 'mail-ack', ids: ['abc_-1'] },
      { type: 'unsubscribe', ids: [ID] },
      { type: 'signal', to: ID, data: { sdp: 'x' }, ref: 'r' },
      { type: 'channel-open', to: ID, tag: 'session:1.a-b_c' },
      { type: 'channel-close', channel: 0xffffffff },
      { type: 'ping' },
    ];
    for (const msg of valid) expect(ClientMessageSchema.safeParse(msg).success, msg.type).toBe(true);
  });

  it.each([
    ['unknown type', { type: 'list' }],
    ['id of the wrong length', { type: 'unsubscribe', ids: ['A'.repeat(42)] }],
    ['id outside base64url', { type: 'unsubscribe', ids: ['+'.repeat(43)] }],
    ['too many ids', { type: 'unsubscribe', ids: Array(MAX_IDS_PER_MESSAGE + 1).fill(ID) }],
    ['empty ids', { type: 'unsubscribe', ids: [] }],
    ['a v1 subscribe (ids, no grants)', { type: 'subscribe', ids: [ID] }],
    ['empty grants', { type: 'subscribe', grants: [] }],
    ['grant with a bad watched id', { type: 'subscribe', grants: [{ ...GRANT, of: 'short' }] }],
    ['mail id with a space', { type: 'mail-ack', ids: ['a b'] }],
    ['mail body that is not an object', { type: 'mail', to: ID, body: 'x' }],
    ['signal data that is not an object', { type: 'signal', to: ID, data: 'x' }],
    ['channel 0', { type: 'channel-close', channel: 0 }],
    ['channel beyond u32', { type: 'channel-close', channel: 2 ** 32 }],
    ['fractional channel', { type: 'channel-close', channel: 1.5 }],
    ['tag with spaces', { type: 'channel-open', to: ID, tag: 'a b' }],
    ['tag too long', { type: 'channel-open', to: ID, tag: 'a'.repeat(65) }],
    ['unknown algorithm', { type: 'hello', v: 1, alg: 'RSA', pub: 'A'.repeat(43) }],
    ['ref too long', { type: 'ping', ref: 'r'.repeat(65) }],
  ])('rejects %s', (_what, msg) => {
    expect(ClientMessageSchema.safeParse(msg).success).toBe(false);
  });

  it('validates relay messages, including errors that name a channel-open tag', () => {
    expect(ServerMessageSchema.safeParse({ type: 'presence', id: ID, online: true }).success).toBe(true);
    expect(
      ErrorSchema.parse({ type: 'error', code: ErrorCode.ChannelTimeout, message: 'm', to: ID, tag: 't1' }).tag,
    ).toBe('t1');
    expect(ServerMessageSchema.safeParse({ type: 'signal', from: 'nope', data: {} }).success).toBe(false);
    expect(IdentityIdSchema.safeParse(ID).success).toBe(true);
  });

  it('describes the first issue with its path on one short line', () => {
    const result = ClientMessageSchema.safeParse({ type: 'unsubscribe', ids: [ID, 'short'] });
    expect(result.success).toBe(false);
    const text = describeIssue((result as { error: z.ZodError }).error);
    expect(text.startsWith('ids.1:')).toBe(true);
    expect(text.length).toBeLessThanOrEqual(300);
    expect(text).not.toContain('\n');
  });
});
