// Link detection for chat text. Links are shown, never fetched or opened without the user's consent;
// only https URLs can be opened at all (the bridge re-validates).

export type TextSegment = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

// Scheme-prefixed http(s) URLs and bare "www." hosts. Stops at whitespace and at characters that are
// never part of a URL in running text.
const LINK = /\b(?:https?:\/\/|www\.)[^\s<>"'`\u3000-\u303f\uff01-\uff60]+/gi;
// Punctuation that usually ends a sentence rather than the URL.
const TRAILING = /[.,;:!?'"’”)\]}>]+$/;

function balanceParens(url: string, trailing: string): [string, string] {
  // Keep a closing parenthesis that closes one opened inside the URL (Wikipedia-style links).
  let u = url;
  let t = trailing;
  while (t.startsWith(')') && (u.match(/\(/g)?.length ?? 0) > (u.match(/\)/g)?.length ?? 0)) {
    u += ')';
    t = t.slice(1);
  }
  return [u, t];
}

/** Splits text into plain and link segments; concatenating every segment's text gives the input back. */
export function splitLinks(text: string): TextSegment[] {
  const out: TextSegment[] = [];
  let last = 0;
  for (const match of text.matchAll(LINK)) {
    const start = match.index;
    let url = match[0];
    const trail = TRAILING.exec(url)?.[0] ?? '';
    url = url.slice(0, url.length - trail.length);
    [url] = balanceParens(url, trail);
    if (url.length <= 4 || /^www\.$/i.test(url) || /^https?:\/\/$/i.test(url)) continue;
    if (start > last) out.push({ kind: 'text', text: text.slice(last, start) });
    const href = /^www\./i.test(url) ? `https://${url}` : url;
    out.push({ kind: 'link', text: url, href });
    last = start + url.length;
  }
  if (last < text.length) out.push({ kind: 'text', text: text.slice(last) });
  return out;
}

/** Returns a normalized https URL that may be opened externally, or null. No credentials, no other schemes. */
export function safeExternalUrl(input: string): string | null {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:') return null;
  if (url.username || url.password) return null;
  if (!url.hostname) return null;
  return url.href;
}
