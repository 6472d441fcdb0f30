// The relay's TURN REST credentials: the generator (coturn's use-auth-secret check, recomputed here; the
// integration test tests/integration/call/turn-rest.test.ts proves coturn accepts them), its validation, the
// CLI's options and the wire schema clients validate them with.
import { createHmac } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ReadySchema,
  ServerMessageSchema,
  TurnCredentialsSchema,
  ClientMessageSchema,
  turnUrlProblem,
} from '../../../signaling/protocol/index.js';
import { turnOptions } from '../../../signaling/server/cli.js';
import {
  TurnIssuer,
  TurnRequestBudget,
  TURN_REQUEST_BURST,
  turnCredential,
  turnUserId,
} from '../../../signaling/server/turn-credentials.js';

const SECRET = 'a-shared-secret-of-some-length';
const ID_A = 'A'.repeat(43);
const ID_B = 'B'.repeat(43);

describe('TURN REST credentials', () => {
  it('credential is base64(HMAC-SHA1(secret, username)): RFC 2202 test case 2', () => {
    // key "Jefe", data "what do ya want for nothing?" → effcdf6ae5eb2fa2d27416d5f184df9c259a7c79
    expect(turnCredential('Jefe', 'what do ya want for nothing?')).toBe(
      Buffer.from('effcdf6ae5eb2fa2d27416d5f184df9c259a7c79', 'hex').toString('base64'),
    );
  });

  it('issues "<expiry>:<opaque id>" valid for the ttl, the credential coturn recomputes, for every URL', () => {
    const issuer = new TurnIssuer({
      urls: ['turn:10.0.0.1:3478?transport=udp', 'turns:turn.example.org:5349'],
      secret: SECRET,
      ttlSeconds: 600,
    });
    const now = Date.UTC(2026, 0, 1, 12, 0, 0, 700);
    const c = issuer.issue(ID_A, now);
    const [expiry, opaque] = c.username.split(':');
    expect(Number(expiry)).toBe(Math.floor(now / 1000) + 600);
    expect(c.ttl).toBe(600);
    expect(c.urls).toEqual(['turn:10.0.0.1:3478?transport=udp', 'turns:turn.example.org:5349']);
    expect(c.credential).toBe(createHmac('sha1', SECRET).update(c.username).digest('base64'));
    expect(TurnCredentialsSchema.parse(c)).toEqual(c);
    // The opaque part binds to the identity without naming it: stable per identity, distinct across them,
    // and neither the id nor anything readable of it.
    expect(opaque).toBe(turnUserId(SECRET, ID_A));
    expect(issuer.issue(ID_A, now + 5_000).username.split(':')[1]).toBe(opaque);
    expect(issuer.issue(ID_B, now).username.split(':')[1]).not.toBe(opaque);
    expect(opaque).not.toContain(ID_A.slice(0, 8));
    expect(turnUserId('another-secret-entirely', ID_A)).not.toBe(opaque);
  });

  it('defaults to a one-hour lifetime', () => {
    const c = new TurnIssuer({ urls: ['turn:h:3478'], secret: SECRET }).issue(ID_A, 1_000_000);
    expect(c.ttl).toBe(3600);
    expect(c.username.startsWith(`${1000 + 3600}:`)).toBe(true);
  });

  it('never shows the secret in JSON or util.inspect (what loggers print)', () => {
    const issuer = new TurnIssuer({ urls: ['turn:h:3478'], secret: SECRET });
    expect(JSON.stringify({ turn: issuer })).not.toContain(SECRET);
    expect(inspect(issuer, { depth: 5, showHidden: true })).not.toContain(SECRET);
    expect(JSON.stringify(issuer)).toBe('{"urls":["turn:h:3478"],"ttlSeconds":3600}');
  });

  it('refuses bad settings with a reason', () => {
    const make = (o: Partial<ConstructorParameters<typeof TurnIssuer>[0]>) => () =>
      new TurnIssuer({ urls: ['turn:h:3478'], secret: SECRET, ...o });
    expect(make({ urls: [] })).toThrow(/at least one TURN URL/);
    expect(make({ urls: ['stun:h:3478'] })).toThrow(/"stun:h:3478" is not a TURN URL/);
    expect(make({ urls: ['turn:user:pw@h:3478'] })).toThrow(/not a TURN URL/);
    expect(make({ urls: ['turns:h:5349?transport=udp'] })).toThrow(/transport=udp is not allowed/);
    expect(make({ urls: ['turn:h:70000'] })).toThrow(/out of range/);
    expect(make({ urls: Array.from({ length: 9 }, (_, i) => `turn:h${i}:3478`) })).toThrow(/at most 8/);
    expect(make({ secret: 'short' })).toThrow(/at least 16 characters/);
    expect(make({ secret: `${SECRET}\nsecond line` })).toThrow(/one line/);
    expect(make({ ttlSeconds: 59 })).toThrow(/60 to 86400 seconds, got 59/);
    expect(make({ ttlSeconds: 86_401 })).toThrow(/60 to 86400/);
    expect(make({ ttlSeconds: 1.5 })).toThrow(/lifetime/);
  });

  it('budgets refresh requests per connection: a burst, then none until a minute passes', () => {
    const budget = new TurnRequestBudget();
    const a = {};
    const b = {};
    for (let i = 0; i < TURN_REQUEST_BURST; i++) expect(budget.take(a, 1_000)).toBe(true);
    expect(budget.take(a, 1_000)).toBe(false);
    expect(budget.take(b, 1_000)).toBe(true);
    expect(budget.take(a, 1_000 + 59_000)).toBe(false);
    expect(budget.take(a, 1_000 + 61_000)).toBe(true);
  });
});

