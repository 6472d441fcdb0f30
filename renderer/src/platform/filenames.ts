// Names of received files come from peers: untrusted. These helpers make them safe single path
// components for OPFS or a save dialog.

const MAX_NAME = 180;

/** Keeps the last path component, drops control and reserved characters, never returns "", "." or "..". */
export function safeFileName(input: string): string {
  const last = input.split(/[\\/]/).filter(Boolean).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  let name = last.replace(/[\u0000-\u001f\u007f<>:"|?*]/g, '_').trim();
  if (/^\.+$/.test(name)) name = '';
  name = name.replace(/^\.+/, (dots) => '_'.repeat(dots.length));
  if (name === '') name = 'file';
  if (name.length > MAX_NAME) {
    const dot = name.lastIndexOf('.');
    const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
    name = name.slice(0, MAX_NAME - ext.length) + ext;
  }
  return name;
}

/** "a.txt" taken → "a (1).txt", then "a (2).txt", … */
export function uniqueName(name: string, taken: (candidate: string) => boolean, limit = 10_000): string {
  if (!taken(name)) return name;
  const dot = name.lastIndexOf('.');
  const base = dot > 0 ? name.slice(0, dot) : name;
  const ext = dot > 0 ? name.slice(dot) : '';
  for (let i = 1; i <= limit; i++) {
    const candidate = `${base} (${i})${ext}`;
    if (!taken(candidate)) return candidate;
  }
  return `${base} (${Date.now()})${ext}`;
}
