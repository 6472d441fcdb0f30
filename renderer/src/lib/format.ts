// Human-readable sizes, speeds, durations and times. Pure functions: unit-tested in tests/unit/renderer.

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'] as const;

/** 1536 → "1.5 KB". Decimal-free for bytes, one decimal below 10 of a unit, none above. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  const digits = value < 10 ? 1 : 0;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** Bytes per second → "12 MB/s". */
export function formatSpeed(bytesPerSecond: number): string {
  if (!Number.isFinite(bytesPerSecond) || bytesPerSecond < 0) return '—';
  return `${formatBytes(bytesPerSecond)}/s`;
}

/**
 * Remaining time as "1:05:09", "4:05" or "0:09". Unknown (no speed yet, or over 99 hours) → null,
 * so the caller shows a localized "calculating" instead of a made-up figure.
 */
export function formatEta(remainingBytes: number, bytesPerSecond: number): string | null {
  if (!(bytesPerSecond > 0) || !Number.isFinite(remainingBytes) || remainingBytes < 0) return null;
  const seconds = Math.ceil(remainingBytes / bytesPerSecond);
  if (seconds > 99 * 3600) return null;
  return formatDuration(seconds * 1000);
}

/** Milliseconds → "m:ss" or "h:mm:ss" (call timer, ETA). */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Bits per second → "1.2 Mbps" (network rates are decimal, in bits). */
export function formatBitrate(bitsPerSecond: number): string {
  if (!Number.isFinite(bitsPerSecond) || bitsPerSecond < 0) return '—';
  if (bitsPerSecond >= 1e6) return `${(bitsPerSecond / 1e6).toFixed(1)} Mbps`;
  if (bitsPerSecond >= 1e3) return `${Math.round(bitsPerSecond / 1e3)} kbps`;
  return `${Math.round(bitsPerSecond)} bps`;
}

/** The largest |time value| a Date holds (±100,000,000 days from 1970). */
const MAX_TIME = 8.64e15;

/** A time that Date and Intl can format, or null: a stored stamp may come from a broken or hostile clock. */
export function validTime(at: number): number | null {
  return typeof at === 'number' && Number.isFinite(at) && Math.abs(at) <= MAX_TIME ? at : null;
}

/** Formats with Intl, or "—" for a time no Date can hold. Never throws. */
function formatWith(at: number, locale: string, options: Intl.DateTimeFormatOptions): string {
  const time = validTime(at);
  if (time === null) return '—';
  try {
    return new Intl.DateTimeFormat(locale, options).format(time);
  } catch {
    return new Date(time).toISOString();
  }
}

/** For a <time datetime> attribute: the ISO form, or '' when the time is not one. */
export function isoTime(at: number): string {
  const time = validTime(at);
  return time === null ? '' : new Date(time).toISOString();
}

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** Time of a message: "14:05". */
export function formatClock(at: number, locale: string): string {
  return formatWith(at, locale, { hour: 'numeric', minute: '2-digit' });
}

/** Contact-list stamp: the time today, the weekday within a week, else the date. */
export function formatListStamp(at: number, now: number, locale: string): string {
  if (validTime(at) === null) return '—';
  if (isSameDay(at, now)) return formatClock(at, locale);
  if (now - at < 6 * 24 * 3600 * 1000 && at <= now) return formatWith(at, locale, { weekday: 'short' });
  return formatWith(at, locale, { year: '2-digit', month: 'numeric', day: 'numeric' });
}

/** Day separator in a conversation: "Monday, 3 March 2025" style, localized. */
export function formatDay(at: number, locale: string): string {
  return formatWith(at, locale, { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });
}

/** Full timestamp for tooltips. */
export function formatFull(at: number, locale: string): string {
  return formatWith(at, locale, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** Same local day; false when either time is not one. */
export function isSameDay(a: number, b: number): boolean {
  if (validTime(a) === null || validTime(b) === null) return false;
  return sameDay(new Date(a), new Date(b));
}

/** Up to two initials for an avatar ("Ada Lovelace" → "AL", "李雷" → "李"). */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return '?';
  const first = Array.from(words[0]!)[0] ?? '?';
  if (words.length === 1) return first.toUpperCase();
  const last = Array.from(words[words.length - 1]!)[0] ?? '';
  return (first + last).toUpperCase();
}

/** A stable hue (0–359) from an id, so each contact keeps their avatar colour. */
export function hueOf(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return h % 360;
}
