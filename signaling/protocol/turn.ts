// TURN credentials a relay hands its authenticated clients (the TURN REST scheme, coturn's use-auth-secret):
// username "<expiry unix seconds>:<opaque id>", credential base64(HMAC-SHA1(shared secret, username)).
// The relay generates them (signaling/server/turn-credentials.ts); clients use them for calls until they expire.
import { z } from 'zod';

/** TURN URLs one relay may announce. */
export const MAX_TURN_URLS = 8;
/** Credential lifetimes a relay may hand out, in seconds (a minute to a day). */
export const MIN_TURN_TTL_SECONDS = 60;
export const MAX_TURN_TTL_SECONDS = 86_400;

// RFC 7065: turn:host[:port][?transport=udp|tcp], turns: over TLS. Hosts: a DNS name, IPv4 or [IPv6].
const TURN_URL =
  /^(turns?):(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}))(?::(\d{1,5}))?(?:\?transport=(udp|tcp))?$/;

/** Why `url` is not a TURN URL a client may use, or null when it is one. */
export function turnUrlProblem(url: string): string | null {
  const m = TURN_URL.exec(url);
  if (!m) return 'expected turn:HOST[:PORT][?transport=udp|tcp] or turns:HOST[:PORT][?transport=tcp]';
  const [, scheme, , port, transport] = m;
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65_535)) return `port ${port} is out of range`;
  if (scheme === 'turns' && transport === 'udp') return 'turns: runs over TLS (TCP): transport=udp is not allowed';
  return null;
}

const TurnUrlSchema = z
  .string()
  .max(300)
  .refine((u) => turnUrlProblem(u) === null, 'must be a turn: or turns: URL');

/** What the relay hands out: one username and credential for all of its TURN URLs. */
export const TurnCredentialsSchema = z.object({
  urls: z.array(TurnUrlSchema).min(1).max(MAX_TURN_URLS),
  /** "<expiry unix seconds>:<opaque id>" */
  username: z
    .string()
    .max(128)
    .regex(/^\d{1,12}:[A-Za-z0-9_-]{1,64}$/),
  /** base64 of an HMAC-SHA1 (20 bytes). */
  credential: z
    .string()
    .max(64)
    .regex(/^[A-Za-z0-9+/]+=*$/),
  /**
   * Seconds they stay valid from when the message was sent: clients count from their own clock (the relay's
   * and the client's clocks need not agree; the username's expiry is for the TURN server).
   */
  ttl: z.number().int().min(1).max(MAX_TURN_TTL_SECONDS),
});
export type TurnCredentials = z.infer<typeof TurnCredentialsSchema>;
