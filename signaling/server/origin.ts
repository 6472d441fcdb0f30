// Which web pages may open a WebSocket to this relay. Browsers always send Origin on a WebSocket upgrade and a
// page cannot forge it, so refusing unknown Origins keeps any site the user visits from using the relay
// (above all the desktop app's loopback relay) as a presence oracle or from exhausting its connections.
// Native clients (the CLI, Node) send no Origin and are not concerned.
import { APP_ORIGIN } from '../web-policy/index.js';
import { splitHost, statementHosts, type ArrivalAddress } from './auth.js';

export interface OriginPolicy {
  /** Exact origins accepted (the desktop app's, plus configured ones), lowercase. */
  readonly allowed: ReadonlySet<string>;
  /** Accept the web client this relay serves: an http(s) Origin naming the Host the request came to. */
  readonly sameOrigin: boolean;
  readonly acceptHosts: readonly string[];
}

export function originPolicy(
  allowOrigins: readonly string[],
  servesWebClient: boolean,
  acceptHosts: readonly string[],
): OriginPolicy {
  return { allowed: new Set([APP_ORIGIN, ...allowOrigins]), sameOrigin: servesWebClient, acceptHosts };
}

/** True when an upgrade with this Origin header may proceed. */
export function originAllowed(origin: string | undefined, arrival: ArrivalAddress, policy: OriginPolicy): boolean {
  if (origin === undefined) return true;
  const o = origin.trim().toLowerCase();
  if (policy.allowed.has(o)) return true;
  if (!policy.sameOrigin) return false;
  let url: URL;
  try {
    url = new URL(o);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  if (`${url.protocol}//${url.host}` !== o) return false;
  const host = arrival.hostHeader?.trim().toLowerCase();
  if (!host || !sameHost(url, host)) return false;
  // The Host must be a name of this relay (its address, or an --accept-host): otherwise a page on a name the
  // attacker controls, rebound by DNS to this relay's address, would pass as "same origin".
  return statementHosts(arrival, policy.acceptHosts).includes(host);
}

function sameHost(origin: URL, hostHeader: string): boolean {
  const parsed = splitHost(hostHeader);
  if (parsed === null) return false;
  const defaultPort = origin.protocol === 'https:' ? 443 : 80;
  const originPort = origin.port === '' ? defaultPort : Number(origin.port);
  const hostname = hostHeader.startsWith('[') ? `[${parsed.hostname}]` : parsed.hostname;
  return origin.hostname === hostname && originPort === (parsed.port ?? defaultPort);
}
