// Unique names in a folder. Names that come from peers are validated, never cleaned, by the one
// checker core/src/transfer/names.ts before they reach a sink.

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
