// File names that come from a peer (the suggested name of an incoming file) before they touch the disk:
// only a final path component survives, without separators, control or reserved characters, Windows
// device names or trailing dots, and short enough for every file system.

const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\..*)?$/i;
/** Bytes of UTF-8; ext4/NTFS/APFS allow 255, leave room for " (999)" and ".parley-partial". */
export const MAX_NAME_BYTES = 200;
export const FALLBACK_NAME = 'download';

export function sanitizeFileName(input: string): string {
  // Last path component under both separators: "a/b\\c.txt" -> "c.txt".
  let name = input.split(/[\\/]/).pop() ?? '';
  name = name.normalize('NFC');
  // eslint-disable-next-line no-control-regex
  name = name.replace(/[\u0000-\u001f\u007f-\u009f<>:"|?*\u202a-\u202e\u2066-\u2069\u200e\u200f]/g, '_');
  name = name.trim().replace(/[. ]+$/, '');
  // Leading dots would hide the file (and "." / ".." must never be a name).
  name = name.replace(/^\.+/, '');
  if (name === '' || WINDOWS_DEVICE.test(name)) name = name === '' ? FALLBACK_NAME : `_${name}`;
  return truncateUtf8(name, MAX_NAME_BYTES);
}

/** Truncates to a byte budget, keeping the extension and never splitting a character. */
export function truncateUtf8(name: string, maxBytes: number): string {
  const enc = new TextEncoder();
  if (enc.encode(name).length <= maxBytes) return name;
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
  const stem = ext ? name.slice(0, dot) : name;
  const budget = maxBytes - enc.encode(ext).length;
  let out = '';
  let used = 0;
  for (const ch of stem) {
    const n = enc.encode(ch).length;
    if (used + n > budget) break;
    out += ch;
    used += n;
  }
  return (out || FALLBACK_NAME.slice(0, Math.max(1, budget))) + ext;
}

/** "name.ext" -> "name (n).ext"; n = 0 gives the name unchanged. */
export function numberedName(name: string, n: number): string {
  if (n === 0) return name;
  const dot = name.lastIndexOf('.');
  return dot > 0 ? `${name.slice(0, dot)} (${n})${name.slice(dot)}` : `${name} (${n})`;
}
