// Authentication: challenge, hello, auth, ready — and every way it must fail.
import { describe, expect, it } from 'vitest';
import {
  ChallengeSchema,
  CloseCode,
  ErrorCode,
  NONCE_BYTES,
  PROTOCOL_VERSION,
  fromBase64url,
  toBase64url,
} from '../../../signaling/protocol/index.js';
import { RawClient, connectAs, createIdentity, signAuth } from '../../helpers/relay/raw-client.js';
import { relayFixture } from '../../helpers/relay/test-relay.js';

const fixture = relayFixture();

describe('relay handshake', () => {
  it('sends a fresh challenge and authenticates a valid signature (Ed25519 and P-256)', async () => {
    const relay = await fixture.start();
    for (const alg of ['Ed25519', 'P-256'] as const) {
      const identity = await createIdentity(alg);
      const client = fixture.track(await RawClient.open(relay.url));
      const challenge = await client.next('challenge');
      expect(ChallengeSchema.parse(challenge).v).toBe(PROTOCOL_VERSION);
      expect(fromBase64url(challenge.nonce)).toHaveLength(NONCE_BYTES);
      client.send({ type: 'hello', v: PROTOCOL_VERSION, alg, pub: identity.pub });
      client.send({ type: 'auth', sig: await signAuth(identity, challenge.nonce, client.statementHost) });
      const ready = await client.next('ready');
      expect(ready.id).toBe(identity.id);
      expect(ready.limits.maxControlBytes).toBeGreaterThan(0);
      client.send({ type: 'ping', ref: 'p1' });
      expect(await client.next('pong')).toEqual({ type: 'pong', ref: 'p1' });
      expect(client.invalid).toEqual([]);
    }
    expect(relay.stats().authenticated).toBe(2);
  });

  it('gives every connection a different nonce', async () => {
    const relay = await fixture.start();
    const a = fixture.track(await RawClient.open(relay.url));
    const b = fixture.track(await RawClient.open(relay.url));
    expect((await a.next('challenge')).nonce).not.toBe((await b.next('challenge')).nonce);
  });

  it('refuses a wrong signature with auth-failed and close code AuthFailed', async () => {
    const relay = await fixture.start();
    const identity = await createIdentity();
    const client = fixture.track(await RawClient.open(relay.url));
    const { nonce } = await client.next('challenge');
    client.send({ type: 'hello', v: PROTOCOL_VERSION, alg: identity.alg, pub: identity.pub });
    // Signed over another nonce: a valid signature, just not for this challenge.
    const otherNonce = nonce.slice(0, -2) + (nonce.endsWith('AA') ? 'AQ' : 'AA');
    client.send({ type: 'auth', sig: await signAuth(identity, otherNonce, client.statementHost) });
    const error = await client.nextError();
    expect(error.code).toBe(ErrorCode.AuthFailed);
    expect((await client.closed).code).toBe(CloseCode.AuthFailed);
    expect(relay.stats().authFailures).toBe(1);
  });

  it('refuses a signature over another host than the one connected to', async () => {
    const relay = await fixture.start();
    const identity = await createIdentity();
    const client = fixture.track(await RawClient.open(relay.url));
    await expect(client.authenticate(identity, 'evil.example:443')).rejects.toThrow(/closed|ready/);
    expect(client.received.find((m) => m.type === 'error')).toMatchObject({ code: ErrorCode.AuthFailed });
    expect((await client.closed).code).toBe(CloseCode.AuthFailed);
  });

  it('accepts a host listed in acceptHosts, and "localhost" on a loopback address', async () => {
    const relay = await fixture.start({ acceptHosts: ['Relay.Example.org:443'] });
    const viaName = fixture.track(await RawClient.open(relay.url));
    const identity = await createIdentity();
    expect((await viaName.authenticate(identity, 'relay.example.org:443')).id).toBe(identity.id);
    const viaLocalhost = fixture.track(await RawClient.open(`ws://localhost:${relay.port}/ws`));
    expect((await viaLocalhost.authenticate(await createIdentity())).type).toBe('ready');
  });

  it('refuses a different protocol version with error version and close code Version', async () => {
    const relay = await fixture.start();
    const identity = await createIdentity();
    const client = fixture.track(await RawClient.open(relay.url));
    await client.next('challenge');
    client.send({ type: 'hello', v: PROTOCOL_VERSION + 1, alg: identity.alg, pub: identity.pub });
    const error = await client.nextError();
    expect(error.code).toBe(ErrorCode.Version);
    expect(error.message).toContain(String(PROTOCOL_VERSION));
    expect((await client.closed).code).toBe(CloseCode.Version);
  });

  it('refuses a signature replayed from an earlier connection', async () => {
    const relay = await fixture.start();
    const identity = await createIdentity();
    // The honest first connection, whose auth message an eavesdropper records.
    const first = fixture.track(await RawClient.open(relay.url));
    const { nonce } = await first.next('challenge');
    const sig = await signAuth(identity, nonce, first.statementHost);
    first.send({ type: 'hello', v: PROTOCOL_VERSION, alg: identity.alg, pub: identity.pub });
    first.send({ type: 'auth', sig });
    await first.next('ready');
    await first.close();

    const replay = fixture.track(await RawClient.open(relay.url));
    await replay.next('challenge');
    replay.send({ type: 'hello', v: PROTOCOL_VERSION, alg: identity.alg, pub: identity.pub });
    replay.send({ type: 'auth', sig });
    expect((await replay.nextError()).code).toBe(ErrorCode.AuthFailed);
    expect((await replay.closed).code).toBe(CloseCode.AuthFailed);
  });

  it('allows one auth attempt per nonce', async () => {
    const relay = await fixture.start();
    const identity = await createIdentity();
    const client = fixture.track(await RawClient.open(relay.url));
    const { nonce } = await client.next('challenge');
    client.send({ type: 'hello', v: PROTOCOL_VERSION, alg: identity.alg, pub: identity.pub });
    client.send({ type: 'auth', sig: await signAuth(identity, 'AAAA', client.statementHost) });
    client.send({ type: 'auth', sig: await signAuth(identity, nonce, client.statementHost) });
    expect((await client.nextError()).code).toBe(ErrorCode.AuthFailed);
    expect((await client.closed).code).toBe(CloseCode.AuthFailed);
    expect(client.received.some((m) => m.type === 'ready')).toBe(false);
  });

  it("refuses a claim of someone else's key", async () => {
    const relay = await fixture.start();
    const victim = await createIdentity();
    const mallory = await createIdentity();
    const client = fixture.track(await RawClient.open(relay.url));
    const { nonce } = await client.next('challenge');
    client.send({ type: 'hello', v: PROTOCOL_VERSION, alg: victim.alg, pub: victim.pub });
    // Mallory can only sign with her own key, whatever id she puts in the statement.
    client.send({ type: 'auth', sig: await signAuth({ ...mallory, id: victim.id }, nonce, client.statementHost) });
    expect((await client.nextError()).code).toBe(ErrorCode.AuthFailed);
    expect((await client.closed).code).toBe(CloseCode.AuthFailed);
    expect(relay.stats().identities).toBe(0);
  });

  it('closes with AuthTimeout when no auth arrives in time', async () => {
    const relay = await fixture.start({ limits: { authTimeoutMs: 300 } });
    const client = fixture.track(await RawClient.open(relay.url));
    await client.next('challenge');
    const error = await client.nextError(5_000);
    expect(error.code).toBe(ErrorCode.AuthTimeout);
    expect((await client.closed).code).toBe(CloseCode.AuthTimeout);
  });

  it('answers anything but hello/auth before ready with not-authenticated', async () => {
    const relay = await fixture.start();
    const client = fixture.track(await RawClient.open(relay.url));
    await client.next('challenge');
    const target = (await createIdentity()).id;
    client.send({ type: 'signal', to: target, data: { x: 1 }, ref: 'r1' });
    expect(await client.nextError()).toMatchObject({ code: ErrorCode.NotAuthenticated });
    client.send({ type: 'unsubscribe', ids: [target] });
    expect((await client.nextError()).code).toBe(ErrorCode.NotAuthenticated);
    client.sendRaw(Buffer.from([0, 0, 0, 1, 42]));
    expect((await client.nextError()).code).toBe(ErrorCode.NotAuthenticated);
    client.send({ type: 'auth', sig: 'A'.repeat(86) });
    expect(await client.nextError()).toMatchObject({
      code: ErrorCode.BadMessage,
      message: expect.stringContaining('hello'),
    });
    expect(client.received.some((m) => m.type === 'signal' || m.type === 'presence')).toBe(false);
  });

  it('processes messages pipelined right after auth once ready', async () => {
    const relay = await fixture.start();
    const identity = await createIdentity();
    const client = fixture.track(await RawClient.open(relay.url));
    const { nonce } = await client.next('challenge');
    const sig = await signAuth(identity, nonce, client.statementHost);
    client.send({ type: 'hello', v: PROTOCOL_VERSION, alg: identity.alg, pub: identity.pub });
    client.send({ type: 'auth', sig });
    client.send({ type: 'ping', ref: 'after-auth' });
    await client.next('ready');
    expect(await client.next('pong')).toEqual({ type: 'pong', ref: 'after-auth' });
    expect(client.received.map((m) => m.type)).toEqual(['challenge', 'ready', 'pong']);
  });

  it('rejects a malformed public key in hello with a clear bad-message', async () => {
    const relay = await fixture.start();
    const client = fixture.track(await RawClient.open(relay.url));
    await client.next('challenge');
    client.send({ type: 'hello', v: PROTOCOL_VERSION, alg: 'Ed25519', pub: 'A'.repeat(60) });
    const error = await client.nextError();
    expect(error.code).toBe(ErrorCode.BadMessage);
    expect(error.message).toMatch(/32 bytes/);
  });

  it('refuses small-order and non-canonical Ed25519 keys, so the R = identity, S = 0 forgery signs in nobody', async () => {
    const relay = await fixture.start();
    // The identity point as public key; R = identity, S = 0 verifies for every message under it.
    const identityPoint = toBase64url(Buffer.from('01'.padEnd(64, '0'), 'hex'));
    const forged = new Uint8Array(64);
    forged[0] = 1;
    const client = fixture.track(await RawClient.open(relay.url));
    await client.next('challenge');
    client.send({ type: 'hello', v: PROTOCOL_VERSION, alg: 'Ed25519', pub: identityPoint });
    client.send({ type: 'auth', sig: toBase64url(forged) });
    client.send({ type: 'ping', ref: 'after' });
    const refused = await client.nextError();
    expect(refused.code).toBe(ErrorCode.BadMessage);
    expect(refused.message).toMatch(/small-order/);
    expect((await client.nextError()).message).toMatch(/send hello first/);
    expect((await client.nextError()).code).toBe(ErrorCode.NotAuthenticated);
    expect(client.received.some((m) => m.type === 'ready')).toBe(false);

    const others = [
      '0000000000000000000000000000000000000000000000000000000000000000',
      '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
      'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
      'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
      '0100000000000000000000000000000000000000000000000000000000000080', // non-canonical identity
      'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p + 1
    ];
    for (const hex of others) {
      const c = fixture.track(await RawClient.open(relay.url));
      await c.next('challenge');
      c.send({ type: 'hello', v: PROTOCOL_VERSION, alg: 'Ed25519', pub: toBase64url(Buffer.from(hex, 'hex')) });
      c.send({ type: 'auth', sig: toBase64url(forged) });
      const error = await c.nextError();
      expect(error.message, hex).toMatch(/small-order|canonical/);
      await c.close();
    }
    expect(relay.stats().authenticatedTotal).toBe(0);
  });

  it('refuses upgrades outside the relay path', async () => {
    const relay = await fixture.start();
    await expect(RawClient.open(relay.url.replace('/ws', '/other'))).rejects.toThrow(/404/);
    const { client } = await connectAs(relay.url);
    fixture.track(client);
    expect(client.invalid).toEqual([]);
  });
});
