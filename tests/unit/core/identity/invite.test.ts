import { beforeAll, describe, expect, it } from 'vitest';
import { toBase64url } from '../../../../signaling/protocol/index.js';
import {
  InviteError,
  MAX_INVITE_CHARS,
  createInvite,
  generateIdentityKeyPair,
  parseInvite,
  type IdentityKeyPair,
  type InviteErrorCode,
} from '../../../../core/src/identity/index.js';

let ed: IdentityKeyPair;
let p256: IdentityKeyPair;
beforeAll(async () => {
  ed = await generateIdentityKeyPair({ extractable: false });
  p256 = await generateIdentityKeyPair({ extractable: false, algorithm: 'P-256' });
});

const RELAY = 'wss://relay.example.com:8443/ws';

function link(params: string): string {
  return `parley://invite?${params}`;
}
function edParams(extra = ''): string {
  return `v=1&alg=Ed25519&pub=${ed.publicKey.pub}&name=Alice${extra}`;
}

async function refusal(text: string): Promise<InviteError> {
  const error = await parseInvite(text).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected "${text.slice(0, 80)}" to be refused`).toBeInstanceOf(InviteError);
  const e = error as InviteError;
  expect(e.message.length).toBeGreaterThan(10);
  return e;
}
async function expectCode(text: string, code: InviteErrorCode, message?: RegExp): Promise<void> {
  const e = await refusal(text);
  expect(e.code, e.message).toBe(code);
  if (message) expect(e.message).toMatch(message);
}

describe('createInvite / parseInvite round trip', () => {
  it('round-trips an Ed25519 identity with a Unicode name and several relays', async () => {
    const name = 'Zoë 🚀 李小龍 (work) — مرحبا & co';
    const relays = [RELAY, 'ws://127.0.0.1:9000/ws', 'wss://[::1]:443/ws?room=a'];
    const text = createInvite({ publicKey: ed.publicKey, name, relays });
    expect(text.startsWith('parley://invite?v=1&alg=Ed25519&pub=')).toBe(true);
    // Nothing a chat client would cut a URL at.
    expect(text).toMatch(/^parley:\/\/invite\?[A-Za-z0-9%&=_-]+$/);
    const invite = await parseInvite(text);
    expect(invite).toEqual({ v: 1, key: ed.publicKey, id: ed.id, name, relays });
    // Deep links pass through WHATWG URL parsing (Electron main, the browser): it must not change them.
    expect(new URL(text).href).toBe(text);
    expect(new URL(text).protocol).toBe('parley:');
  });

  it('round-trips a P-256 identity, an empty name and no relays', async () => {
    const invite = await parseInvite(createInvite({ publicKey: p256.publicKey, name: '', relays: [] }));
    expect(invite).toEqual({ v: 1, key: p256.publicKey, id: p256.id, name: '', relays: [] });
  });

  it('accepts the link as people paste it', async () => {
    const text = createInvite({ publicKey: ed.publicKey, name: 'Alice Smith.', relays: [RELAY] });
    const variants = [
      `  ${text}\n`,
      `<${text}>`,
      `"${text}"`,
      `\`${text}\``,
      `< ${text} >`,
      `${text.slice(0, 50)}\n${text.slice(50, 100)}\r\n  ${text.slice(100)}`, // wrapped by a mail client
      `${text.slice(0, 60)}\u200B${text.slice(60)}`, // zero-width break hint
      `${text}.`,
      text.replace('parley://invite?', 'parley://invite/?'), // deep link with a trailing slash (Windows)
      text.replace('parley://', 'PARLEY://'),
      `Add me on Parley: ${text} thanks!`,
      `Add me on Parley:\n<${text}>\n-- Alice`,
      `my invite is "${text}".`,
    ];
    for (const v of variants) {
      const invite = await parseInvite(v);
      expect(invite.id).toBe(ed.id);
      expect(invite.name).toBe('Alice Smith.');
      expect(invite.relays).toEqual([RELAY]);
    }
  });

  it('ignores unknown parameters, de-duplicates relays and lower-cases scheme and host', async () => {
    const r = encodeURIComponent('WSS://Relay.Example.COM/Path');
    const invite = await parseInvite(link(`${edParams()}&relay=${r}&relay=${r}&future=1`));
    expect(invite.relays).toEqual(['wss://relay.example.com/Path']);
  });

  it('counts characters, not UTF-16 units, for the 64-character name limit', async () => {
    const emoji64 = '😀'.repeat(64);
    expect((await parseInvite(createInvite({ publicKey: ed.publicKey, name: emoji64, relays: [] }))).name).toBe(
      emoji64,
    );
    const padded = `   ${'a'.repeat(64)}   `;
    expect(
      (await parseInvite(link(`v=1&alg=Ed25519&pub=${ed.publicKey.pub}&name=${encodeURIComponent(padded)}`))).name,
    ).toBe('a'.repeat(64));
  });
});

