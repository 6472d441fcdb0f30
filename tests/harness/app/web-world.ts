// The stage every web-client end-to-end test starts from: a test bed with one host per browser user
// (plus any extra hosts), the relay that serves the built client in a host of its own, and one Chromium
// per user host, launched inside its namespace with the relay's origin treated as secure (plain http on
// a test address is not a secure context; WebCrypto, OPFS and getUserMedia need it). Browsers close with
// the test bed.
import type { Browser } from 'playwright-core';
import type { LaunchChromiumOptions, Testbed } from '../../testbed/index.js';
import { useTestbed } from '../../testbed/vitest.js';
import { afterAll, beforeAll } from 'vitest';
import { buildRenderer, introducedPair, startWebRelay, type AppUser, type WebRelay } from './app.js';

export interface WebWorldOptions<U extends string, E extends string> {
  /** Hosts that each get a Chromium. */
  users: readonly U[];
  /** Hosts without a browser (e.g. one running the `parley` command). */
  others?: readonly E[];
  /** More launch options for every browser; called once, after the relay is up. */
  launch?: () => LaunchChromiumOptions | Promise<LaunchChromiumOptions>;
  /** Open the app for the first two users under these names, as contacts of each other (closed afterwards). */
  pair?: [string, string];
  /** The relay hands out TURN credentials for these URLs (RelayOptions.turn); given the test bed's hosts. */
  relayTurn?: (hosts: Testbed<U | E | 'relay'>['hosts']) => { urls: string[]; secret: string };
  /** The relay sits behind a proxy that alters call media records on request (hostile-web-relay.ts). */
  hostileRelay?: boolean;
}

export interface WebWorld<U extends string, E extends string> {
  bed(): Testbed<U | E | 'relay'>;
  readonly relay: WebRelay;
  browser(user: U): Browser;
  /** The two users of `pair`, once beforeAll made them contacts. */
  pair(): [AppUser, AppUser];
}

export function useWebWorld<const U extends string, const E extends string = never>(
  options: WebWorldOptions<U, E>,
): WebWorld<U, E> {
  const bed = useTestbed<U | E | 'relay'>({
    hosts: [...options.users, ...(options.others ?? []), 'relay'],
    chromium: true,
  });
  let relay: WebRelay | undefined;
  let pair: [AppUser, AppUser] | undefined;
  const browsers = new Map<U, Browser>();

  beforeAll(async () => {
    await buildRenderer();
    const hosts = bed().hosts;
    relay = await startWebRelay(hosts.relay, undefined, options.relayTurn?.(hosts), {
      hostile: options.hostileRelay ?? false,
    });
    const extra = (await options.launch?.()) ?? {};
    const secureOrigins = [new URL(relay.httpUrl).origin, ...(extra.secureOrigins ?? [])];
    const launched = await Promise.all(
      options.users.map((user) => hosts[user].launchChromium({ ...extra, secureOrigins })),
    );
    options.users.forEach((user, i) => browsers.set(user, launched[i]!));
    if (options.pair) pair = await introducedPair(launched[0]!, launched[1]!, relay.httpUrl, options.pair);
  });

  afterAll(async () => {
    if (pair) await Promise.all(pair.map((user) => user.close()));
  });

  return {
    bed,
    get relay(): WebRelay {
      if (!relay) throw new Error('the relay starts in beforeAll');
      return relay;
    },
    browser(user: U): Browser {
      const browser = browsers.get(user);
      if (!browser) throw new Error(`no browser for ${user} yet (launched in beforeAll)`);
      return browser;
    },
    pair(): [AppUser, AppUser] {
      if (!pair) throw new Error('no pair: pass `pair` and use it after beforeAll');
      return pair;
    },
  };
}
