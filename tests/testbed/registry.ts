// Last-resort teardown: every live test bed registers here and is torn down synchronously when the process
// exits or is told to stop (SIGINT/SIGTERM/SIGHUP), even if a test never reached its afterAll.
export interface SyncDestroyable {
  destroySync(): void;
}

const live = new Set<SyncDestroyable>();
let installed = false;

function destroyAll(): void {
  for (const tb of [...live]) {
    live.delete(tb);
    tb.destroySync();
  }
}

function onSignal(signal: NodeJS.Signals): void {
  destroyAll();
  // If nobody else handles the signal, restore the default action and re-raise it, so the process still dies
  // of it as it would have without the test bed.
  if (process.listenerCount(signal) <= 1) {
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  }
}

export function register(tb: SyncDestroyable): void {
  live.add(tb);
  if (installed) return;
  installed = true;
  process.on('exit', destroyAll);
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal);
}

export function unregister(tb: SyncDestroyable): void {
  live.delete(tb);
}
