// Message order within a conversation. Pure: unit-tested.
import type { ChatMessage } from '../../../core/src/api.js';

/** Inserts or replaces (same id) a message keeping seq order; returns the same array, mutated. */
export function upsertBySeq(list: ChatMessage[], msg: ChatMessage): ChatMessage[] {
  const existing = list.findIndex((m) => m.id === msg.id);
  if (existing >= 0) {
    list[existing] = msg;
    return list;
  }
  // New messages are nearly always the newest: search from the end.
  let i = list.length;
  while (i > 0 && list[i - 1]!.seq > msg.seq) i--;
  list.splice(i, 0, msg);
  return list;
}
