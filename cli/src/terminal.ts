// Text that came from someone else (a contact's message, name or file name, a peer's error) must never
// drive the terminal: ESC/CSI sequences can forge lines or move the cursor, OSC 52 writes the clipboard,
// bidi controls reorder what is shown. Human output shows such characters as visible escapes instead;
// --json output is exact (JSON.stringify escapes C0 itself, and a program reads it, not a terminal).

// C0 controls, DEL, C1 controls, bidi embeddings/overrides/isolates/marks, ALM, line/paragraph separators.
// Matching control characters is the point of these two patterns.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;
// The same set without newline and tab: what our own multi-line text may keep.
const UNSAFE_KEEP_LINES =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

function visible(c: string): string {
  switch (c) {
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    default: {
      const code = c.charCodeAt(0);
      return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
    }
  }
}

/**
 * One line of someone else's text, safe to print: every control character (newlines included, so a
 * message cannot forge a second "HH:MM:SS Name:" line) is shown as a visible escape such as `\x1b`.
 */
export function safeText(text: unknown): string {
  return String(text).replace(UNSAFE, visible);
}

/**
 * Last line of defence for whole human output lines: escapes everything dangerous but keeps the
 * newlines and tabs our own messages use. Peer text must still go through safeText where it is
 * interpolated, so its newlines are escaped too.
 */
export function safeOutput(text: string): string {
  return text.replace(UNSAFE_KEEP_LINES, visible);
}
