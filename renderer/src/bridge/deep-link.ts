// Invites reach the web client in the page URL: `#invite=<link>` or `?invite=<link>` (a shared web link),
// or a bare `#parley:…`. Pure parsing, unit-tested.

/** Returns the invite text carried by a URL, or null. Does not validate the invite itself. */
export function inviteFromUrl(href: string): string | null {
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    return null;
  }
  const fromQuery = url.searchParams.get('invite');
  if (fromQuery) return fromQuery;
  const hash = url.hash.replace(/^#/, '');
  if (!hash) return null;
  if (hash.startsWith('invite=')) {
    try {
      return decodeURIComponent(hash.slice('invite='.length)) || null;
    } catch {
      return null;
    }
  }
  if (hash.startsWith('parley:')) return hash;
  return null;
}

/** The same URL without the invite, to put back in the address bar once the invite is taken. */
export function withoutInvite(href: string): string {
  const url = new URL(href);
  url.searchParams.delete('invite');
  const hash = url.hash.replace(/^#/, '');
  if (hash.startsWith('invite=') || hash.startsWith('parley:')) url.hash = '';
  return url.href;
}

/** A web link that opens this client with the invite filled in. */
export function webInviteLink(origin: string, invite: string): string {
  return `${origin}/#invite=${encodeURIComponent(invite)}`;
}
