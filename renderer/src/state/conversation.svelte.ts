// One chat's loaded messages, kept sorted by seq; older pages load on scroll-up.
import type { ChatMessage } from '../../../core/src/api.js';
import type { EngineLike } from './engine.js';
import { upsertBySeq } from './order.js';

export const PAGE_SIZE = 50;

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
      const page = await engine.history(this.contactId, {
        limit: PAGE_SIZE,
        ...(oldest !== undefined ? { before: oldest } : {}),
      });
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
