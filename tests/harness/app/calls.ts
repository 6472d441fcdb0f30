// Calls through the web client's UI, as the e2e call tests place them: the caller clicks "Video call" in the
// open chat, the callee sees "<caller> is calling" and accepts with video.
import type { Locator } from 'playwright-core';
import type { AppUser } from './app.js';

/** The call view a user has open with `peerName`. */
export function callDialog(user: AppUser, peerName: string): Locator {
  return user.page.getByRole('dialog', { name: `Call with ${peerName}` });
}

export interface PlacedCall {
  atCaller: Locator;
  atCallee: Locator;
}

/**
 * `caller` video-calls `callee` (its chat with the callee open) and the callee accepts with video. `ringing`
 * runs while the incoming call is shown (e.g. a screenshot). With `active` (default), resolves once both
 * call views say active; without, right after the accept click.
 */
export async function placeVideoCall(
  caller: AppUser,
  callee: AppUser,
  opts: { ringing?: () => Promise<unknown>; active?: boolean } = {},
): Promise<PlacedCall> {
  await caller.page.getByRole('button', { name: `Video call with ${callee.name}` }).click();
  const incoming = callee.page.getByRole('dialog', { name: `${caller.name} is calling` });
  await incoming.waitFor({ timeout: 30_000 });
  await opts.ringing?.();
  await incoming.getByRole('button', { name: 'Accept with video' }).click();
  const call = { atCaller: callDialog(caller, callee.name), atCallee: callDialog(callee, caller.name) };
  if (opts.active !== false)
    await Promise.all([
      call.atCaller.and(caller.page.locator('[data-phase="active"]')).waitFor({ timeout: 30_000 }),
      call.atCallee.and(callee.page.locator('[data-phase="active"]')).waitFor({ timeout: 30_000 }),
    ]);
  return call;
}

/**
 * After a failed test: hangs up a call still open between two users, so the next test (or the retry) starts
 * clean. With `waitClosed`, also waits (bounded) for both call views to close.
 */
export async function hangUpLeftoverCall(a: AppUser, b: AppUser, opts: { waitClosed?: boolean } = {}): Promise<void> {
  for (const [user, peer] of [
    [a, b.name],
    [b, a.name],
  ] as const) {
    const hangUp = callDialog(user, peer).getByTestId('hang-up');
    if (await hangUp.isVisible()) await hangUp.click().catch(() => undefined);
    if (opts.waitClosed) {
      await callDialog(user, peer)
        .waitFor({ state: 'hidden', timeout: 20_000 })
        .catch(() => undefined);
    }
  }
}
