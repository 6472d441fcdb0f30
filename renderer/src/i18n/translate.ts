// Message lookup with {placeholder} interpolation. Pure: the reactive wrapper is in index.svelte.ts.

export type Params = Record<string, string | number>;

/** Replaces {name} with params.name; an unknown placeholder stays visible so a mistake is noticed. */
export function interpolate(template: string, params?: Params): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

/** The placeholder names a message uses, sorted (the completeness test compares them across languages). */
export function placeholders(template: string): string[] {
  return [...new Set([...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!))].sort();
}
