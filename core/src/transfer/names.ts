// Validation of the relative paths in an offer. A path comes from the peer and ends up joined to the
// receive folder, so anything that could escape it, name a device, or be written differently on another
// OS is refused outright (never "cleaned up": a cleaned name could collide with or shadow another file).
import { TransferError, TransferErrorCode } from './errors.js';

/** Longest relative path, in UTF-8 bytes. */
export const MAX_PATH_BYTES = 1024;
/** Longest path segment, in UTF-8 bytes; leaves room under NAME_MAX (255) for a `.part` suffix. */
export const MAX_SEGMENT_BYTES = 200;
/** Deepest folder nesting. */
export const MAX_DEPTH = 32;

// CON, PRN, AUX, NUL, COM0-9, LPT0-9 (and the superscript digits Windows also maps), CONIN$, CONOUT$.
const DEVICE = /^(con|prn|aux|nul|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3]|conin\$|conout\$)$/i;
// C0 and C1 controls, DEL.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// Bidirectional overrides and isolates: they make "evil\u202Etxt.exe" display as "evilexe.txt".
const BIDI = /[\u202a-\u202e\u2066-\u2069\u200e\u200f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const encoder = new TextEncoder();

/** Returns why `path` is not an acceptable relative path, or null when it is. */
export function relativePathProblem(path: unknown): string | null {
  if (typeof path !== 'string') return 'not a string';
  if (path.length === 0) return 'empty name';
  if (LONE_SURROGATE.test(path)) return 'invalid Unicode';
  if (encoder.encode(path).length > MAX_PATH_BYTES) return `longer than ${MAX_PATH_BYTES} bytes`;
  if (CONTROL.test(path)) return 'control character';
  if (BIDI.test(path)) return 'bidirectional control character';
  if (path.includes('\\')) return 'backslash';
  if (path.includes(':')) return 'colon (drive letter or alternate stream)';
  if (path.startsWith('/')) return 'absolute path';
  const segments = path.split('/');
  if (segments.length > MAX_DEPTH) return `deeper than ${MAX_DEPTH} levels`;
  for (const segment of segments) {
    if (segment === '') return 'empty path segment';
    if (segment === '.' || segment === '..') return `"${segment}" segment`;
    if (encoder.encode(segment).length > MAX_SEGMENT_BYTES) return `segment longer than ${MAX_SEGMENT_BYTES} bytes`;
    if (/[. ]$/.test(segment)) return 'segment ends with a dot or space';
    // Windows ignores the extension and trailing spaces when matching device names: "nul .txt" is NUL.
    const stem = segment.split('.')[0]!.replace(/ +$/, '');
    if (DEVICE.test(stem)) return 'Windows device name';
  }
  return null;
}

/** Quotes a hostile name for an error message without letting it inject control characters. */
export function displayName(path: unknown): string {
  const text = typeof path === 'string' ? path : String(path);
  const quoted = JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text);
  return quoted.replace(/[\u202a-\u202e\u2066-\u2069\u200e\u200f]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

export function assertRelativePath(path: string): void {
  const problem = relativePathProblem(path);
  if (problem) throw new TransferError(TransferErrorCode.BadName, `refused file name ${displayName(path)}: ${problem}`);
}

/**
 * Checks a whole offer's paths: each valid, none repeated, and no file doing double duty as a folder
 * ("a" and "a/b"). Returns the first problem as a readable message, or null.
 */
export function offerPathsProblem(paths: readonly string[]): string | null {
  const files = new Set<string>();
  const folders = new Set<string>();
  for (const path of paths) {
    const problem = relativePathProblem(path);
    if (problem) return `refused file name ${displayName(path)}: ${problem}`;
    const key = path.normalize('NFC');
    if (files.has(key)) return `refused file name ${displayName(path)}: named twice in one offer`;
    if (folders.has(key)) return `refused file name ${displayName(path)}: both a file and a folder`;
    files.add(key);
    const segments = key.split('/');
    for (let i = 1; i < segments.length; i++) folders.add(segments.slice(0, i).join('/'));
  }
  for (const folder of folders) {
    if (files.has(folder)) return `refused file name ${displayName(folder)}: both a file and a folder`;
  }
  return null;
}
