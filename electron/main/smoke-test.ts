// `parley --smoke-test`: used by the release workflow on the packaged app under Xvfb. Once the window's
// page has loaded from app://, the UI has mounted and the bridge answers, the app prints one line and
// quits through the normal quit path (so the embedded relay is closed too); anything else exits 1.
export const SMOKE_TEST_FLAG = '--smoke-test';
export const SMOKE_TEST_TIMEOUT_MS = 60_000;
const POLL_MS = 250;

/** Runs in the page: true once Svelte mounted something into #app and window.parley exists. */
export const MOUNTED_PROBE =
  "Boolean(document.querySelector('#app')?.firstElementChild) && typeof window.parley === 'object'";

export interface SmokeTestDeps {
  /** Resolves with the probe's result (webContents.executeJavaScript). */
  probe(): Promise<unknown>;
  /** The page's current URL. */
  url(): string;
  isAppUrl(url: string): boolean;
  /** Called once with the outcome. */
  done(outcome: { ok: true; url: string } | { ok: false; reason: string }): void;
  timeoutMs?: number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export function wantsSmokeTest(argv: readonly string[]): boolean {
  return argv.includes(SMOKE_TEST_FLAG);
}

/**
 * Starts probing after the page loaded. Returns a function to call when the page failed to load or its
 * renderer died, which ends the smoke test with that reason.
 */
export function runSmokeTest(deps: SmokeTestDeps): (reason: string) => void {
  const setTimer = deps.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  const clearTimer = deps.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  let finished = false;
  let poll: unknown;
  const finish = (outcome: Parameters<SmokeTestDeps['done']>[0]): void => {
    if (finished) return;
    finished = true;
    clearTimer(deadline);
    if (poll !== undefined) clearTimer(poll);
    deps.done(outcome);
  };
  const deadline = setTimer(
    () => finish({ ok: false, reason: `the UI did not mount within ${deps.timeoutMs ?? SMOKE_TEST_TIMEOUT_MS} ms` }),
    deps.timeoutMs ?? SMOKE_TEST_TIMEOUT_MS,
  );
  const attempt = (): void => {
    poll = undefined;
    if (finished) return;
    const url = deps.url();
    if (!deps.isAppUrl(url)) {
      finish({ ok: false, reason: `the window shows ${url}, not the app` });
      return;
    }
    deps.probe().then(
      (mounted) => {
        if (mounted === true) finish({ ok: true, url });
        else if (!finished) poll = setTimer(attempt, POLL_MS);
      },
      (e: unknown) => finish({ ok: false, reason: `probe failed: ${e instanceof Error ? e.message : String(e)}` }),
    );
  };
  attempt();
  return (reason) => finish({ ok: false, reason });
}
