// Turns one text frame from a client into a validated control message, or a precise reason why not.
// Order matters for cost: size, then a cheap nesting scan, then JSON.parse, then the one schema for `type`.
import type { z } from 'zod';
import {
  AuthSchema,
  ChannelCloseSchema,
  ChannelOpenSchema,
  ErrorCode,
  HelloSchema,
  MailAckSchema,
  MailOutSchema,
  MAX_CONTROL_BYTES,
  MAX_REF_LENGTH,
  PingSchema,
  PROTOCOL_VERSION,
  SignalOutSchema,
  SubscribeSchema,
  TurnCredentialsRequestSchema,
  UnsubscribeSchema,
  describeIssue,
  type ClientMessage,
} from '../protocol/index.js';
import { exceedsDepth } from './json-depth.js';

export const MAX_JSON_DEPTH = 32;

const SCHEMAS = new Map<string, z.ZodType<ClientMessage>>([
  ['hello', HelloSchema],
  ['auth', AuthSchema],
  ['subscribe', SubscribeSchema],
  ['unsubscribe', UnsubscribeSchema],
  ['signal', SignalOutSchema],
  ['channel-open', ChannelOpenSchema],
  ['channel-close', ChannelCloseSchema],
  ['ping', PingSchema],
  ['mail', MailOutSchema],
  ['mail-ack', MailAckSchema],
  ['turn-credentials', TurnCredentialsRequestSchema],
]);

export type Inbound =
  | { ok: true; msg: ClientMessage; raw: Record<string, unknown> }
  | { ok: false; code: ErrorCode; message: string; ref?: string };

export function parseControl(data: Buffer): Inbound {
  if (data.length > MAX_CONTROL_BYTES) {
    return {
      ok: false,
      code: ErrorCode.TooLarge,
      message: `control message of ${data.length} bytes exceeds ${MAX_CONTROL_BYTES}`,
    };
  }
  const text = data.toString('utf8');
  if (exceedsDepth(text, MAX_JSON_DEPTH)) {
    return { ok: false, code: ErrorCode.BadMessage, message: `JSON nested deeper than ${MAX_JSON_DEPTH} levels` };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, code: ErrorCode.BadMessage, message: 'message is not valid JSON' };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, code: ErrorCode.BadMessage, message: 'message must be a JSON object' };
  }
  const obj = raw as Record<string, unknown>;
  const ref =
    typeof obj.ref === 'string' && obj.ref.length > 0 && obj.ref.length <= MAX_REF_LENGTH ? obj.ref : undefined;
  const type = obj.type;
  if (typeof type !== 'string') return fail(ErrorCode.BadMessage, 'type: expected a string', ref);
  const schema = SCHEMAS.get(type);
  if (!schema)
    return fail(ErrorCode.BadMessage, `type: unknown message type ${JSON.stringify(type.slice(0, 40))}`, ref);
  // Checked before the schema so a client from the future learns about the version, not about a field.
  if (type === 'hello' && typeof obj.v === 'number' && obj.v !== PROTOCOL_VERSION) {
    return fail(
      ErrorCode.Version,
      `relay speaks protocol version ${PROTOCOL_VERSION}, client sent ${String(obj.v).slice(0, 20)}`,
      ref,
    );
  }
  const parsed = schema.safeParse(obj);
  if (!parsed.success) return fail(ErrorCode.BadMessage, `${type}: ${describeIssue(parsed.error)}`, ref);
  return { ok: true, msg: parsed.data, raw: obj };
}

function fail(code: ErrorCode, message: string, ref: string | undefined): Inbound {
  return ref === undefined ? { ok: false, code, message } : { ok: false, code, message, ref };
}
