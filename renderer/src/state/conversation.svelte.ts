// One chat's loaded messages, kept sorted by seq; older pages load on scroll-up.
import type { ChatMessage } from '../../../core/src/api.js';
import type { EngineLike } from './engine.js';

export const PAGE_SIZE = 50;

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

export class Conversation {
  messages = $state<ChatMessage[]>([]);
  hasMore = $state(true);
  loading = $state(false);
  loadedOnce = $state(false);
  error = $state<string | null>(null);

  constructor(
    readonly contactId: string,
    private readonly engine: () => EngineLike | null,
  ) {}

  /** Loads the newest page the first time, then older pages; no-op while loading or at the start. */
  async loadOlder(): Promise<number> {
    const engine = this.engine();
    if (!engine || this.loading || (this.loadedOnce && !this.hasMore)) return 0;
    this.loading = true;
    this.error = null;
    try {
      const oldest = this.messages[0]?.seq;
      const page = await engine.history(this.contactId, { limit: PAGE_SIZE, ...(oldest !== undefined ? { beforeSeq: oldest } : {}) });
      for (const m of page) upsertBySeq(this.messages, m);
      this.hasMore = page.length >= PAGE_SIZE;
      this.loadedOnce = true;
      return page.length;
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
      return 0;
    } finally {
      this.loading = false;
    }
  }

  upsert(msg: ChatMessage): void {
    // Before the first page loads, the page will bring this message too; adding it now would make the
    // first page's "oldest" wrong.
    if (!this.loadedOnce) return;
    upsertBySeq(this.messages, msg);
  }
}
