// Chat frames on the session stream (StreamKind.Chat): JSON, validated (peer input).
import { z } from 'zod';
import { fromUtf8, utf8 } from '../util/bytes.js';

export const MAX_TEXT_CHARS = 64 * 1024;

export const ChatFrameSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('msg'), id: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/), text: z.string().max(MAX_TEXT_CHARS), sentAt: z.number().finite() }),
  z.object({ t: z.literal('ack'), ids: z.array(z.string().regex(/^[A-Za-z0-9_-]{8,64}$/)).min(1).max(512) }),
]);
export type ChatFrame = z.infer<typeof ChatFrameSchema>;

export function encodeChatFrame(frame: ChatFrame): Uint8Array {
  return utf8(JSON.stringify(frame));
}

export function decodeChatFrame(bytes: Uint8Array): ChatFrame | null {
  try {
    const parsed = ChatFrameSchema.safeParse(JSON.parse(fromUtf8(bytes)));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
