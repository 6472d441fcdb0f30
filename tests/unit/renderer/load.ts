// The renderer is type-checked by svelte-check (renderer/tsconfig.json), not by `tsc -b`: importing
// its sources statically would pull them into the tests project (TS6307). Tests load them at run
// time through Vite's transform instead and describe the slice they use with local types.
const RENDERER_SRC = new URL('../../../renderer/src/', import.meta.url);

export async function loadRenderer<T>(path: string): Promise<T> {
  return (await import(/* @vite-ignore */ new URL(path, RENDERER_SRC).href)) as T;
}

export const rendererSrc = RENDERER_SRC;
