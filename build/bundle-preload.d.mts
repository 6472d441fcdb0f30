export declare const PRELOAD_ENTRY: string;
export declare const PRELOAD_OUT_DIR: string;
export declare const PRELOAD_FILE: string;
/** Bundles the preload into one CommonJS file in outDir (default dist/electron/preload); returns its path. */
export declare function bundlePreload(outDir?: string): Promise<string>;
