// Loaded with `node --import` into a `parley` command to make it a hostile contact: every chat message it
// writes carries `sentAt: 1e16` (past the largest JavaScript Date), as a modified client could send.
// Only chat frames ({ t: 'msg', ... }) are rewritten, so the command itself (relay auth, its own
// store) works as usual.
const stringify = JSON.stringify;
JSON.stringify = function (value: unknown, ...rest: unknown[]): string {
  if (value && typeof value === 'object' && (value as { t?: unknown }).t === 'msg' && 'sentAt' in value) {
    value = { ...(value as object), sentAt: 1e16 };
  }
  return (stringify as (v: unknown, ...r: unknown[]) => string)(value, ...rest);
} as typeof JSON.stringify;