describe('TURN URLs and the wire schema', () => {
  it('accepts turn:/turns: URLs as RFC 7065 writes them, nothing else', () => {
    for (const ok of [
      'turn:10.0.0.1',
      'turn:10.0.0.1:3478?transport=udp',
      'turn:turn.example.org:3478?transport=tcp',
      'turns:turn.example.org:5349',
      'turns:turn.example.org:443?transport=tcp',
      'turn:[2001:db8::1]:3478',
    ])
      expect(turnUrlProblem(ok), ok).toBeNull();
    for (const bad of [
      'stun:10.0.0.1:3478',
      'turn://10.0.0.1:3478',
      'turn:10.0.0.1:3478?transport=sctp',
      'turn:10.0.0.1:0',
      'turn:u@10.0.0.1',
      'turn:10.0.0.1:3478?transport=udp&x=1',
      'turns:10.0.0.1?transport=udp',
      'turn:',
    ])
      expect(turnUrlProblem(bad), bad).not.toBeNull();
  });

  it('ready carries turn optionally; a malformed turn makes the ready invalid', () => {
    const limits = { maxControlBytes: 1, maxChannelPayload: 1, maxSubscriptions: 1, maxChannels: 1, heartbeatMs: 1 };
    const turn = new TurnIssuer({ urls: ['turn:h:3478'], secret: SECRET }).issue(ID_A);
    expect(ReadySchema.parse({ type: 'ready', id: ID_A, limits })).not.toHaveProperty('turn');
    expect(ReadySchema.parse({ type: 'ready', id: ID_A, limits, turn }).turn).toEqual(turn);
    const bad = [
      { ...turn, urls: ['stun:h:3478'] },
      { ...turn, urls: [] },
      { ...turn, username: 'no-expiry' },
      { ...turn, username: `1:${'x'.repeat(65)}` },
      { ...turn, credential: 'not base64!' },
      { ...turn, ttl: 0 },
      { ...turn, ttl: 86_401 },
      { ...turn, credential: undefined },
    ];
    for (const t of bad)
      expect(ReadySchema.safeParse({ type: 'ready', id: ID_A, limits, turn: t }).success).toBe(false);
  });

  it('turn-credentials: a request from the client, an answer from the relay', () => {
    expect(ClientMessageSchema.parse({ type: 'turn-credentials', ref: 't1' })).toEqual({
      type: 'turn-credentials',
      ref: 't1',
    });
    const turn = new TurnIssuer({ urls: ['turn:h:3478'], secret: SECRET }).issue(ID_A);
    expect(ServerMessageSchema.parse({ type: 'turn-credentials', ref: 't1', turn })).toMatchObject({ turn });
    expect(ServerMessageSchema.safeParse({ type: 'turn-credentials', ref: 't1' }).success).toBe(false);
  });
});

describe('parley-relay --turn-* options', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-turn-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const fail = (message: string): never => {
    throw new Error(message);
  };
  const secretFile = (content: string): string => {
    const file = join(dir, `secret-${Math.random().toString(36).slice(2)}`);
    writeFileSync(file, content);
    chmodSync(file, 0o600);
    return file;
  };

  it('none of them: no TURN', () => {
    expect(turnOptions([], undefined, undefined, fail)).toBeUndefined();
  });

  it('reads the secret from the file without its final newline', () => {
    const file = secretFile(`${SECRET}\n`);
    expect(turnOptions(['turn:10.0.0.1:3478?transport=udp'], file, 120, fail)).toEqual({
      urls: ['turn:10.0.0.1:3478?transport=udp'],
      secret: SECRET,
      ttlSeconds: 120,
    });
  });

  it('says what is missing or wrong', () => {
    const file = secretFile(SECRET);
    expect(() => turnOptions(['turn:h:3478'], undefined, undefined, fail)).toThrow(
      /--turn-url needs --turn-secret-file/,
    );
    expect(() => turnOptions([], file, undefined, fail)).toThrow(/--turn-secret-file needs at least one --turn-url/);
    expect(() => turnOptions([], undefined, 600, fail)).toThrow(/--turn-ttl needs/);
    expect(() => turnOptions(['turn:h:3478'], join(dir, 'absent'), undefined, fail)).toThrow(/cannot read .*ENOENT/);
    expect(() => turnOptions(['turn:h:3478'], secretFile('short\n'), undefined, fail)).toThrow(
      /--turn: the shared secret must be at least 16/,
    );
    expect(() => turnOptions(['http://h'], file, undefined, fail)).toThrow(/"http:\/\/h" is not a TURN URL/);
    expect(() => turnOptions(['turn:h:3478'], file, 30, fail)).toThrow(/60 to 86400 seconds, got 30/);
  });
});
