// Turning what the user typed for <contact> into one contact: a display name or a unique id prefix.
import type { Contact } from '../../core/src/api.js';
import { UsageError } from './errors.js';
import { safeText } from './terminal.js';

/** Characters of an id shown to people; long enough to be unique in any realistic contact list. */
export const SHORT_ID = 10;

export function shortId(id: string): string {
  return id.slice(0, SHORT_ID);
}

export function describeContact(c: Pick<Contact, 'id' | 'name'>): string {
  // Names come from invites and contacts: shown escaped, like all peer text.
  return c.name ? `${safeText(c.name)} (${safeText(shortId(c.id))})` : safeText(shortId(c.id));
}

/**
 * Rules, in order: a full id; else every contact whose name equals the query exactly or whose id starts
 * with it; if none, names equal ignoring case. One candidate wins; several are an error listing them.
 */
export function resolveContact<C extends Pick<Contact, 'id' | 'name'>>(contacts: readonly C[], query: string): C {
  const q = query.trim();
  if (q === '') throw new UsageError('<contact> is empty: give a display name or an id prefix');
  const exact = contacts.find((c) => c.id === q);
  if (exact) return exact;
  let matches = contacts.filter((c) => c.name === q || c.id.startsWith(q));
  if (matches.length === 0) {
    const lower = q.toLowerCase();
    matches = contacts.filter((c) => c.name.toLowerCase() === lower);
  }
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) {
    throw new UsageError(
      contacts.length === 0
        ? `no contact matches "${safeText(q)}" (you have no contacts yet: add one with \`parley add <invite>\`)`
        : `no contact matches "${safeText(q)}" (see \`parley contacts\`)`,
    );
  }
  const list = matches.map((c) => `  ${c.name ? safeText(c.name) : '(no name)'}  ${c.id}`).join('\n');
  throw new UsageError(`"${safeText(q)}" matches ${matches.length} contacts; use a longer id prefix:\n${list}`);
}
