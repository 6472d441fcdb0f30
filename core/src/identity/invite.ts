// Invites: `parley://invite?v=1&alg=Ed25519&pub=<b64url>&name=<pct>&relay=<pct>&relay=...`
// A link that names a public key, a display name and up to four relays where the person can be reached.
// Values are percent-encoded strictly (everything but A-Z a-z 0-9 - _), so a link contains no character
// a chat client would treat as the end of a URL or as sentence punctuation.
import { z } from 'zod';
import {
  KEY_ALGORITHMS,
  fromBase64url,
  identityIdOf,
  importPublicKey,
  rawPublicKey,
  type PublicIdentityKey,
} from '../../../signaling/protocol/index.js';
import { checkDisplayName, checkRelayList, MAX_RELAYS } from './profile.js';

export const INVITE_VERSION = 1;
export const MAX_INVITE_CHARS = 2048;
/** Pasted text above this is refused before any parsing work. */
const MAX_INPUT_CHARS = 16 * 1024;

export type InviteErrorCode = 'not-an-invite' | 'too-long' | 'version' | 'malformed' | 'key' | 'name' | 'relay';

/** A refused invite; `message` is written for the person who pasted it. */
export class InviteError extends Error {
  override readonly name = 'InviteError';
  constructor(
    readonly code: InviteErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface Invite {
  v: typeof INVITE_VERSION;
  key: PublicIdentityKey;
  /** identityIdOf(key). */
  id: string;
  /** Trimmed display name; may be empty. */
  name: string;
  /** ws:// or wss:// URLs, de-duplicated, at most four; may be empty. */
  relays: string[];
}

export interface InviteSource {
  publicKey: PublicIdentityKey;
  name: string;
  relays: readonly string[];
}

function encodeValue(value: string): string {
  return encodeURIComponent(value).replace(/[.!~*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Builds the invite link for an identity; throws InviteError if the name or relays could not be parsed back. */
export function createInvite(identity: InviteSource): string {
  const name = checkDisplayName(identity.name);
  if (!name.ok) throw new InviteError('name', name.error);
  const relays = checkRelayList(identity.relays);
  if (!relays.ok) throw new InviteError('relay', relays.error);
  try {
    rawPublicKey(identity.publicKey);
  } catch (error) {
    throw new InviteError('key', `The identity key is invalid: ${(error as Error).message}.`);
  }
  const params = [
    `v=${INVITE_VERSION}`,
    `alg=${encodeValue(identity.publicKey.alg)}`,
    `pub=${identity.publicKey.pub}`,
    `name=${encodeValue(name.value)}`,
  ];
  for (const relay of relays.value) params.push(`relay=${encodeValue(relay)}`);
  const link = `parley://invite?${params.join('&')}`;
  if (link.length > MAX_INVITE_CHARS)
    throw new InviteError(
      'too-long',
      `The invite would be ${link.length} characters; at most ${MAX_INVITE_CHARS}. Use shorter relay addresses.`,
    );
  return link;
}

const WRAPPERS: Record<string, string> = {
  '<': '>',
  '"': '"',
  "'": "'",
  '`': '`',
  '(': ')',
  '[': ']',
  '“': '”',
  '«': '»',
};

const INVISIBLE_BREAKS = /[\s\u200B\u00AD\u2060\uFEFF]+/g;
/** Sentence punctuation right after a pasted link; our links never end in these characters. */
const TRAILING_PUNCTUATION = /[.,;:!?]+$/;

/**
 * Recovers the link from pasted text: surrounding whitespace, <…>/quotes, line breaks that chat and
 * mail clients insert, or a whole message with the link somewhere inside ("add me: parley://…").
 */
function extractLink(text: string): string {
  let s = text.trim();
  for (let i = 0; i < 4 && s.length >= 2; i++) {
    const close = WRAPPERS[s[0]!];
    if (close === undefined || !s.endsWith(close)) break;
    s = s.slice(1, -1).trim();
  }
  // Whitespace and invisible break hints never occur in a link we create (everything is percent-encoded).
  const joined = s.replace(INVISIBLE_BREAKS, '').replace(TRAILING_PUNCTUATION, '');
  if (/^parley:/i.test(joined)) return joined;
  const embedded = /parley:[^\s<>"'`“”«»]+/i.exec(text);
  return embedded ? embedded[0].replace(TRAILING_PUNCTUATION, '') : joined;
}

const PREFIX = /^parley:(?:\/\/)?invite\/?\?/i;

const FieldsSchema = z.object({
  alg: z.enum(KEY_ALGORITHMS, { error: 'The key type is not one Parley knows (expected Ed25519 or P-256).' }),
  pub: z.string({ error: 'The invite has no public key.' }).min(1, 'The invite has no public key.'),
  name: z.string().default(''),
  relay: z.array(z.string()).max(MAX_RELAYS, `The invite lists too many relays (at most ${MAX_RELAYS}).`).default([]),
});

const CODE_OF_FIELD: Record<string, InviteErrorCode> = { alg: 'key', pub: 'key', name: 'name', relay: 'relay' };

function splitParams(query: string): Map<string, string[]> {
  const params = new Map<string, string[]>();
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0)
      throw new InviteError(
        'malformed',
        'The invite link is damaged (a parameter has no value). Ask for a new invite.',
      );
    const key = part.slice(0, eq).toLowerCase();
    let value: string;
    try {
      value = decodeURIComponent(part.slice(eq + 1));
    } catch {
      throw new InviteError('malformed', 'The invite link is damaged (bad %-encoding). Ask for a new invite.');
    }
    const list = params.get(key);
    if (list) list.push(value);
    else params.set(key, [value]);
  }
  return params;
}

function single(params: Map<string, string[]>, key: string): string | undefined {
  const values = params.get(key);
  if (values && values.length > 1)
    throw new InviteError('malformed', `The invite link is ambiguous (it has "${key}" more than once).`);
  return values?.[0];
}

/**
 * Parses and validates pasted text or a deep link. Unknown parameters are ignored (room for optional
 * additions within version 1); repeated single-valued parameters are refused.
 */
export async function parseInvite(text: string): Promise<Invite> {
  if (typeof text !== 'string' || text.trim() === '')
    throw new InviteError('not-an-invite', 'Paste a Parley invite (it starts with parley://).');
  if (text.length > MAX_INPUT_CHARS)
    throw new InviteError('too-long', `The invite is too long (at most ${MAX_INVITE_CHARS} characters).`);
  const link = extractLink(text);
  if (!/^parley:/i.test(link))
    throw new InviteError('not-an-invite', 'This is not a Parley invite (it should start with parley://).');
  if (link.length > MAX_INVITE_CHARS)
    throw new InviteError(
      'too-long',
      `The invite is too long (${link.length} characters; at most ${MAX_INVITE_CHARS}).`,
    );
  const prefix = PREFIX.exec(link);
  if (!prefix)
    throw new InviteError('not-an-invite', 'This parley: link is not an invite (expected parley://invite?...).');
  const params = splitParams(link.slice(prefix[0].length));

  const v = single(params, 'v');
  if (v === undefined)
    throw new InviteError('malformed', 'The invite link is damaged (no version). Ask for a new invite.');
  if (v !== String(INVITE_VERSION)) {
    if (/^[1-9]\d{0,5}$/.test(v) && Number(v) > INVITE_VERSION) {
      throw new InviteError(
        'version',
        `This invite was made by a newer version of Parley (invite version ${v}). Update Parley to use it.`,
      );
    }
    throw new InviteError('version', `Unknown invite version "${v.slice(0, 16)}".`);
  }

  const parsed = FieldsSchema.safeParse({
    alg: single(params, 'alg'),
    pub: single(params, 'pub'),
    name: single(params, 'name'),
    relay: params.get('relay'),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = String(issue.path[0] ?? '');
    throw new InviteError(CODE_OF_FIELD[field] ?? 'malformed', issue.message);
  }
  const fields = parsed.data;

  const key: PublicIdentityKey = { alg: fields.alg, pub: fields.pub };
  try {
    fromBase64url(key.pub);
  } catch {
    throw new InviteError('key', 'The public key in the invite is damaged (not base64url). Ask for a new invite.');
  }
  try {
    rawPublicKey(key);
    await importPublicKey(key);
  } catch (error) {
    throw new InviteError('key', `The public key in the invite is invalid: ${(error as Error).message}.`);
  }

  const name = checkDisplayName(fields.name);
  if (!name.ok) throw new InviteError('name', name.error);
  const relays = checkRelayList(fields.relay);
  if (!relays.ok) throw new InviteError('relay', relays.error);

  return { v: INVITE_VERSION, key, id: await identityIdOf(key), name: name.value, relays: relays.value };
}