describe('parseInvite refuses', () => {
  it('text that is not an invite', async () => {
    await expectCode('', 'not-an-invite');
    await expectCode('   ', 'not-an-invite');
    await expectCode('hello there', 'not-an-invite');
    await expectCode(`https://parley.example/invite?${edParams()}`, 'not-an-invite');
    await expectCode(`parley://contact?${edParams()}`, 'not-an-invite');
    await expectCode('parley://invite', 'not-an-invite');
  });

  it('unknown or missing versions', async () => {
    await expectCode(link(edParams().replace('v=1', 'v=2')), 'version', /newer version of Parley/);
    await expectCode(link(edParams().replace('v=1', 'v=0')), 'version');
    await expectCode(link(edParams().replace('v=1', 'v=1.0')), 'version');
    await expectCode(link(edParams().replace('v=1&', '')), 'malformed', /no version/);
    await expectCode(link(`v=1&${edParams()}`), 'malformed', /more than once/);
  });

  it('bad keys: algorithm, length, encoding, curve point', async () => {
    // Small-order (the identity point: R = identity, S = 0 would verify anything) and non-canonical points.
    await expectCode(
      link(edParams().replace(ed.publicKey.pub, toBase64url(Uint8Array.of(1, ...new Uint8Array(31))))),
      'key',
      /small-order/,
    );
    await expectCode(
      link(
        edParams().replace(ed.publicKey.pub, toBase64url(Uint8Array.of(0xee, ...new Uint8Array(30).fill(0xff), 0x7f))),
      ),
      'key',
      /canonical/,
    );
    await expectCode(link(edParams().replace('alg=Ed25519', 'alg=RSA')), 'key', /key type/);
    await expectCode(link(`v=1&alg=Ed25519&name=Alice`), 'key', /no public key/);
    await expectCode(
      link(edParams().replace(ed.publicKey.pub, toBase64url(new Uint8Array(31).fill(9)))),
      'key',
      /32 bytes, got 31/,
    );
    await expectCode(
      link(edParams().replace(ed.publicKey.pub, toBase64url(new Uint8Array(33).fill(9)))),
      'key',
      /32 bytes, got 33/,
    );
    await expectCode(
      link(edParams().replace(ed.publicKey.pub, `${ed.publicKey.pub.slice(0, 42)}$`)),
      'key',
      /base64url/,
    );
    await expectCode(
      link(edParams().replace(ed.publicKey.pub, `${ed.publicKey.pub.slice(0, 42)}+`)),
      'key',
      /base64url/,
    );
    // Last character with non-zero padding bits: another spelling of the same bytes.
    const last = ed.publicKey.pub.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const nonCanonical = alphabet[(alphabet.indexOf(last) & ~3) | 1]!;
    await expectCode(
      link(edParams().replace(ed.publicKey.pub, ed.publicKey.pub.slice(0, 42) + nonCanonical)),
      'key',
      /base64url/,
    );
    await expectCode(link(`v=1&alg=P-256&pub=${ed.publicKey.pub}&name=A`), 'key', /65 bytes/);
    const notOnCurve = new Uint8Array(65).fill(7);
    notOnCurve[0] = 4;
    await expectCode(link(`v=1&alg=P-256&pub=${toBase64url(notOnCurve)}&name=A`), 'key', /invalid/);
    await expectCode(link(`${edParams()}&pub=${p256.publicKey.pub}`), 'malformed', /more than once/);
  });

  it('bad names', async () => {
    await expectCode(link(edParams().replace('name=Alice', `name=${'b'.repeat(65)}`)), 'name', /too long \(65/);
    await expectCode(link(edParams().replace('name=Alice', `name=${'😀'.repeat(65)}`)), 'name', /too long/);
    await expectCode(link(edParams().replace('name=Alice', 'name=Al%00ice')), 'name', /control/);
    await expectCode(link(edParams().replace('name=Alice', 'name=Al%0Aice')), 'name', /control/);
    await expectCode(link(edParams().replace('name=Alice', 'name=Al%1Bice')), 'name', /control/);
    await expectCode(
      link(edParams().replace('name=Alice', `name=${encodeURIComponent('Bob\u202Eevil')}`)),
      'name',
      /direction/,
    );
    await expectCode(link(edParams().replace('name=Alice', 'name=Al%E0%A4%A')), 'malformed', /%-encoding/);
    await expectCode(link(edParams().replace('name=Alice', 'name=%ED%A0%80')), 'malformed'); // encoded lone surrogate
  });

  it('bad relays', async () => {
    const withRelay = (r: string) => link(`${edParams()}&relay=${encodeURIComponent(r)}`);
    // https:// and a bare host are accepted and normalised (tests/unit/core/relay/url.test.ts); other schemes are not.
    await expectCode(withRelay('ftp://relay.example.com/ws'), 'relay', /ws:\/\/, wss:\/\//);
    await expectCode(withRelay('wss://'), 'relay', /not a valid relay/);
    await expectCode(withRelay('wss://:443/ws'), 'relay', /not a valid relay/);
    await expectCode(withRelay('wss://trusted.example@evil.example/ws'), 'relay', /user name/);
    await expectCode(withRelay('wss://relay.example.com/a b'), 'relay', /not a valid relay/);
    await expectCode(withRelay('wss://relay.example.com/#frag'), 'relay', /not a valid relay/);
    await expectCode(withRelay('wss://relay.example.com:70000/ws'), 'relay', /port/);
    await expectCode(withRelay('wss://rélay.example.com/ws'), 'relay', /not a valid relay/);
    await expectCode(withRelay(`wss://relay.example.com/${'a'.repeat(500)}`), 'relay', /too long/);
    const five = ['a', 'b', 'c', 'd', 'e'].map((h) => `relay=${encodeURIComponent(`wss://${h}.example/ws`)}`).join('&');
    await expectCode(link(`${edParams()}&${five}`), 'relay', /too many relays/);
  });

  it('links over 2,048 characters and damaged parameters', async () => {
    const long = link(`${edParams()}&pad=${'x'.repeat(MAX_INVITE_CHARS)}`);
    await expectCode(long, 'too-long', /2048/);
    await expectCode('x'.repeat(100_000), 'too-long');
    await expectCode(link(`${edParams()}&oops`), 'malformed', /no value/);
    await expectCode(link(`${edParams()}&=x`), 'malformed', /no value/);
  });
});

describe('createInvite', () => {
  it('refuses what parseInvite would refuse', () => {
    const err = (fn: () => unknown): InviteError => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(InviteError);
        return e as InviteError;
      }
      throw new Error('expected createInvite to throw');
    };
    expect(err(() => createInvite({ publicKey: ed.publicKey, name: 'x'.repeat(65), relays: [] })).code).toBe('name');
    expect(err(() => createInvite({ publicKey: ed.publicKey, name: 'ok', relays: ['ftp://x.example'] })).code).toBe(
      'relay',
    );
    expect(err(() => createInvite({ publicKey: { alg: 'Ed25519', pub: 'AAAA' }, name: 'ok', relays: [] })).code).toBe(
      'key',
    );
    // Four valid relays near the per-relay limit still make a link over 2,048 characters once encoded.
    const relays = ['a', 'b', 'c', 'd'].map((h) => `wss://${h}.example/${'p/'.repeat(240)}`);
    expect(err(() => createInvite({ publicKey: ed.publicKey, name: 'ok', relays })).code).toBe('too-long');
  });
});
