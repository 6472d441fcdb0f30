// SIGINT/SIGTERM as an AbortSignal: long-running commands close gracefully on the first signal; a
// second one exits at once (the user insists, e.g. a close that hangs on a dead network).
export interface Shutdown {
  readonly signal: AbortSignal;
  /** Resolves with the signal name once SIGINT or SIGTERM arrives. */
  readonly requested: Promise<string>;
  dispose(): void;
}

export function watchShutdown(): Shutdown {
  const controller = new AbortController();
  let resolveRequested!: (name: string) => void;
  const requested = new Promise<string>((resolve) => (resolveRequested = resolve));
  const handler = (name: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort(new Error(`interrupted (${name})`));
    resolveRequested(name);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    requested,
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
